/**
 * A node's fault rules through the orchestrator (POST/GET/DELETE /api/v1/nodes/:name/faults): rules
 * are checked here (the agent's own parser, so the answer names the field and the rule at once),
 * then handed to the node's agent over its fault control channel (AgentFaultControl). Every rule
 * added or removed is a node event. While a node has rules, its agent is read every FAULT_POLL_MS:
 * what the rules did becomes `bmcfleet_node_faults_fired_total{node,kind}` and node events
 * (fault-report.ts). Calls for one node run one at a time, so counts are never taken twice. The BMCs
 * of one farm are read together, one farm-ctl call per farm (fault-read-plan.ts), at start and at
 * every poll. Rules live in the BMC's state (agent or farm volume): they outlive an orchestrator
 * restart (read again at start) and a restart of the node or farm (the BMC takes them back).
 */
import { BadGatewayException, BadRequestException, BeforeApplicationShutdown, ConflictException, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { FaultRuleError, parseFaultRule, type FaultRuleSpec } from '../../node-image/src/faults/fault-rules';
import { messageOf } from '../common/errors/message-of';
import { FleetMetrics } from '../metrics/fleet-metrics.service';
import { NodeEvents } from '../nodes/fleet-context';
import { NodesService } from '../nodes/nodes.service';
import type { NodeWithLeases } from '../nodes/node.model';
import { AgentFaultControl, FaultControlError, faultRefOf } from './agent-fault-control';
import { describeRule, reportFaults, type AgentFaultRule, type AgentFaults, type RuleSeen } from './fault-report';
import { planFaultReads } from './fault-read-plan';

export const FAULT_POLL_MS = 2_000;
/** A rule that keeps acting is a node event at most this often (with the count since the last). */
export const FAULT_EVENT_GAP_MS = 30_000;
/** Rules one POST may carry (the agent holds 64 per BMC). */
export const MAX_RULES_PER_REQUEST = 64;

const NO_FAULTS: AgentFaults = { rules: [], totals: {} };

export type FaultRuleStatus = 'active' | 'exhausted' | 'expired';

export interface FaultRuleView extends AgentFaultRule {
  /** exhausted: acted `when.maxTimes` times; expired: `when.durationMs` is over. Either stays listed until removed. */
  readonly status: FaultRuleStatus;
}

export interface NodeFaultsView {
  readonly name: string;
  readonly rules: readonly FaultRuleView[];
  /** Faults applied since the agent started, by action kind (`silent`: requests swallowed by a silence). */
  readonly totals: Readonly<Record<string, number>>;
}

interface Watched {
  readonly id: string;
  readonly name: string;
  /** The node's runtime name (runtimeRef), where its agent runs. */
  readonly ref: string;
  seen: Map<string, RuleSeen>;
}

/** One rule `{ match, action, when? }` or `{ rules: [...] }`; throws BadRequestException naming the field. */
export function parseRulesBody(body: unknown): FaultRuleSpec[] {
  const many = typeof body === 'object' && body !== null && !Array.isArray(body) && 'rules' in body;
  if (!many) return [parseOne(body, '')];
  const extra = Object.keys(body).filter((key) => key !== 'rules');
  if (extra.length > 0) throw new BadRequestException(`${extra[0]} is not a known field next to rules (a body is one rule { match, action, when } or { rules: [...] })`);
  const rules = (body as { rules: unknown }).rules;
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > MAX_RULES_PER_REQUEST) throw new BadRequestException(`rules must be an array of 1 to ${MAX_RULES_PER_REQUEST} rules`);
  return rules.map((rule, i) => parseOne(rule, `rules[${i}].`));
}

function parseOne(rule: unknown, prefix: string): FaultRuleSpec {
  try {
    return parseFaultRule(rule);
  } catch (error) {
    if (error instanceof FaultRuleError) throw new BadRequestException(`${prefix}${error.message}`);
    throw error;
  }
}

export function ruleStatus(rule: AgentFaultRule, now: number): FaultRuleStatus {
  if (rule.when.maxTimes !== undefined && rule.applied >= rule.when.maxTimes) return 'exhausted';
  if (rule.when.durationMs !== undefined && now - Date.parse(rule.addedAt) >= rule.when.durationMs) return 'expired';
  return 'active';
}

