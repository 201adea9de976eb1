/** The node page's smaller panels: addresses to copy, boot override, virtual media, events. */
import { api, ApiError, type NodeEvent, type NodeView } from './api';
import { copyable, h, replace } from './dom';
import { redfishPortOf } from './fleet-page';

function failure(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

export function addressesPanel(node: NodeView): HTMLElement {
  const redfish = redfishPortOf(node);
  const ipmi = `${node.ipmi.host}:${node.ipmi.port}`;
  const rows: [string, HTMLElement][] = [
    ['IPMI', copyable(ipmi, 'IPMI address')],
    ['ipmitool', copyable(`ipmitool -I lanplus -H ${node.ipmi.host} -p ${node.ipmi.port} -U ${node.ipmi.user} -P <password> power status`, 'ipmitool command')],
  ];
  if (node.vnc !== null) rows.push(['VNC', copyable(`${node.vnc.host}:${node.vnc.port}`, 'VNC address')]);
  if (redfish !== null) rows.splice(2, 0, ['Redfish', copyable(`https://${node.redfish?.host ?? node.ipmi.host}:${redfish}/redfish/v1/`, 'Redfish address')]);
  return h(
    'section',
    { class: 'panel addresses', 'aria-label': 'Addresses' },
    h('h2', {}, 'Addresses'),
    h('dl', {}, ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])),
    h('p', { class: 'hint' }, `BMC user ${node.ipmi.user}; the VNC password: GET /api/v1/nodes/${node.name}/vnc.`),
  );
}

export function bootPanel(name: string): HTMLElement {
  const device = h('select', { id: 'boot-device', name: 'device' }, ...['pxe', 'disk', 'cdrom', 'bios', 'none'].map((value) => h('option', { value }, value)));
  const persistent = h('input', { type: 'checkbox', id: 'boot-persistent' });
  const efi = h('input', { type: 'checkbox', id: 'boot-efi' });
  const result = h('span', { class: 'result', role: 'status', id: 'boot-result' });
  const form = h(
    'form',
    { class: 'inline' },
    h('label', {}, 'Device ', device),
    h('label', { class: 'check' }, persistent, ' persistent'),
    h('label', { class: 'check' }, efi, ' UEFI'),
    h('button', { type: 'submit' }, 'Set'),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    result.className = 'result pending';
    result.textContent = 'setting…';
    api<{ device: string; persistent: boolean; efi: boolean }>('POST', `/nodes/${encodeURIComponent(name)}/boot`, { device: device.value, persistent: persistent.checked, efi: efi.checked })
      .then((set) => {
        result.className = 'result ok';
        result.textContent = `next boot: ${set.device}${set.persistent ? ' (persistent)' : ' (once)'}${set.efi ? ', UEFI' : ''}`;
      })
      .catch((error: unknown) => {
        result.className = 'result error';
        result.textContent = failure(error);
      });
  });
  return h('section', { class: 'panel boot', 'aria-label': 'Boot override' }, h('h2', {}, 'Boot override'), form);
}

interface MediaState {
  readonly inserted: boolean;
  readonly image: string | null;
}

export function mediaPanel(name: string): HTMLElement {
  const url = h('input', { type: 'url', id: 'media-url', placeholder: 'http://host/path/image.iso', 'aria-label': 'Image URL' });
  const insert = h('button', { type: 'submit', id: 'media-insert' }, 'Insert');
  const eject = h('button', { type: 'button', id: 'media-eject' }, 'Eject');
  const current = h('p', { class: 'hint', id: 'media-current' });
  const result = h('span', { class: 'result', role: 'status', id: 'media-result' });
  const path = `/nodes/${encodeURIComponent(name)}/media`;
  const show = (state: MediaState): void => {
    current.textContent = state.inserted ? `Inserted: ${state.image ?? ''}` : 'No virtual media inserted.';
  };
  const run = (work: Promise<MediaState>, doing: string): void => {
    result.className = 'result pending';
    result.textContent = doing;
    work
      .then((state) => {
        show(state);
        result.className = 'result ok';
        result.textContent = 'done';
      })
      .catch((error: unknown) => {
        result.className = 'result error';
        result.textContent = failure(error);
      });
  };
  const form = h('form', { class: 'inline' }, url, insert, eject, result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(api<MediaState>('POST', path, { image: url.value.trim() }), 'inserting…');
  });
  eject.addEventListener('click', () => run(api<MediaState>('DELETE', path), 'ejecting…'));
  api<MediaState>('GET', path).then(show).catch((error: unknown) => (current.textContent = `Virtual media: ${failure(error)}`));
  return h('section', { class: 'panel media', 'aria-label': 'Virtual media' }, h('h2', {}, 'Virtual media (CD)'), current, form);
}

export function eventsPanel(): { element: HTMLElement; add: (event: NodeEvent) => void; reset: (events: readonly NodeEvent[]) => void } {
  const list = h('ol', { class: 'events', id: 'events', reversed: true });
  const line = (event: NodeEvent): HTMLElement =>
    h('li', { 'data-type': event.type }, h('time', { datetime: event.at }, new Date(event.at).toLocaleTimeString()), h('span', { class: `badge event ${event.type}` }, event.type), h('span', {}, event.message));
  return {
    element: h('section', { class: 'panel events-panel', 'aria-label': 'Events' }, h('h2', {}, 'Events'), list),
    add: (event) => list.prepend(line(event)),
    reset: (events) => replace(list, ...[...events].reverse().map(line)),
  };
}
