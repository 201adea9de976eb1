/**
 * What a browser may make the API do (pure): the rules against cross-site requests (CSRF) and DNS
 * rebinding. The HTTP API applies them to every request (http-hardening.ts); the web console applies
 * the same function to WebSocket upgrades (method GET, no body).
 *
 * - A request that changes state and carries a body must be `application/json`: an HTML form can
 *   only send application/x-www-form-urlencoded, multipart/form-data or text/plain without a CORS
 *   preflight, so a page elsewhere cannot post JSON here.
 * - On a loopback API without a token, `Host` must name this machine (localhost, 127.0.0.1, [::1] or
 *   BIND_ADDRESS, any port): a rebound DNS name (attacker.example → 127.0.0.1) carries its own name.
 * - `Origin`, when present, must be the same origin as `Host` (a page of this API, e.g. Swagger UI).
 */
import { isIP } from 'node:net';

/** The parts of a request the rules read; header values as received (undefined when absent). */
export interface BrowserRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
  /** Whether the request carries a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean;
}

/** How the API is exposed; from HttpConfig (browserPolicyOf). */
export interface BrowserPolicy {
  /** Host names (lower case, IPv6 in brackets) accepted in `Host`; null: any (a token protects the API). */
  readonly allowedHosts: readonly string[] | null;
}

export type BrowserVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 403 | 415 | 421; readonly message: string };

const OK: BrowserVerdict = { ok: true };
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The host names a token-less loopback API answers to; with a token, any (see BrowserPolicy). */
export function browserPolicyOf(http: { readonly bindAddress: string; readonly apiToken: string | null }): BrowserPolicy {
  if (http.apiToken !== null) return { allowedHosts: null };
  const bind = isIP(http.bindAddress) === 6 ? `[${http.bindAddress.toLowerCase()}]` : http.bindAddress;
  return { allowedHosts: [...new Set([...LOOPBACK_NAMES, bind])] };
}

/** The host name of a Host header without its port ("[::1]:8080" → "[::1]"), lower case; null if malformed. */
export function hostNameOf(host: string): string | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::[0-9]{1,5})?$/.exec(host.trim());
  return match?.[1] === undefined ? null : match[1].toLowerCase();
}

/** Whether a Content-Type header is JSON: application/json, parameters (charset) allowed. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

function sameOrigin(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.pathname !== '/' || url.search !== '' || url.username !== '') return false;
  return url.host === host.trim().toLowerCase() || url.host === host.trim().toLowerCase().replace(/:(80|443)$/, '');
}

/** ok, or the status and message the request is refused with. */
export function checkBrowserRequest(request: BrowserRequest, policy: BrowserPolicy): BrowserVerdict {
  if (policy.allowedHosts !== null) {
    const name = request.host === undefined ? null : hostNameOf(request.host);
    if (name === null || !policy.allowedHosts.includes(name)) {
      return {
        ok: false,
        status: 421,
        message: `Host ${JSON.stringify(request.host ?? '')} is not this API's: without API_TOKEN it answers only to ${policy.allowedHosts.join(', ')} (any port)`,
      };
    }
  }
  if (request.origin !== undefined) {
    if (request.host === undefined || !sameOrigin(request.origin, request.host)) {
      return { ok: false, status: 403, message: `Origin ${JSON.stringify(request.origin)} is not this API's origin: cross-site requests are refused` };
    }
  }
  if (STATE_CHANGING.has(request.method.toUpperCase()) && request.hasBody && !isJsonContentType(request.contentType)) {
    return {
      ok: false,
      status: 415,
      message: `Content-Type must be application/json for a ${request.method.toUpperCase()} with a body (got ${JSON.stringify(request.contentType ?? '')})`,
    };
  }
  return OK;
}
