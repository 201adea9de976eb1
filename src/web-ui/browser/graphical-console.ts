/**
 * The node's screen with noVNC over GET /api/v1/nodes/:name/console/graphical (a WebSocket carrying
 * RFB; the orchestrator holds the VNC password). Keyboard and mouse go to the VM when the screen has
 * focus; Ctrl-Alt-Del is a button (the browser keeps that combination); "Fit" scales it to the window.
 */
import RFB from '@novnc/novnc';
import { socketUrl } from './api';
import { h } from './dom';

const RECONNECT_MS = 2_000;

export function graphicalConsole(name: string): { element: HTMLElement; stop: () => void } {
  const screen = h('div', { class: 'screen', id: 'vnc-screen', 'aria-label': `Screen of ${name}` });
  const status = h('span', { class: 'console-status', id: 'vnc-status', role: 'status' }, 'connecting…');
  const ctrlAltDel = h('button', { type: 'button', id: 'vnc-cad', title: 'Send Ctrl-Alt-Del to the VM' }, 'Ctrl-Alt-Del');
  const fit = h('input', { type: 'checkbox', id: 'vnc-fit', checked: true });
  const reconnect = h('button', { type: 'button', id: 'vnc-reconnect', hidden: true }, 'Reconnect');
  let rfb: RFB | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const connect = (): void => {
    timer = null;
    reconnect.hidden = true;
    status.textContent = 'connecting…';
    const client = new RFB(screen, socketUrl(`/api/v1/nodes/${encodeURIComponent(name)}/console/graphical`), { shared: true });
    client.scaleViewport = fit.checked;
    client.focusOnClick = true;
    client.background = '#000';
    client.addEventListener('connect', () => (status.textContent = 'connected'));
    client.addEventListener('disconnect', (event: Event) => {
      const clean = (event as CustomEvent<{ clean: boolean }>).detail?.clean === true;
      rfb = null;
      if (stopped) return;
      status.textContent = clean ? 'disconnected' : 'connection lost; retrying';
      reconnect.hidden = false;
      // The VM may be off or restarting: try again on a timer (noVNC does not reconnect itself).
      timer = setTimeout(connect, RECONNECT_MS);
    });
    client.addEventListener('securityfailure', (event: Event) => {
      status.textContent = `refused: ${(event as CustomEvent<{ reason?: string }>).detail?.reason ?? 'security failure'}`;
    });
    rfb = client;
  };
  ctrlAltDel.addEventListener('click', () => {
    rfb?.sendCtrlAltDel();
    rfb?.focus();
  });
  fit.addEventListener('change', () => {
    if (rfb !== null) rfb.scaleViewport = fit.checked;
    screen.classList.toggle('native', !fit.checked);
  });
  reconnect.addEventListener('click', () => {
    if (timer !== null) clearTimeout(timer);
    rfb?.disconnect();
    connect();
  });
  connect();
  const element = h(
    'section',
    { class: 'panel console graphical', 'aria-label': 'Graphical console' },
    h('div', { class: 'console-bar' }, h('h2', {}, 'Screen'), status, h('span', { class: 'spacer' }), ctrlAltDel, h('label', { class: 'check' }, fit, ' Fit to window'), reconnect),
    screen,
  );
  return {
    element,
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      rfb?.disconnect();
    },
  };
}
