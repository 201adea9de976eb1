/**
 * The create form: POST /api/v1/nodes with the fields given; the API's validation messages (each
 * starts with the field it is about) are shown next to their field, the rest above the buttons.
 */
import { api, ApiError, type NodeView } from './api';
import { h } from './dom';

interface Field {
  readonly name: string;
  readonly label: string;
  readonly input: HTMLInputElement | HTMLSelectElement;
  readonly kind: 'text' | 'number' | 'boolean';
}

function select(name: string, options: readonly string[]): HTMLSelectElement {
  return h('select', { name, id: `create-${name}` }, ...options.map((option) => h('option', { value: option }, option === '' ? '(default)' : option)));
}

function input(name: string, type: string, placeholder = ''): HTMLInputElement {
  return h('input', { name, id: `create-${name}`, type, placeholder, autocomplete: 'off' });
}

/** The field a message is about: class-validator's messages begin with the property name. */
export function fieldOfMessage(message: string, names: readonly string[]): string | null {
  const first = /^([A-Za-z]+)/.exec(message)?.[1];
  return first !== undefined && names.includes(first) ? first : null;
}

export function createForm(onCreated: (node: NodeView & { generatedIpmiPassword?: string }) => void): HTMLFormElement {
  const fields: Field[] = [
    { name: 'name', label: 'Name', input: input('name', 'text', 'node1'), kind: 'text' },
    { name: 'machine', label: 'Machine', input: select('machine', ['qemu', 'sim']), kind: 'text' },
    { name: 'memoryMiB', label: 'Memory (MiB)', input: input('memoryMiB', 'number', '2048'), kind: 'number' },
    { name: 'cpus', label: 'vCPUs', input: input('cpus', 'number', '2'), kind: 'number' },
    { name: 'diskSizeGiB', label: 'Disk (GiB)', input: input('diskSizeGiB', 'number', '20'), kind: 'number' },
    { name: 'cdrom', label: 'CD-ROM (ISO in ISO_DIR)', input: input('cdrom', 'text', 'debian-12.iso'), kind: 'text' },
    { name: 'bootMode', label: 'Firmware', input: select('bootMode', ['', 'bios', 'uefi']), kind: 'text' },
    { name: 'enableKvm', label: 'KVM', input: select('enableKvm', ['', 'auto', 'true', 'false']), kind: 'text' },
    { name: 'ipmiUser', label: 'BMC user', input: input('ipmiUser', 'text', 'admin'), kind: 'text' },
    { name: 'ipmiPassword', label: 'BMC password', input: input('ipmiPassword', 'password', 'generated when empty'), kind: 'text' },
    { name: 'powerOnAtStart', label: 'Power on at start', input: input('powerOnAtStart', 'checkbox'), kind: 'boolean' },
  ];
  const errors = new Map<string, HTMLElement>();
  const formError = h('p', { class: 'form-error', role: 'alert', id: 'create-error' });
  const created = h('p', { class: 'form-ok', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create node');
  const form = h('form', { class: 'create-form', novalidate: true, 'aria-label': 'Create a node' });
  const grid = h('div', { class: 'fields' });
  for (const field of fields) {
    const error = h('span', { class: 'field-error', id: `create-${field.name}-error`, role: 'alert' });
    errors.set(field.name, error);
    field.input.setAttribute('aria-describedby', error.id);
    grid.appendChild(h('label', { class: `field field-${field.kind}`, for: field.input.id }, h('span', { class: 'label' }, field.label), field.input, error));
  }
  form.append(grid, formError, h('div', { class: 'actions' }, submit), created);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = {};
    for (const field of fields) {
      const value = field.input instanceof HTMLInputElement && field.kind === 'boolean' ? field.input.checked : field.input.value.trim();
      if (value === '' || value === false) continue;
      // Numbers go as typed when they are not numbers, so the API names the rule they break.
      body[field.name] = field.kind === 'number' && /^-?[0-9]+(\.[0-9]+)?$/.test(String(value)) ? Number(value) : value;
    }
    for (const error of errors.values()) error.textContent = '';
    for (const field of fields) field.input.removeAttribute('aria-invalid');
    formError.textContent = '';
    created.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Creating…';
    api<NodeView & { generatedIpmiPassword?: string }>('POST', '/nodes', body)
      .then((node) => {
        created.textContent = node.generatedIpmiPassword === undefined
          ? `Node ${node.name} created: IPMI ${node.ipmi.host}:${node.ipmi.port}.`
          : `Node ${node.name} created: IPMI ${node.ipmi.host}:${node.ipmi.port}, user ${node.ipmi.user}, generated password ${node.generatedIpmiPassword} (shown once: keep it).`;
        for (const field of fields) if (field.name === 'name' || field.name === 'ipmiPassword') field.input.value = '';
        onCreated(node);
      })
      .catch((error: unknown) => {
        const messages = error instanceof ApiError ? error.messages : [String(error)];
        const rest: string[] = [];
        for (const message of messages) {
          const name = fieldOfMessage(message, fields.map((field) => field.name));
          const target = name === null ? undefined : errors.get(name);
          if (target === undefined) rest.push(message);
          else {
            target.textContent = target.textContent === '' ? message : `${target.textContent}; ${message}`;
            fields.find((field) => field.name === name)?.input.setAttribute('aria-invalid', 'true');
          }
        }
        formError.textContent = rest.join('; ');
      })
      .finally(() => {
        submit.disabled = false;
        submit.textContent = 'Create node';
      });
  });
  return form;
}
