/**
 * The one check of a WebSocket upgrade (the consoles, the event stream): the browser rules of
 * browser-request.ts (Host against DNS rebinding without a token, a same-origin Origin), then the
 * credentials of request-credentials.ts (bearer header or session cookie). An upgrade authenticated
 * by the cookie must carry an Origin: every browser sends one, so a cookie without it is not a page's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { browserPolicyOf, checkBrowserRequest } from '../http/browser-request';
import { checkCredentials } from './request-credentials';

export type UpgradeVerdict = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403 | 421; readonly message: string };

function header(request: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function checkUpgrade(
  request: Pick<IncomingMessage, 'headers'>,
  http: { readonly bindAddress: string; readonly apiToken: string | null },
  nowMs: number,
): UpgradeVerdict {
  const origin = header(request, 'origin');
  const browser = checkBrowserRequest({ method: 'GET', host: header(request, 'host'), origin, contentType: undefined, hasBody: false }, browserPolicyOf(http));
  if (!browser.ok) return { ok: false, status: browser.status === 415 ? 403 : browser.status, message: browser.message };
  const credentials = checkCredentials({ authorization: header(request, 'authorization'), cookie: header(request, 'cookie') }, http.apiToken, nowMs);
  if (!credentials.ok) return credentials;
  if (credentials.via === 'cookie' && origin === undefined) {
    return { ok: false, status: 403, message: 'a WebSocket authenticated by the session cookie must carry Origin' };
  }
  return { ok: true };
}

const REASONS: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 421: 'Misdirected Request' };

/** Answers a refused upgrade with a plain HTTP status and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ statusCode: status, message, error: REASONS[status] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
