/**
 * Who opens a host console: the same credentials as every Redfish request (Basic, or the
 * X-Auth-Token of a Redfish session), checked by the Redfish authenticator, so the users, roles and
 * lockout are the IPMI ones. Pure over the injected authenticator.
 */
import type { Role } from '../core/accounts';
import { RedfishError } from '../redfish/errors';
import type { Authenticator, Principal } from '../redfish/router';

export type ConsoleAuth =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

/** Roles that may type on the serial console and control the graphical one (bmcweb: Operator and Administrator); ReadOnly users watch. */
export const INPUT_ROLES: readonly Role[] = ['administrator', 'operator'];

export function canType(role: Role): boolean {
  return INPUT_ROLES.includes(role);
}

export function authenticateConsole(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  remote: string,
  now: number,
  auth: Authenticator,
): ConsoleAuth {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  try {
    const token = one('x-auth-token');
    if (token !== undefined && token !== '') return { ok: true, principal: auth.token(token, now) };
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(one('authorization') ?? '');
    if (basic) {
      const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) return { ok: true, principal: auth.basic(text.slice(0, colon), text.slice(colon + 1), remote, now) };
    }
  } catch (err) {
    if (err instanceof RedfishError) return { ok: false, status: 401, message: 'invalid credentials' };
    throw err;
  }
  return { ok: false, status: 401, message: 'credentials required: HTTP Basic or X-Auth-Token' };
}
