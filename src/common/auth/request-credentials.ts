/**
 * Who may use the API (pure), for HTTP calls (ApiTokenGuard) and WebSocket upgrades alike: without
 * API_TOKEN everyone that reaches it (a loopback BIND_ADDRESS, config-enforced); with it, a request
 * carrying `Authorization: Bearer <API_TOKEN>` or the session cookie a login gave (browser-session.ts).
 * A bearer header, when present, decides alone: a wrong one is refused even beside a good cookie.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { cookieValue, SESSION_COOKIE, verifySession } from './browser-session';

/** RFC 7235 section 2.1: the scheme is case-insensitive ("bearer", "BEARER"); one or more spaces follow. */
const BEARER = /^bearer +(\S+) *$/i;

export interface RequestCredentials {
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
}

export type CredentialVerdict =
  | { readonly ok: true; readonly via: 'open' | 'bearer' | 'cookie' }
  | { readonly ok: false; readonly status: 401; readonly message: string };

/** Hashing first gives equal lengths, so the comparison leaks neither content nor length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison of a presented token with API_TOKEN. */
export function tokenMatches(presented: string, apiToken: string): boolean {
  return timingSafeEqual(digest(presented), digest(apiToken));
}

export function checkCredentials(request: RequestCredentials, apiToken: string | null, nowMs: number): CredentialVerdict {
  if (apiToken === null) return { ok: true, via: 'open' };
  if (request.authorization !== undefined) {
    const token = BEARER.exec(request.authorization)?.[1];
    if (token === undefined) return { ok: false, status: 401, message: 'Authorization must be "Bearer <API_TOKEN>"' };
    if (!tokenMatches(token, apiToken)) return { ok: false, status: 401, message: 'invalid bearer token' };
    return { ok: true, via: 'bearer' };
  }
  const session = cookieValue(request.cookie, SESSION_COOKIE);
  if (session === undefined) return { ok: false, status: 401, message: 'bearer token required' };
  if (!verifySession(session, apiToken, nowMs)) return { ok: false, status: 401, message: 'session expired or not valid; log in again' };
  return { ok: true, via: 'cookie' };
}
