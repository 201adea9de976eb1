/** The log-in page: trades API_TOKEN for the session cookie (POST /api/v1/session), then goes on. */
import { api, ApiError } from './api';
import { h, replace } from './dom';

/** Only a path of this site (never `//elsewhere`): where to go after logging in. */
export function safeNext(raw: string | null): string {
  return raw !== null && /^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(raw) && !raw.startsWith('/login') ? raw : '/';
}

export function loginPage(main: HTMLElement): void {
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { class: 'panel login', 'aria-label': 'Log in' },
    h('h1', {}, 'Log in'),
    h('p', {}, 'This orchestrator asks for its API token (API_TOKEN). The browser keeps a session cookie, never the token.'),
    h('label', { class: 'field', for: 'token' }, h('span', { class: 'label' }, 'API token'), token),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    api('POST', '/session', { token: token.value })
      .then(() => location.assign(safeNext(new URLSearchParams(location.search).get('next'))))
      .catch((failure: unknown) => {
        error.textContent = failure instanceof ApiError && failure.status === 401 ? 'That is not the API token.' : String(failure instanceof Error ? failure.message : failure);
        token.select();
      })
      .finally(() => (submit.disabled = false));
  });
  replace(main, form);
  token.focus();
}
