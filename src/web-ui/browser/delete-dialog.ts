/**
 * Delete with confirmation: a modal dialog; the disk (purge) goes only when its box is ticked and the
 * node's name is typed again.
 */
import { api, ApiError } from './api';
import { h } from './dom';

export function confirmDelete(name: string, onDone: (message: string) => void): void {
  const purge = h('input', { type: 'checkbox', name: 'purge', id: 'delete-purge' });
  const typed = h('input', { type: 'text', name: 'confirm', id: 'delete-confirm', autocomplete: 'off', placeholder: name, disabled: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const confirm = h('button', { type: 'submit', class: 'danger', id: 'delete-ok' }, 'Delete');
  const cancel = h('button', { type: 'button', id: 'delete-cancel' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, `Delete node ${name}?`),
    h('p', {}, 'The container goes; without purge the disk volume stays, and a node created again with this name boots from it.'),
    h('label', { class: 'check' }, purge, ' Also delete the disk (purge): its data is lost'),
    h('label', { class: 'field' }, h('span', { class: 'label' }, `To purge, type the node's name`), typed),
    error,
    h('div', { class: 'actions' }, cancel, confirm),
  );
  const dialog = h('dialog', { class: 'confirm', 'aria-label': `Delete ${name}` }, form);
  const update = (): void => {
    typed.disabled = !purge.checked;
    confirm.disabled = purge.checked && typed.value !== name;
    confirm.textContent = purge.checked ? 'Delete with disk' : 'Delete';
  };
  purge.addEventListener('change', update);
  typed.addEventListener('input', update);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    confirm.disabled = true;
    confirm.textContent = 'Deleting…';
    api('DELETE', `/nodes/${encodeURIComponent(name)}${purge.checked ? '?purge=true' : ''}`)
      .then(() => {
        onDone(`deleted${purge.checked ? ' with its disk' : ' (disk kept)'}`);
        dialog.close();
      })
      .catch((failure: unknown) => {
        error.textContent = failure instanceof ApiError ? failure.message : String(failure);
        update();
      });
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  update();
}
