/**
 * The fleet page: every node with its live state and power (from GET /api/v1/events), ports, its host, a
 * thumbnail of its screen, power buttons, delete; a filter for fleets of hundreds; the create form.
 * Rows are made once and updated in place, so hundreds of power changes a second stay cheap.
 */
import { nodePath, watchFleet, type FleetMessage, type NodeView } from './api';
import { createForm } from './create-form';
import { confirmDelete } from './delete-dialog';
import { h, replace } from './dom';
import { powerBadge, powerButtons } from './power-buttons';
import { Thumbnails } from './thumbnails';

interface Row {
  readonly element: HTMLTableRowElement;
  readonly state: HTMLElement;
  readonly power: HTMLElement;
  readonly ports: HTMLElement;
  readonly host: HTMLElement;
  readonly result: HTMLElement;
  readonly thumbnail: HTMLImageElement;
  node: NodeView;
  text: string;
}

export function redfishPortOf(node: NodeView): number | null {
  return node.redfish?.port ?? node.redfishPort ?? null;
}

function searchText(node: NodeView): string {
  return [node.name, node.state, node.powerState, node.machine, node.ipmi.port, node.vnc?.port ?? '', redfishPortOf(node) ?? '', node.host ?? '', node.ipmi.host, node.lastError ?? ''].join(' ').toLowerCase();
}

