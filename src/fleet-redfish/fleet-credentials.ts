/**
 * Who a fleet request speaks for (pure): HTTP Basic credentials (RFC 7617) or a fleet session's
 * token, and which nodes' BMC credentials they are. The fleet endpoint answers for a node only to a
 * caller holding that node's BMC user and password (the ones the orchestrator gave it), compared in
 * constant time; the node's agent then checks them again with its own users and lockout.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface BmcCredentials {
  readonly user: string;
  readonly password: string;
}

export type CallerAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly credentials: BmcCredentials }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'malformed' };

/** Authorization: Basic … wins over X-Auth-Token when both are sent (as on the agent). */
export function callerAuthOf(headers: Readonly<Record<string, string | undefined>>): CallerAuth {
  const authorization = headers['authorization'];
  if (authorization !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) return { kind: 'malformed' };
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'malformed' };
    return { kind: 'basic', credentials: { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) } };
  }
  const token = headers['x-auth-token'];
  if (token !== undefined && token !== '') return { kind: 'token', token };
  return { kind: 'none' };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Same user and password, in time that does not depend on where they differ. */
export function credentialsMatch(given: BmcCredentials, node: BmcCredentials): boolean {
  const user = timingSafeEqual(digest(given.user), digest(node.user));
  const password = timingSafeEqual(digest(given.password), digest(node.password));
  return user && password;
}

/** The Authorization header a request to a node's agent carries for these credentials. */
export function basicAuthorization(credentials: BmcCredentials): string {
  return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`, 'utf8').toString('base64')}`;
}