@Injectable()
export class NodeFaultsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('NodeFaults');
  private readonly watched = new Map<string, Watched>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Farms whose BMCs are being read in bulk now (one read per farm at a time). */
  private readonly farmReads = new Set<string>();
  /** Adds and removals per node: a bulk read started before one of them does not speak for the node. */
  private readonly changes = new Map<string, number>();

  constructor(
    private readonly nodes: NodesService,
    private readonly control: AgentFaultControl,
    private readonly history: NodeEvents,
    private readonly metrics: FleetMetrics,
  ) {}

  /** Rules added before a restart keep being reported: each running node's agent is asked once. */
  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.poll(), FAULT_POLL_MS);
    this.timer.unref();
    void this.sweep();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.queues.values()]);
  }

  async add(name: string, body: unknown): Promise<Omit<NodeFaultsView, 'totals'>> {
    const specs = parseRulesBody(body);
    const node = this.running(await this.nodes.row(name));
    return this.serial(node.id, async () => {
      this.changed(node.id);
      const added: AgentFaultRule[] = [];
      for (const spec of specs) {
        try {
          added.push(await this.control.add(faultRefOf(node), spec));
        } catch (error) {
          // All or nothing: the rules of this request that went in come out again.
          for (const rule of added) await this.control.clear(faultRefOf(node), rule.id).catch(() => 0);
          throw this.httpError(node.name, error);
        }
      }
      for (const rule of added) await this.history.record(node.id, 'fault', `fault rule added: ${describeRule(rule)}`);
      this.watch(node);
      const now = Date.now();
      return { name: node.name, rules: added.map((rule) => ({ ...rule, status: ruleStatus(rule, now) })) };
    });
  }

  async list(name: string): Promise<NodeFaultsView> {
    const node = this.running(await this.nodes.row(name));
    return this.serial(node.id, async () => {
      const faults = await this.read(this.watch(node), false);
      const now = Date.now();
      return { name: node.name, rules: faults.rules.map((rule) => ({ ...rule, status: ruleStatus(rule, now) })), totals: faults.totals };
    });
  }

  /** Removes one rule (by id) or all; what they did until now is counted and told first. */
  async clear(name: string, ruleId?: string): Promise<{ name: string; removed: number }> {
    if (ruleId !== undefined && !/^f\d{1,9}$/.test(ruleId)) throw new BadRequestException('id must be a rule id such as f1');
    const node = this.running(await this.nodes.row(name));
    return this.serial(node.id, async () => {
      this.changed(node.id);
      const watched = this.watch(node);
      await this.read(watched, true);
      let removed: number;
      try {
        removed = await this.control.clear(faultRefOf(node), ruleId);
      } catch (error) {
        throw this.httpError(node.name, error);
      }
      await this.history.record(node.id, 'fault', ruleId === undefined ? `fault rules removed (${removed})` : `fault rule ${ruleId} removed`);
      await this.read(watched, false);
      return { name: node.name, removed };
    });
  }

  private running(node: NodeWithLeases): NodeWithLeases {
    if (node.state !== 'running') throw new ConflictException(`node ${node.name} is ${node.state}: fault rules live in its running agent`);
    return node;
  }

  private watch(node: NodeWithLeases): Watched {
    let entry = this.watched.get(node.id);
    if (entry === undefined || entry.ref !== faultRefOf(node)) {
      entry = { id: node.id, name: node.name, ref: faultRefOf(node), seen: entry?.seen ?? new Map() };
      this.watched.set(node.id, entry);
    }
    return entry;
  }

  private changed(nodeId: string): void {
    this.changes.set(nodeId, (this.changes.get(nodeId) ?? 0) + 1);
  }

  private unwatch(entry: Watched): void {
    this.watched.delete(entry.id);
    this.changes.delete(entry.id);
    this.metrics.setFaultRules(entry.name, null);
  }

  /** Reads the agent's rules, counts and tells what they did; a node with no rules left stops being watched. */
  private async read(entry: Watched, flush: boolean): Promise<{ rules: readonly AgentFaultRule[]; totals: Readonly<Record<string, number>> }> {
    let faults;
    try {
      faults = await this.control.list(entry.ref);
    } catch (error) {
      throw this.httpError(entry.name, error);
    }
    return this.report(entry, faults, flush);
  }

  private async report(entry: Watched, faults: AgentFaults, flush: boolean): Promise<AgentFaults> {
    const report = reportFaults(entry.seen, faults.rules, Date.now(), FAULT_EVENT_GAP_MS, flush);
    entry.seen = report.seen;
    for (const [kind, count] of report.fired) this.metrics.recordFaultsFired(entry.name, kind, count);
    for (const message of report.events) await this.history.record(entry.id, 'fault', message);
    if (faults.rules.length === 0) this.unwatch(entry);
    else {
      this.watched.set(entry.id, entry);
      this.metrics.setFaultRules(entry.name, faults.rules.length);
    }
    return faults;
  }

  private poll(): void {
    const plan = planFaultReads([...this.watched.values()].filter((entry) => !this.queues.has(entry.id)));
    for (const entry of plan.single) {
      void this.serial(entry.id, () => this.read(entry, false)).catch((error: unknown) => this.pollFailed(entry, error));
    }
    for (const [farm, entries] of plan.farms) {
      if (this.farmReads.has(farm)) continue;
      this.farmReads.add(farm);
      void this.pollFarm(farm, entries).finally(() => this.farmReads.delete(farm));
    }
  }

  /** One call for the farm's BMCs with rules; a BMC the answer leaves out has none left. */
  private async pollFarm(farm: string, entries: readonly Watched[]): Promise<void> {
    const before = entries.map((entry) => this.changes.get(entry.id));
    let all: Map<string, AgentFaults>;
    try {
      all = await this.control.listFarm(farm);
    } catch (error) {
      await Promise.all(entries.map((entry) => this.pollFailed(entry, error)));
      return;
    }
    await Promise.all(entries.map((entry, i) => {
      if (this.changes.get(entry.id) !== before[i] || this.watched.get(entry.id) !== entry) return undefined;
      return this.serial(entry.id, () => this.report(entry, all.get(entry.name) ?? NO_FAULTS, false)).catch((error: unknown) => this.pollFailed(entry, error));
    }));
  }

  private async pollFailed(entry: Watched, error: unknown): Promise<void> {
    const row = await this.nodes.row(entry.name).catch(() => null);
    if (row === null || row.id !== entry.id || row.state !== 'running') this.unwatch(entry);
    else this.logger.debug(`node ${entry.name}: fault rules not read: ${messageOf(error)}`);
  }

  private async sweep(): Promise<void> {
    let rows: NodeWithLeases[];
    try {
      rows = await this.nodes.rows();
    } catch (error) {
      this.logger.warn(`fault rules of the fleet not read at start: ${messageOf(error)}`);
      return;
    }
    const entries = rows.filter((row) => row.state === 'running').map((row): Watched => ({ id: row.id, name: row.name, ref: faultRefOf(row), seen: new Map() }));
    const plan = planFaultReads(entries);
    for (const entry of plan.single) {
      if (this.closed) return;
      await this.serial(entry.id, async () => this.adopt(entry, await this.control.list(entry.ref)))
        .catch((error: unknown) => this.logger.debug(`node ${entry.name}: fault rules not read at start: ${messageOf(error)}`));
    }
    for (const [farm, bmcs] of plan.farms) {
      if (this.closed) return;
      let all: Map<string, AgentFaults>;
      try {
        all = await this.control.listFarm(farm);
      } catch (error) {
        this.logger.debug(`farm ${farm}: fault rules of its BMCs not read at start: ${messageOf(error)}`);
        continue;
      }
      for (const entry of bmcs) {
        const faults = all.get(entry.name);
        if (faults !== undefined) await this.serial(entry.id, async () => this.adopt(entry, faults));
      }
    }
  }

  /** Rules found at start already acted before it: counted from here on, not told as new. */
  private adopt(entry: Watched, faults: AgentFaults): void {
    if (faults.rules.length === 0 || this.watched.has(entry.id)) return;
    entry.seen = reportFaults(new Map(), faults.rules, Date.now(), FAULT_EVENT_GAP_MS).seen;
    this.watched.set(entry.id, entry);
    this.metrics.setFaultRules(entry.name, faults.rules.length);
  }

  /** Runs fn after every earlier call for the same node. */
  private serial<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(nodeId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined).finally(() => {
      if (this.queues.get(nodeId) === tail) this.queues.delete(nodeId);
    });
    this.queues.set(nodeId, tail);
    return run;
  }

  private httpError(name: string, error: unknown): Error {
    if (!(error instanceof FaultControlError)) return error instanceof Error ? error : new Error(String(error));
    switch (error.kind) {
      case 'refused': return new BadRequestException(error.message);
      case 'not-found': return new NotFoundException(`node ${name}: ${error.message}`);
      case 'unreachable': return new BadGatewayException(`node ${name}: ${error.message}`);
    }
  }
}
