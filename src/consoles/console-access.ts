/**
 * Who may open a node console through the orchestrator (pure): the API's own rule, applied to the
 * WebSocket upgrade, where Nest's guard does not run. In this order:
 *   1. the browser rules of every API request (browser-request.ts): a foreign `Origin` is refused
 *      (403), and without API_TOKEN so is a `Host` that does not name this machine (421, DNS rebinding);
 *   2. with API_TOKEN, `Authorization: Bearer <API_TOKEN>` (401 without it or with another token);
 *      without API_TOKEN the API listens on loopback only (the configuration refuses anything else).
 * A browser cannot set Authorization on a WebSocket: the web UI adds its session cookie here, as one
 * more accepted credential in step 2.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpConfig } from '../config/app-config';
import { browserPolicyOf, checkBrowserRequest } from '../common/http/browser-request';

export interface UpgradeRequestHeaders {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly authorization: string | undefined;
}

export type ConsoleAccess =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403 | 415 | 421; readonly message: string };

/** RFC 7235 section 2.1: the scheme is case-insensitive; one or more spaces follow. */
const BEARER = /^bearer +(\S+) *$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether `authorization` carries the API token (compared in constant time over digests). */
export function hasApiToken(authorization: string | undefined, apiToken: string): boolean {
  const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  return token !== undefined && timingSafeEqual(digest(token), digest(apiToken));
}

export function checkConsoleAccess(request: UpgradeRequestHeaders, http: Pick<HttpConfig, 'bindAddress' | 'apiToken'>): ConsoleAccess {
  const browser = checkBrowserRequest({ method: 'GET', host: request.host, origin: request.origin, contentType: undefined, hasBody: false }, browserPolicyOf(http));
  if (!browser.ok) return browser;
  if (http.apiToken === null) return { ok: true };
  if (request.authorization === undefined || BEARER.exec(request.authorization) === null) return { ok: false, status: 401, message: 'bearer token required' };
  if (!hasApiToken(request.authorization, http.apiToken)) return { ok: false, status: 401, message: 'invalid bearer token' };
  return { ok: true };
}
