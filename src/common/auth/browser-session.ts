/**
 * The browser's session cookie (pure): a login trades API_TOKEN for it, so a page never keeps the
 * token itself. The value is `<expiry in s>.<HMAC-SHA256(API_TOKEN, "bmcfleet-session." + expiry)>`:
 * nothing is stored on the server, a restart keeps sessions, and a new API_TOKEN ends them all.
 * The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), and
 * Secure when the orchestrator is reached over TLS.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'bmcfleet_session';
/** How long a login lasts. */
export const SESSION_LIFETIME_S = 12 * 60 * 60;

function mac(token: string, expiresAtS: number): Buffer {
  return createHmac('sha256', token).update(`bmcfleet-session.${expiresAtS}`, 'utf8').digest();
}

/** A new session value valid until nowMs + SESSION_LIFETIME_S. */
export function issueSession(token: string, nowMs: number): { readonly value: string; readonly expiresAtS: number } {
  const expiresAtS = Math.floor(nowMs / 1000) + SESSION_LIFETIME_S;
  return { value: `${expiresAtS}.${mac(token, expiresAtS).toString('base64url')}`, expiresAtS };
}

/** Whether a session value was issued under this token and has not expired. */
export function verifySession(value: string, token: string, nowMs: number): boolean {
  const match = /^([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (match === null) return false;
  const expiresAtS = Number(match[1]);
  if (expiresAtS * 1000 <= nowMs) return false;
  const given = Buffer.from(match[2] as string, 'base64url');
  const expected = mac(token, expiresAtS);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The value of one cookie in a Cookie header (RFC 6265 section 5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session (path / so the pages, the API and the WebSockets all get it). */
export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_LIFETIME_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that ends the session in the browser. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