export function fleetPage(main: HTMLElement, setLive: (live: boolean) => void): () => void {
  const rows = new Map<string, Row>();
  const thumbnails = new Thumbnails();
  const search = h('input', { type: 'search', id: 'filter', placeholder: 'Filter: name, state, power, port, host…', 'aria-label': 'Filter nodes' });
  const powerFilter = h('select', { id: 'filter-power', 'aria-label': 'Power state' }, ...['any power', 'on', 'off', 'unknown'].map((value) => h('option', { value: value === 'any power' ? '' : value }, value)));
  const count = h('span', { class: 'count', id: 'count', 'aria-live': 'polite' });
  const body = h('tbody', { id: 'nodes' });
  const empty = h('p', { class: 'empty', id: 'empty' }, 'No nodes yet: create one below.');
  const form = createForm(() => undefined);
  const toggle = h('button', { type: 'button', class: 'primary', id: 'new-node', 'aria-expanded': 'false' }, 'New node');
  const formSection = h('section', { class: 'panel create', id: 'create', hidden: true }, h('h2', {}, 'New node'), form);
  toggle.addEventListener('click', () => {
    formSection.hidden = !formSection.hidden;
    toggle.setAttribute('aria-expanded', String(!formSection.hidden));
    if (!formSection.hidden) form.querySelector('input')?.focus();
  });

  const table = h(
    'table',
    { class: 'fleet', 'aria-label': 'Nodes' },
    h('thead', {}, h('tr', {}, ...['Screen', 'Node', 'State', 'Power', 'Ports', 'Host', 'Actions'].map((title) => h('th', { scope: 'col' }, title)))),
    body,
  );
  replace(main, h('div', { class: 'toolbar' }, h('h1', {}, 'Fleet'), search, powerFilter, count, h('span', { class: 'spacer' }), toggle), formSection, table, empty);

  const matches = (row: Row): boolean => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    return (powerFilter.value === '' || row.node.powerState === powerFilter.value) && words.every((word) => row.text.includes(word));
  };
  let countQueued = false;
  const updateCount = (): void => {
    if (countQueued) return;
    countQueued = true;
    requestAnimationFrame(() => {
      countQueued = false;
      let shown = 0;
      for (const row of rows.values()) if (!row.element.hidden) shown += 1;
      count.textContent = shown === rows.size ? `${rows.size} node${rows.size === 1 ? '' : 's'}` : `${shown} of ${rows.size} nodes`;
      empty.hidden = rows.size > 0;
    });
  };
  const applyFilter = (): void => {
    for (const row of rows.values()) row.element.hidden = !matches(row);
    updateCount();
  };
  search.addEventListener('input', applyFilter);
  powerFilter.addEventListener('change', applyFilter);

  /** Rewrites only the cells whose content changed: a power flip touches one badge, not the row. */
  const fill = (row: Row, node: NodeView, fresh = false): void => {
    const before = row.node;
    row.node = node;
    row.text = searchText(node);
    if (fresh || before.powerState !== node.powerState || before.bmcReachable !== node.bmcReachable) {
      row.element.dataset['power'] = node.powerState;
      replace(row.power, powerBadge(node.powerState), node.bmcReachable === false ? h('span', { class: 'unreachable' }, ' BMC unreachable') : null);
    }
    if (fresh || before.state !== node.state || before.lastError !== node.lastError) {
      row.element.dataset['state'] = node.state;
      replace(row.state, h('span', { class: `badge state ${node.state}` }, node.state), node.lastError === null ? null : h('span', { class: 'last-error', title: node.lastError }, ' ⚠'));
    }
    const redfish = redfishPortOf(node);
    if (fresh || before.ipmi.port !== node.ipmi.port || before.vnc?.port !== node.vnc?.port || redfishPortOf(before) !== redfish) {
      replace(row.ports, h('span', {}, `IPMI ${node.ipmi.port}/udp`), node.vnc === null ? null : h('span', {}, `VNC ${node.vnc.port}`), redfish === null ? null : h('span', {}, `Redfish ${redfish}`));
    }
    if (fresh || before.host !== node.host || before.ipmi.host !== node.ipmi.host) {
      // The host's name, and the address its ports answer at (the ports above are on it).
      replace(row.host, h('span', { class: 'host-name' }, node.host ?? '–'), h('span', { class: 'host-address' }, node.ipmi.host));
    }
    thumbnails.update(row.thumbnail, node);
    const hidden = !matches(row);
    if (row.element.hidden !== hidden) row.element.hidden = hidden;
  };

  const insert = (node: NodeView): void => {
    const existing = rows.get(node.name);
    if (existing !== undefined) {
      fill(existing, node);
      return;
    }
    const cells = { state: h('td', { class: 'state' }), power: h('td', { class: 'power' }), ports: h('td', { class: 'ports' }), host: h('td', { class: 'host' }) };
    const result = h('span', { class: 'result', role: 'status' });
    const thumbnail = h('img', { class: 'thumb', alt: '', title: `Screen of ${node.name}`, width: 96, height: 72, decoding: 'async' });
    const remove = h('button', { type: 'button', class: 'delete danger', title: `Delete ${node.name}` }, 'Delete');
    remove.addEventListener('click', () => confirmDelete(node.name, (message) => (result.textContent = message)));
    const element = h(
      'tr',
      { 'data-name': node.name },
      h('td', { class: 'thumb-cell' }, h('a', { href: nodePath(node.name), tabindex: -1 }, thumbnail)),
      h('th', { scope: 'row', class: 'name' }, h('a', { href: nodePath(node.name) }, node.name), h('span', { class: 'machine' }, ` ${node.machine}`)),
      cells.state,
      cells.power,
      cells.ports,
      cells.host,
      h('td', { class: 'row-actions' }, powerButtons(node.name, result), remove, result),
    );
    const row: Row = { element, ...cells, result, thumbnail, node, text: '' };
    rows.set(node.name, row);
    fill(row, node, true);
    thumbnails.observe(thumbnail, node);
    // Sorted by name, as the API lists them.
    const after = [...rows.keys()].sort().find((name) => name > node.name);
    body.insertBefore(element, after === undefined ? null : (rows.get(after)?.element ?? null));
  };

  const apply = (message: FleetMessage): void => {
    if (message.kind === 'snapshot') {
      const names = new Set(message.nodes.map((node) => node.name));
      for (const [name, row] of rows) if (!names.has(name)) { row.element.remove(); rows.delete(name); }
      for (const node of message.nodes) insert(node);
    } else if (message.kind === 'node') insert(message.node);
    else if (message.kind === 'node-removed') {
      const row = rows.get(message.name);
      row?.element.remove();
      if (row !== undefined) thumbnails.forget(row.thumbnail);
      rows.delete(message.name);
    }
  };
  // Messages are applied once per frame, together: a burst of power changes costs one layout.
  let queue: FleetMessage[] = [];
  const flush = (): void => {
    const batch = queue;
    queue = [];
    for (const message of batch) apply(message);
    updateCount();
  };
  const stop = watchFleet((message) => {
    if (message.kind === 'node-event') return;
    if (queue.length === 0) requestAnimationFrame(flush);
    queue.push(message);
  }, setLive);
  updateCount();
  return () => {
    stop();
    thumbnails.stop();
  };
}
