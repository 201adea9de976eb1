/**
 * A node's page: its state and power (live), power buttons, the graphical and serial consoles,
 * boot override, virtual media, addresses to copy, and its events as they happen.
 */
import { api, ApiError, watchFleet, type NodeEvent, type NodeView } from './api';
import { h, replace } from './dom';
import { graphicalConsole } from './graphical-console';
import { addressesPanel, bootPanel, eventsPanel, mediaPanel } from './node-panels';
import { powerBadge, powerButtons } from './power-buttons';
import { serialConsole } from './serial-console';

export function nodePage(main: HTMLElement, name: string, setLive: (live: boolean) => void): () => void {
  const stops: (() => void)[] = [];
  const heading = h('h1', {}, name);
  const badges = h('span', { class: 'badges', id: 'node-badges' });
  const result = h('span', { class: 'result', role: 'status', id: 'power-result' });
  const events = eventsPanel();
  const showState = (node: NodeView): void => {
    replace(badges, h('span', { class: `badge state ${node.state}` }, node.state), powerBadge(node.powerState), h('span', { class: 'machine' }, `${node.machine}, ${node.memoryMiB} MiB, ${node.cpus} vCPU, ${node.bootMode}`));
    badges.dataset['power'] = node.powerState;
  };
  replace(main, h('p', { class: 'back' }, h('a', { href: '/' }, '← Fleet')), h('div', { class: 'toolbar' }, heading, badges), h('p', { class: 'loading' }, 'Loading…'));

  api<NodeView>('GET', `/nodes/${encodeURIComponent(name)}`)
    .then(async (node) => {
      const graphical = graphicalConsole(name);
      const serial = serialConsole(name);
      stops.push(graphical.stop, serial.stop);
      replace(
        main,
        h('p', { class: 'back' }, h('a', { href: '/' }, '← Fleet')),
        h('div', { class: 'toolbar' }, heading, badges, h('span', { class: 'spacer' }), powerButtons(name, result)),
        h('p', { class: 'power-line' }, result),
        h('div', { class: 'consoles' }, graphical.element, serial.element),
        h('div', { class: 'side' }, addressesPanel(node), bootPanel(name), mediaPanel(name), events.element),
      );
      showState(node);
      events.reset(await api<NodeEvent[]>('GET', `/nodes/${encodeURIComponent(name)}/events`));
      stops.push(
        watchFleet((message) => {
          if (message.kind === 'node' && message.node.name === name) showState(message.node);
          else if (message.kind === 'snapshot') {
            const current = message.nodes.find((candidate) => candidate.name === name);
            if (current !== undefined) showState(current);
          } else if (message.kind === 'node-removed' && message.name === name) {
            replace(badges, h('span', { class: 'badge state deleted' }, 'deleted'));
          } else if (message.kind === 'node-event' && message.event.name === name) events.add(message.event);
        }, setLive),
      );
    })
    .catch((error: unknown) => {
      replace(main, h('p', { class: 'back' }, h('a', { href: '/' }, '← Fleet')), h('p', { class: 'form-error', role: 'alert' }, error instanceof ApiError ? error.message : String(error)));
    });
  return () => {
    for (const stop of stops) stop();
  };
}
