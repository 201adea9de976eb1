/**
 * Fault rules: what to match, what to do, and when. Parsed from JSON (the control channel and the
 * orchestrator's API take the same body) with errors that name the field and the rule broken.
 */

export type FaultProtocol = 'ipmi' | 'redfish' | 'sol' | 'power';

export interface FaultMatch {
  readonly protocol: FaultProtocol;
  /** IPMI: network function (IPMI v2.0 section 5.1), e.g. 0x00 chassis. */
  readonly netFn?: number;
  /** IPMI: command number within the network function. */
  readonly cmd?: number;
  /** Redfish: HTTP method (upper case). */
  readonly method?: string;
  /** Redfish: path pattern; `*` matches one path segment, a trailing `**` any rest. */
  readonly path?: string;
  /** Redfish Reset / power: the ResetType or power action asked for (On, ForceOff, on, off, ...). */
  readonly resetType?: string;
}

export type FaultAction =
  | { readonly kind: 'drop' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'completion-code'; readonly code: number }
  | { readonly kind: 'stop-answering'; readonly ms: number }
  | { readonly kind: 'bmc-reboot'; readonly ms: number }
  | { readonly kind: 'http-status'; readonly status: number; readonly retryAfter?: number }
  | { readonly kind: 'power-stuck' }
  /** IPMI: the request's session ends as if it timed out (the request is dropped); Redfish: its X-Auth-Token session ends (the request then meets 401). */
  | { readonly kind: 'session-expiry' }
  /** SOL: the BMC ends the SOL payload ("SOL deactivating", IPMI v2.0 section 15.9) instead of taking the packet. */
  | { readonly kind: 'sol-deactivate' };

export interface FaultWhen {
  /** Chance per match (0..1]; default 1. Drawn from a PRNG seeded with `seed`. */
  readonly probability?: number;
  readonly seed?: number;
  /** Matches to let through before the rule acts. */
  readonly afterMatches?: number;
  /** The rule acts at most this many times, then stays inert. */
  readonly maxTimes?: number;
  /** The rule is active for this long after it was added. */
  readonly durationMs?: number;
}

export interface FaultRuleSpec {
  readonly match: FaultMatch;
  readonly action: FaultAction;
  readonly when: FaultWhen;
}

export class FaultRuleError extends Error {}

const ACTIONS_BY_PROTOCOL: Record<FaultProtocol, readonly FaultAction['kind'][]> = {
  ipmi: ['drop', 'delay', 'duplicate', 'completion-code', 'stop-answering', 'bmc-reboot', 'session-expiry'],
  sol: ['drop', 'delay', 'duplicate', 'stop-answering', 'sol-deactivate'],
  redfish: ['delay', 'http-status', 'stop-answering', 'bmc-reboot', 'session-expiry'],
  power: ['power-stuck', 'delay'],
};
const MAX_MS = 24 * 3600_000;

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FaultRuleError(`${field} must be an object`);
  return v as Json;
}

function onlyKeys(o: Json, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new FaultRuleError(`${field}.${k} is not a known field (allowed: ${allowed.join(', ')})`);
}

function int(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new FaultRuleError(`${field} must be an integer from ${min} to ${max}`);
  return n;
}

function str(v: unknown, field: string, pattern: RegExp, rule: string): string {
  if (typeof v !== 'string' || !pattern.test(v)) throw new FaultRuleError(`${field} must be ${rule}`);
  return v;
}

