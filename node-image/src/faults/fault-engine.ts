/**
 * The fault rule engine of one BMC: pure (the caller passes the time; randomness comes from a
 * seeded generator per rule), so the same rules and the same traffic give the same faults.
 * IPMI rules naming a command, answering a completion code or ending the request's session act once
 * the request is decoded ("command" stage); other IPMI rules
 * act on every datagram before decoding ("datagram" stage), so one rule never counts a request twice.
 * "stop-answering" and "bmc-reboot" silence the protocol for a while: every event of it in that
 * window is answered `silent`.
 */
import type { FaultAction, FaultProtocol, FaultRuleSpec } from './fault-rules';

export type FaultEvent =
  | { readonly protocol: 'ipmi'; readonly stage: 'datagram' }
  /** inSession: the request came in a session (a session-expiry rule has nothing to end otherwise). */
  | { readonly protocol: 'ipmi'; readonly stage: 'command'; readonly netFn: number; readonly cmd: number; readonly inSession?: boolean }
  | { readonly protocol: 'sol' }
  /** inSession: the request carries an X-Auth-Token. */
  | { readonly protocol: 'redfish'; readonly method: string; readonly path: string; readonly resetType?: string; readonly inSession?: boolean }
  | { readonly protocol: 'power'; readonly resetType: string };

export type FaultDecision =
  | { readonly kind: 'apply'; readonly ruleId: string; readonly action: FaultAction; readonly times: number }
  | { readonly kind: 'silent'; readonly until: number };

export interface FaultRuleState extends FaultRuleSpec {
  readonly id: string;
  readonly addedAt: number;
  matches: number;
  applied: number;
}

/** A seeded generator of numbers in [0, 1). */
export type Prng = () => number;

/** mulberry32: a small, well-mixed 32-bit generator; enough to make faults repeatable. */
export function seededPrng(seed: number): Prng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Protocols one silence covers: IPMI and SOL share the UDP port; a reboot silences everything. */
const SILENCED_BY: Record<'stop-answering' | 'bmc-reboot', (p: FaultProtocol) => readonly FaultProtocol[]> = {
  'stop-answering': (p) => (p === 'redfish' ? ['redfish'] : ['ipmi', 'sol']),
  'bmc-reboot': () => ['ipmi', 'sol', 'redfish'],
};

export function ruleStage(spec: FaultRuleSpec): 'datagram' | 'command' | undefined {
  if (spec.match.protocol !== 'ipmi') return undefined;
  return spec.match.netFn !== undefined || spec.match.cmd !== undefined || spec.action.kind === 'completion-code' || spec.action.kind === 'session-expiry' ? 'command' : 'datagram';
}

/** `*` matches one segment, a final `**` matches any rest (including nothing). */
export function pathMatches(pattern: string, path: string): boolean {
  const p = pattern.replace(/\/+$/, '').split('/');
  const s = path.replace(/\/+$/, '').split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '**' && i === p.length - 1) return true;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function matches(rule: FaultRuleState, e: FaultEvent): boolean {
  const m = rule.match;
  if (m.protocol !== e.protocol) return false;
  if (rule.action.kind === 'session-expiry' && !('inSession' in e && e.inSession === true)) return false;
  switch (e.protocol) {
    case 'ipmi':
      if (ruleStage(rule) !== e.stage) return false;
      if (e.stage === 'datagram') return true;
      return (m.netFn === undefined || m.netFn === e.netFn) && (m.cmd === undefined || m.cmd === e.cmd);
    case 'sol':
      return true;
    case 'redfish':
      if (m.method !== undefined && m.method !== e.method) return false;
      if (m.path !== undefined && !pathMatches(m.path, e.path)) return false;
      return m.resetType === undefined || m.resetType.toLowerCase() === e.resetType?.toLowerCase();
    case 'power':
      return m.resetType === undefined || m.resetType.toLowerCase() === e.resetType.toLowerCase();
  }
}

export interface FaultEngineOptions {
  /** Generator for a rule without a seed of its own, given the rule's number. */
  readonly prngFor?: (seed: number) => Prng;
  readonly maxRules?: number;
}

/** What a BMC keeps of its rules across restarts (FaultEngine.saved / restore): rules with their counts. */
export interface SavedFaultRules {
  readonly nextId: number;
  readonly rules: readonly FaultRuleState[];
}

