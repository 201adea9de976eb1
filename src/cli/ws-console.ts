/**
 * The serial console of a node through the orchestrator's WebSocket
 * (GET /api/v1/nodes/:name/console/serial, binary frames both ways), as a ConsoleLink. The API token
 * goes as `Authorization: Bearer`. A refused upgrade becomes FleetApiError with the API's message;
 * a close by the other side ends the link with the close reason and code.
 */
import WebSocket from 'ws';
import type { SolConsoleEnd } from '../../node-image/src/client/sol-console';
import type { ConsoleLink } from './console-command';
import { FleetApiError, OrchestratorUnreachableError } from './fleet-api';
import { apiErrorMessage } from './http-fleet-api';

import type { SerialConsoleTarget } from './console-command';

const CONNECT_TIMEOUT_MS = 30_000;

/** ws(s)://…/api/v1/nodes/<name>/console/serial for an http(s) orchestrator URL. */
export function serialConsoleUrl(url: string, name: string): string {
  const base = url.replace(/\/+$/, '').replace(/^http/, 'ws');
  return `${base}/api/v1/nodes/${encodeURIComponent(name)}/console/serial`;
}

export function openWebSocketConsole(target: SerialConsoleTarget): Promise<ConsoleLink> {
  const ws = new WebSocket(serialConsoleUrl(target.url, target.name), {
    headers: target.token === null ? {} : { Authorization: `Bearer ${target.token}` },
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    perMessageDeflate: false,
  });
  let closing = false;
  const ended = new Promise<SolConsoleEnd>((resolve) => {
    ws.on('close', (code: number, reason: Buffer) => {
      const text = reason.toString('utf8');
      resolve(closing ? { kind: 'closed' } : { kind: 'lost', message: `${text || 'the console connection closed'} (close code ${code})` });
    });
  });
  ws.on('message', (data: Buffer) => target.onData(data));
  const link: ConsoleLink = {
    write: (data) => { if (ws.readyState !== WebSocket.OPEN) return false; ws.send(data, { binary: true }); return true; },
    // The WebSocket console carries bytes only (as bmcweb's /console0): no serial break.
    sendBreak: () => false,
    close: async () => {
      closing = true;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      return ended;
    },
    ended,
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(link));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new FleetApiError(res.statusCode ?? 0, apiErrorMessage(res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8')))));
    });
    ws.once('error', (err: Error) => reject(new OrchestratorUnreachableError(`cannot open the console at ${serialConsoleUrl(target.url, target.name)}: ${err.message}`)));
  });
}
