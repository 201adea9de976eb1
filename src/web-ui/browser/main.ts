/** The web UI's entry: checks the session, then draws the page the path names (/, /nodes/:name, /login). */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { api } from './api';
import { fleetPage } from './fleet-page';
import { loginPage, safeNext } from './login-page';
import { stampStyleNonces } from './style-nonce';

stampStyleNonces();

interface SessionState {
  readonly tokenRequired: boolean;
  readonly authenticated: boolean;
}

async function start(): Promise<void> {
  const main = document.getElementById('main') as HTMLElement;
  const live = document.getElementById('live') as HTMLElement;
  const logout = document.getElementById('logout') as HTMLButtonElement;
  const setLive = (on: boolean): void => {
    live.className = on ? 'live on' : 'live off';
    live.textContent = on ? 'live' : 'reconnecting…';
  };
  const session = await api<SessionState>('GET', '/session');
  const path = location.pathname;
  if (path === '/login') {
    if (session.authenticated) location.replace(safeNext(new URLSearchParams(location.search).get('next')));
    else loginPage(main);
    return;
  }
  if (!session.authenticated) {
    location.replace(`/login?next=${encodeURIComponent(path)}`);
    return;
  }
  if (session.tokenRequired) {
    logout.hidden = false;
    logout.addEventListener('click', () => void api('DELETE', '/session').then(() => location.assign('/login')));
  }
  const node = /^\/nodes\/([^/]+)$/.exec(path);
  if (node !== null) {
    const name = decodeURIComponent(node[1] as string);
    document.title = `${name} · bmcfleet`;
    // The consoles' libraries (noVNC, xterm.js) load only on a node page: the fleet page stays small.
    const { nodePage } = await import('./node-page');
    nodePage(main, name, setLive);
  } else fleetPage(main, setLive);
}

void start();