export class FaultEngine {
  private readonly rules: FaultRuleState[] = [];
  /** Called after every change of the rules or their counts (BmcFaults keeps them in the BMC's state). */
  onChange: () => void = () => {};
  private readonly prngs = new Map<string, Prng>();
  private readonly silentUntil = new Map<FaultProtocol, number>();
  private nextId = 1;
  /** Faults applied since start, by action kind (plus `silent` for events swallowed by a silence). */
  readonly totals = new Map<string, number>();

  constructor(private readonly o: FaultEngineOptions = {}) {}

  add(spec: FaultRuleSpec, now: number): FaultRuleState {
    if (this.rules.length >= (this.o.maxRules ?? 64)) throw new RangeError(`at most ${this.o.maxRules ?? 64} fault rules per BMC`);
    const id = `f${this.nextId++}`;
    const rule: FaultRuleState = { ...spec, id, addedAt: now, matches: 0, applied: 0 };
    this.rules.push(rule);
    this.prngs.set(id, (this.o.prngFor ?? seededPrng)(spec.when.seed ?? this.nextId));
    this.onChange();
    return rule;
  }

  /** The rules with their counts, for the BMC's state store. */
  saved(): SavedFaultRules {
    return { nextId: this.nextId, rules: this.rules.map((r) => ({ ...r })) };
  }

  /**
   * Takes back saved rules (a BMC restarted): same ids, times added and counts, so a rule that acted
   * `maxTimes` times stays spent and `durationMs` still counts from when it was added. A rule's
   * random draws start again from its seed. Silences under way and totals are not kept.
   */
  restore(saved: SavedFaultRules): void {
    this.rules.length = 0;
    this.prngs.clear();
    for (const r of saved.rules.slice(0, this.o.maxRules ?? 64)) {
      this.rules.push({ ...r });
      this.prngs.set(r.id, (this.o.prngFor ?? seededPrng)(r.when.seed ?? Number(r.id.slice(1)) + 1));
    }
    this.nextId = Math.max(saved.nextId, ...this.rules.map((r) => Number(r.id.slice(1)) + 1), 1);
  }

  list(): readonly FaultRuleState[] { return this.rules; }

  /** Removes one rule (by id) or all; ends any silence when all go. Returns how many went. */
  clear(id?: string): number {
    const before = this.rules.length;
    for (let i = this.rules.length - 1; i >= 0; i--) {
      if (id === undefined || this.rules[i]!.id === id) { this.prngs.delete(this.rules[i]!.id); this.rules.splice(i, 1); }
    }
    if (id === undefined) this.silentUntil.clear();
    if (this.rules.length !== before) this.onChange();
    return before - this.rules.length;
  }

  silenceEnds(protocol: FaultProtocol, now: number): number | undefined {
    const until = this.silentUntil.get(protocol);
    return until !== undefined && now < until ? until : undefined;
  }

  /** What to do with one event, or null to carry on normally. */
  decide(e: FaultEvent, now: number): FaultDecision | null {
    const until = this.silenceEnds(e.protocol, now);
    if (until !== undefined) { this.count('silent'); return { kind: 'silent', until }; }
    if (this.rules.length === 0) return null;
    for (const rule of this.rules) {
      if (!matches(rule, e)) continue;
      if (rule.when.durationMs !== undefined && now - rule.addedAt >= rule.when.durationMs) continue;
      if (rule.when.maxTimes !== undefined && rule.applied >= rule.when.maxTimes) continue;
      rule.matches++;
      if (rule.matches <= (rule.when.afterMatches ?? 0)) { this.onChange(); continue; }
      if (rule.when.probability !== undefined && rule.when.probability < 1 && this.prngs.get(rule.id)!() >= rule.when.probability) { this.onChange(); continue; }
      rule.applied++;
      this.onChange();
      this.count(rule.action.kind);
      const a = rule.action;
      if (a.kind === 'stop-answering' || a.kind === 'bmc-reboot') {
        for (const p of SILENCED_BY[a.kind](rule.match.protocol)) this.silentUntil.set(p, Math.max(this.silentUntil.get(p) ?? 0, now + a.ms));
      }
      return { kind: 'apply', ruleId: rule.id, action: a, times: rule.applied };
    }
    return null;
  }

  private count(kind: string): void { this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1); }
}
