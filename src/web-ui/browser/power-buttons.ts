/** Power buttons (on, off, soft, reset, cycle) that show the BMC's answer next to them. */
import { api, ApiError } from './api';
import { h } from './dom';

export const POWER_ACTIONS = ['on', 'off', 'soft', 'reset', 'cycle'] as const;
const TITLES: Readonly<Record<(typeof POWER_ACTIONS)[number], string>> = {
  on: 'Power on',
  off: 'Power off (hard)',
  soft: 'ACPI power button: the guest shuts down',
  reset: 'Hard reset',
  cycle: 'Power off, then on',
};

export function powerButtons(name: string, result: HTMLElement): HTMLElement {
  const group = h('span', { class: 'power-buttons', role: 'group', 'aria-label': `Power ${name}` });
  for (const action of POWER_ACTIONS) {
    const button = h('button', { type: 'button', class: `power-${action}`, title: TITLES[action], 'data-action': action }, action);
    button.addEventListener('click', () => {
      button.disabled = true;
      result.className = 'result pending';
      result.textContent = `${action}…`;
      api<{ powerState: string }>('POST', `/nodes/${encodeURIComponent(name)}/power`, { action })
        .then((answer) => {
          result.className = 'result ok';
          result.textContent = `${action}: done, power ${answer.powerState}`;
        })
        .catch((error: unknown) => {
          result.className = 'result error';
          result.textContent = `${action} failed: ${error instanceof ApiError ? error.message : String(error)}`;
        })
        .finally(() => (button.disabled = false));
    });
    group.appendChild(button);
  }
  return group;
}

export function powerBadge(state: string): HTMLElement {
  return h('span', { class: `badge power ${state}`, 'data-power': state }, state);
}
