/**
 * Who may open a node console through the orchestrator (pure): the API's own rule, applied to the
 * WebSocket upgrade, where Nest's guard does not run. In this order:
 *   1. the browser rules of every API request (browser-request.ts): a foreign `Origin` is refused
 *      (403), and without API_TOKEN so is a `Host` that does not name this machine (421, DNS rebinding);
 *   2. with API_TOKEN, `Authorization: Bearer <API_TOKEN>` or the web UI's session cookie (401 without
 *      them or with another token; the cookie only with an Origin);
 *      without API_TOKEN the API listens on loopback only (the configuration refuses anything else).
 */
import type { HttpConfig } from '../config/app-config';
import { checkUpgrade } from '../common/auth/upgrade-access';

export interface UpgradeRequestHeaders {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly authorization: string | undefined;
  /** The web UI's session cookie travels here (a browser cannot set Authorization on a WebSocket). */
  readonly cookie?: string | undefined;
}

export type ConsoleAccess =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403 | 415 | 421; readonly message: string };

/** The API's rule for upgrades (checkUpgrade): browser rules, then the bearer token or the session cookie. */
export function checkConsoleAccess(request: UpgradeRequestHeaders, http: Pick<HttpConfig, 'bindAddress' | 'apiToken'>, nowMs: number = Date.now()): ConsoleAccess {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request)) if (typeof value === 'string') headers[name] = value;
  return checkUpgrade({ headers }, http, nowMs);
}