function parseMatch(v: unknown): FaultMatch {
  const o = obj(v, 'match');
  onlyKeys(o, 'match', ['protocol', 'netFn', 'cmd', 'method', 'path', 'resetType']);
  const protocol = o.protocol;
  if (protocol !== 'ipmi' && protocol !== 'redfish' && protocol !== 'sol' && protocol !== 'power') throw new FaultRuleError('match.protocol must be one of ipmi, redfish, sol, power');
  const m: { -readonly [K in keyof FaultMatch]: FaultMatch[K] } = { protocol };
  if (o.netFn !== undefined || o.cmd !== undefined) {
    if (protocol !== 'ipmi') throw new FaultRuleError('match.netFn and match.cmd apply to protocol ipmi only');
    if (o.netFn !== undefined) m.netFn = int(o.netFn, 'match.netFn', 0, 0x3f);
    if (o.cmd !== undefined) m.cmd = int(o.cmd, 'match.cmd', 0, 0xff);
  }
  if (o.method !== undefined || o.path !== undefined) {
    if (protocol !== 'redfish') throw new FaultRuleError('match.method and match.path apply to protocol redfish only');
    if (o.method !== undefined) m.method = str(o.method, 'match.method', /^(GET|HEAD|POST|PATCH|PUT|DELETE)$/, 'one of GET, HEAD, POST, PATCH, PUT, DELETE');
    if (o.path !== undefined) m.path = str(o.path, 'match.path', /^\/[A-Za-z0-9._~\-/*]{0,255}$/, 'a path starting with / (segments of letters, digits, ._~- or *)');
  }
  if (o.resetType !== undefined) {
    if (protocol !== 'redfish' && protocol !== 'power') throw new FaultRuleError('match.resetType applies to protocols redfish and power only');
    m.resetType = str(o.resetType, 'match.resetType', /^[A-Za-z-]{1,32}$/, 'a reset type such as On or ForceOff');
  }
  return m;
}

function parseAction(v: unknown, protocol: FaultProtocol): FaultAction {
  const o = obj(v, 'action');
  const kind = o.kind;
  const allowed = ACTIONS_BY_PROTOCOL[protocol];
  if (typeof kind !== 'string' || !allowed.includes(kind as FaultAction['kind'])) throw new FaultRuleError(`action.kind must be one of ${allowed.join(', ')} for protocol ${protocol}`);
  switch (kind as FaultAction['kind']) {
    case 'drop': case 'duplicate': case 'power-stuck': case 'session-expiry': case 'sol-deactivate':
      onlyKeys(o, 'action', ['kind']);
      return { kind: kind as 'drop' | 'duplicate' | 'power-stuck' | 'session-expiry' | 'sol-deactivate' };
    case 'delay': case 'stop-answering': case 'bmc-reboot':
      onlyKeys(o, 'action', ['kind', 'ms']);
      if (kind === 'bmc-reboot' && o.ms === undefined) return { kind: 'bmc-reboot', ms: 0 };
      return { kind: kind as 'delay' | 'stop-answering' | 'bmc-reboot', ms: int(o.ms, 'action.ms', kind === 'delay' ? 1 : 0, MAX_MS) };
    case 'completion-code':
      onlyKeys(o, 'action', ['kind', 'code']);
      return { kind: 'completion-code', code: int(o.code, 'action.code', 0x01, 0xff) };
    case 'http-status': {
      onlyKeys(o, 'action', ['kind', 'status', 'retryAfter']);
      const status = int(o.status, 'action.status', 400, 599);
      return o.retryAfter === undefined ? { kind: 'http-status', status } : { kind: 'http-status', status, retryAfter: int(o.retryAfter, 'action.retryAfter', 0, 3600) };
    }
  }
}

function parseWhen(v: unknown): FaultWhen {
  if (v === undefined) return {};
  const o = obj(v, 'when');
  onlyKeys(o, 'when', ['probability', 'seed', 'afterMatches', 'maxTimes', 'durationMs']);
  const w: { -readonly [K in keyof FaultWhen]: FaultWhen[K] } = {};
  if (o.probability !== undefined) {
    if (typeof o.probability !== 'number' || !(o.probability > 0 && o.probability <= 1)) throw new FaultRuleError('when.probability must be a number greater than 0 and at most 1');
    w.probability = o.probability;
  }
  if (o.seed !== undefined) w.seed = int(o.seed, 'when.seed', 0, 0xffffffff);
  if (o.afterMatches !== undefined) w.afterMatches = int(o.afterMatches, 'when.afterMatches', 0, 1_000_000_000);
  if (o.maxTimes !== undefined) w.maxTimes = int(o.maxTimes, 'when.maxTimes', 1, 1_000_000_000);
  if (o.durationMs !== undefined) w.durationMs = int(o.durationMs, 'when.durationMs', 1, MAX_MS);
  return w;
}

/** Validates one rule body `{ match, action, when? }`; throws FaultRuleError naming the field. */
export function parseFaultRule(body: unknown): FaultRuleSpec {
  const o = obj(body, 'rule');
  onlyKeys(o, 'rule', ['match', 'action', 'when']);
  const match = parseMatch(o.match);
  return { match, action: parseAction(o.action, match.protocol), when: parseWhen(o.when) };
}
