/**
 * The node's serial console with xterm.js over GET /api/v1/nodes/:name/console/serial (a WebSocket of
 * raw bytes: first the recent history, then the live output; what is typed goes to the serial port).
 * A closed socket is opened again after a pause; the history then repeats, so the terminal is cleared.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { socketUrl } from './api';
import { h } from './dom';

const RECONNECT_MS = 2_000;

export function serialConsole(name: string): { element: HTMLElement; stop: () => void; terminal: Terminal } {
  const host = h('div', { class: 'terminal', id: 'serial-terminal' });
  const status = h('span', { class: 'console-status', id: 'serial-status', role: 'status' }, 'connecting…');
  const terminal = new Terminal({ convertEol: false, scrollback: 10_000, fontSize: 14, cursorBlink: true, theme: { background: '#101418' } });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  const encoder = new TextEncoder();
  let socket: WebSocket | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const connect = (): void => {
    timer = null;
    status.textContent = 'connecting…';
    const ws = new WebSocket(socketUrl(`/api/v1/nodes/${encodeURIComponent(name)}/console/serial`));
    ws.binaryType = 'arraybuffer';
    let first = true;
    ws.onopen = () => (status.textContent = 'connected');
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (first) {
        first = false;
        terminal.reset();
      }
      terminal.write(typeof event.data === 'string' ? event.data : new Uint8Array(event.data));
    };
    ws.onclose = (event) => {
      socket = null;
      if (stopped) return;
      const reason = event.reason === '' ? `code ${event.code}` : event.reason;
      status.textContent = `closed (${reason}); reconnecting`;
      terminal.write(`\r\n\x1b[2m[console closed: ${reason}]\x1b[0m\r\n`);
      timer = setTimeout(connect, RECONNECT_MS);
    };
    socket = ws;
  };
  terminal.onData((data) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
  });
  terminal.onBinary((data) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff));
  });
  const resize = new ResizeObserver(() => fit.fit());
  const element = h('section', { class: 'panel console serial', 'aria-label': 'Serial console' }, h('div', { class: 'console-bar' }, h('h2', {}, 'Serial console'), status), host);
  queueMicrotask(() => {
    terminal.open(host);
    fit.fit();
    resize.observe(host);
    connect();
  });
  return {
    element,
    terminal,
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      resize.disconnect();
      socket?.close();
      terminal.dispose();
    },
  };
}
