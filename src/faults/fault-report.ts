/**
 * What a node's fault rules did since the last look (pure): the agent's control channel reports each
 * rule with the times it acted (`applied`); this turns two such reports into firings per action kind
 * (for /metrics) and node events, rate-limited per rule: the first firing at once, then at most one
 * event per rule every `eventGapMs` with the count since the last one.
 */
import type { FaultAction, FaultMatch, FaultWhen } from '../../node-image/src/faults/fault-rules';

/** One rule as the agent's control channel shows it (node-image/src/faults/fault-control.ts ruleView). */
export interface AgentFaultRule {
  readonly id: string;
  readonly match: FaultMatch;
  readonly action: FaultAction;
  readonly when: FaultWhen;
  readonly addedAt: string;
  readonly matches: number;
  readonly applied: number;
}

export interface AgentFaults {
  readonly rules: readonly AgentFaultRule[];
  /** Faults applied since the agent started, by action kind (`silent`: events swallowed by a silence). */
  readonly totals: Readonly<Record<string, number>>;
}

/** What the orchestrator remembers of one rule between looks. */
export interface RuleSeen {
  readonly applied: number;
  /** How many firings the node's events already tell. */
  readonly told: number;
  readonly toldAt: number | null;
}

export interface FaultReport {
  /** Keyed by ruleKey: the rules the agent has now. */
  readonly seen: Map<string, RuleSeen>;
  /** New firings by action kind. */
  readonly fired: ReadonlyMap<string, number>;
  /** Messages of node events to record, in order. */
  readonly events: readonly string[];
}

/** A rule's identity across looks: the agent numbers rules from f1 again when it restarts. */
export function ruleKey(rule: Pick<AgentFaultRule, 'id' | 'addedAt'>): string {
  return `${rule.id}@${rule.addedAt}`;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

export function describeMatch(m: FaultMatch): string {
  const parts: string[] = [m.protocol];
  if (m.netFn !== undefined) parts.push(`netFn ${hex(m.netFn)}`);
  if (m.cmd !== undefined) parts.push(`cmd ${hex(m.cmd)}`);
  if (m.method !== undefined) parts.push(m.method);
  if (m.path !== undefined) parts.push(m.path);
  if (m.resetType !== undefined) parts.push(`ResetType ${m.resetType}`);
  return parts.join(' ');
}

export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'completion-code': return `completion-code ${hex(a.code)}`;
    case 'delay': case 'stop-answering': case 'bmc-reboot': return `${a.kind} ${a.ms} ms`;
    case 'http-status': return a.retryAfter === undefined ? `http-status ${a.status}` : `http-status ${a.status} Retry-After ${a.retryAfter}`;
    default: return a.kind;
  }
}

export function describeWhen(w: FaultWhen): string {
  const parts: string[] = [];
  if (w.afterMatches !== undefined) parts.push(`after ${w.afterMatches} matches`);
  if (w.maxTimes !== undefined) parts.push(`at most ${w.maxTimes} times`);
  if (w.probability !== undefined) parts.push(`probability ${w.probability}${w.seed === undefined ? '' : ` seed ${w.seed}`}`);
  if (w.durationMs !== undefined) parts.push(`for ${w.durationMs} ms`);
  return parts.join(', ');
}

/** "f1: ipmi netFn 0x00 cmd 0x01 → completion-code 0xc0 (at most 2 times)" */
export function describeRule(rule: Pick<AgentFaultRule, 'id' | 'match' | 'action' | 'when'>): string {
  const when = describeWhen(rule.when);
  return `${rule.id}: ${describeMatch(rule.match)} → ${describeAction(rule.action)}${when === '' ? '' : ` (${when})`}`;
}

/**
 * Compares the agent's rules now with what was seen. `flush` tells every untold firing now (before
 * the rules are removed, whose counts would otherwise be lost).
 */
export function reportFaults(before: ReadonlyMap<string, RuleSeen>, rules: readonly AgentFaultRule[], now: number, eventGapMs: number, flush = false): FaultReport {
  const seen = new Map<string, RuleSeen>();
  const fired = new Map<string, number>();
  const events: string[] = [];
  for (const rule of rules) {
    const key = ruleKey(rule);
    const last = before.get(key) ?? { applied: 0, told: 0, toldAt: null };
    const delta = Math.max(0, rule.applied - last.applied);
    if (delta > 0) fired.set(rule.action.kind, (fired.get(rule.action.kind) ?? 0) + delta);
    let { told, toldAt } = last;
    const untold = rule.applied - told;
    if (untold > 0 && (told === 0 || flush || toldAt === null || now - toldAt >= eventGapMs)) {
      events.push(told === 0
        ? `fault rule ${rule.id} fired: ${describeAction(rule.action)} on ${describeMatch(rule.match)}${rule.applied > 1 ? ` (${rule.applied} times)` : ''}`
        : `fault rule ${rule.id} fired ${untold} more time${untold === 1 ? '' : 's'} (${rule.applied} in all)`);
      told = rule.applied;
      toldAt = now;
    }
    seen.set(key, { applied: Math.max(rule.applied, last.applied), told, toldAt });
  }
  return { seen, fired, events };
}
