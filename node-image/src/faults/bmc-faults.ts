/**
 * Where the fault rules meet one BMC's traffic. The agent routes through these hooks:
 * - every UDP datagram before decoding (IPMI "datagram" rules, SOL rules, silences);
 * - every decoded IPMI request before dispatch (IPMI "command" rules: completion code, drop or
 *   duplicate of its reply, delay);
 * - every reply the BMC sends (dropped or sent twice as the request's rules said);
 * - every Redfish request before routing (status with Retry-After, delay, silence);
 * - every power action of the machine (stuck: accepted, nothing happens).
 * Every applied fault is counted and logged as one `fault applied` line naming the rule.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../util/logger';
import type { FaultAction } from './fault-rules';
import { FaultEngine, type FaultDecision, type FaultEvent, type SavedFaultRules } from './fault-engine';
import { readJson, writeJson, type StateStore } from '../state/state-store';
import type { RedfishRequest, RedfishResponse } from '../redfish/http-types';
import { RedfishError } from '../redfish/errors';
import type { MachineControl, PowerAction } from '../machine/machine-control';

/** What the rules decided about the reply of the request being handled. */
interface ReplyPlan { drop: boolean; duplicate: boolean }

export interface BmcFaultsOptions {
  readonly clock: () => number;
  readonly log: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly engine?: FaultEngine;
}

/** RMCP+ session header: auth type 0x06 at byte 4, payload type (bits 5:0) at byte 5; 0x01 is SOL (IPMI v2.0 section 13.6). */
function isSolDatagram(d: Buffer): boolean {
  return d.length > 5 && d[4] === 0x06 && (d[5]! & 0x3f) === 0x01;
}

/** The BMC's state document holding its fault rules with their counts (kept across restarts). */
export const FAULT_RULES_DOCUMENT = 'fault-rules.json';

/** Whether the BMC's state holds fault rules (a farm wakes such a BMC at start, so they act and are listed). */
export function hasSavedFaultRules(store: StateStore): boolean {
  return (readJson<SavedFaultRules>(store, FAULT_RULES_DOCUMENT)?.rules.length ?? 0) > 0;
}

/** Never sent: the reply of a request whose session expired is dropped. */
const CC_UNSPECIFIED = 0xff;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms).unref(); });

export class BmcFaults {
  readonly engine: FaultEngine;
  private readonly replies = new AsyncLocalStorage<ReplyPlan>();
  private readonly sleep: (ms: number) => Promise<void>;
  /** Ends every session (a BMC reboot); set by the agent (and the Redfish service's host). */
  onReboot: (now: number) => void = () => {};
  /** Ends one IPMI session as if it timed out; set by the agent. */
  onIpmiSessionExpiry: (sessionId: number, now: number) => void = () => {};
  /** Ends the Redfish session holding this X-Auth-Token; set by the Redfish service's host. */
  onRedfishSessionExpiry: (token: string, now: number) => void = () => {};
  /** Ends the active SOL payload from the BMC's side; set by the agent. */
  onSolDeactivate: (now: number) => void = () => {};
  /** Power actions of machine() not finished yet. */
  private powerActions = 0;

  constructor(private readonly o: BmcFaultsOptions) {
    this.engine = o.engine ?? new FaultEngine();
    this.sleep = o.sleep ?? defaultSleep;
  }

  /**
   * Keeps the rules in the BMC's state store: takes back what it holds (a restarted BMC has its rules
   * again, with their ids and counts) and writes every change. No rules, no document.
   */
  keepIn(store: StateStore): void {
    const saved = readJson<SavedFaultRules>(store, FAULT_RULES_DOCUMENT);
    if (saved !== undefined && Array.isArray(saved.rules)) {
      this.engine.restore(saved);
      if (saved.rules.length > 0) this.o.log.info('fault rules restored', { rules: saved.rules.map((r) => r.id) });
    }
    this.engine.onChange = () => {
      const now = this.engine.saved();
      if (now.rules.length === 0) store.remove(FAULT_RULES_DOCUMENT);
      else writeJson(store, FAULT_RULES_DOCUMENT, now);
    };
  }

  private decide(e: FaultEvent): FaultDecision | null {
    const now = this.o.clock();
    const d = this.engine.decide(e, now);
    if (d?.kind === 'apply') {
      this.o.log.warn('fault applied', { rule: d.ruleId, action: d.action.kind, ...detail(d.action), event: describe(e), times: d.times });
      if (d.action.kind === 'bmc-reboot') this.onReboot(now);
    }
    return d;
  }

  /** Wraps the UDP datagram handler: silences, datagram-stage rules, and the reply plan of each request. */
  datagramHandler<R>(handler: (d: Buffer, from: R) => Promise<void>): (d: Buffer, from: R) => Promise<void> {
    return async (d, from) => {
      const decision = this.decide(isSolDatagram(d) ? { protocol: 'sol' } : { protocol: 'ipmi', stage: 'datagram' });
      // No rule at all: no reply plan to keep (the usual case, without the cost of a context).
      if (!decision && this.engine.list().length === 0) return handler(d, from);
      const plan: ReplyPlan = { drop: false, duplicate: false };
      if (decision) {
        if (decision.kind === 'silent') return;
        const a = decision.action;
        if (a.kind === 'sol-deactivate') { this.onSolDeactivate(this.o.clock()); return; }
        if (a.kind === 'drop' || a.kind === 'stop-answering' || a.kind === 'bmc-reboot') return;
        if (a.kind === 'delay') await this.sleep(a.ms);
        if (a.kind === 'duplicate') plan.duplicate = true;
      }
      await this.replies.run(plan, () => handler(d, from));
    };
  }

  /** Wraps the UDP send: the reply of a request whose rules said drop or duplicate. */
  sender<R>(send: (d: Buffer, to: R) => void): (d: Buffer, to: R) => void {
    return (d, to) => {
      const plan = this.replies.getStore();
      if (plan?.drop) return;
      send(d, to);
      if (plan?.duplicate) send(d, to);
    };
  }

  /**
   * Before a decoded IPMI request is dispatched: a completion code instead of the command, or the
   * command carried out with its reply dropped/duplicated/late.
   */
  async beforeCommand(netFn: number, cmd: number, sessionId = 0): Promise<{ cc: number } | null> {
    const decision = this.decide({ protocol: 'ipmi', stage: 'command', netFn, cmd, inSession: sessionId !== 0 });
    if (!decision) return null;
    const plan = this.replies.getStore();
    if (decision.kind === 'silent') { if (plan) plan.drop = true; return null; }
    const a = decision.action;
    switch (a.kind) {
      case 'completion-code': return { cc: a.code };
      case 'delay': await this.sleep(a.ms); return null;
      case 'duplicate': if (plan) plan.duplicate = true; return null;
      case 'session-expiry':
        // The session is gone before the request is carried out; a BMC drops what names an unknown session.
        if (plan) plan.drop = true;
        this.onIpmiSessionExpiry(sessionId, this.o.clock());
        return { cc: CC_UNSPECIFIED };
      default: if (plan) plan.drop = true; return null;
    }
  }

  /** Wraps the Redfish request handler (before routing). */
  redfishHandler(handle: (req: RedfishRequest, now: number) => Promise<RedfishResponse>): (req: RedfishRequest, now: number) => Promise<RedfishResponse> {
    return async (req, now) => {
      const decision = this.decide({ protocol: 'redfish', method: req.method.toUpperCase(), path: req.path, ...resetTypeOf(req), inSession: req.headers['x-auth-token'] !== undefined });
      if (decision) {
        if (decision.kind === 'silent') {
          // An unreachable BMC: the request hangs until the silence ends, then is refused.
          await this.sleep(Math.max(0, decision.until - this.o.clock()));
          throw unavailable(1);
        }
        const a = decision.action;
        if (a.kind === 'delay') { await this.sleep(a.ms); return handle(req, this.o.clock()); }
        if (a.kind === 'http-status') throw statusError(a.status, a.retryAfter);
        if (a.kind === 'session-expiry') {
          const token = req.headers['x-auth-token'];
          if (token !== undefined) this.onRedfishSessionExpiry(token, now);
        }
        if (a.kind === 'stop-answering' || a.kind === 'bmc-reboot') { await this.sleep(a.ms); throw unavailable(1); }
      }
      return handle(req, now);
    };
  }

  /** A power action through machine() is still being carried out. */
  get powerInProgress(): boolean { return this.powerActions > 0; }

  /** A machine whose power actions may be stuck (accepted, nothing happens) or slow. */
  machine(m: MachineControl): MachineControl {
    const power = m.power.bind(m);
    const faults = this;
    return new Proxy(m, {
      get(target, prop, receiver) {
        if (prop !== 'power') return Reflect.get(target, prop, receiver) as unknown;
        return async (action: PowerAction): Promise<void> => {
          const d = faults.decide({ protocol: 'power', resetType: action });
          if (d?.kind === 'apply' && d.action.kind === 'power-stuck') return;
          faults.powerActions++;
          try {
            if (d?.kind === 'apply' && d.action.kind === 'delay') await faults.sleep(d.action.ms);
            return await power(action);
          } finally {
            faults.powerActions--;
          }
        };
      },
    });
  }
}

function resetTypeOf(req: RedfishRequest): { resetType?: string } {
  if (req.method.toUpperCase() !== 'POST' || !req.path.endsWith('.Reset') || req.body.length === 0 || req.body.length > 4096) return {};
  try {
    const body = JSON.parse(req.body.toString('utf8')) as { ResetType?: unknown };
    return typeof body.ResetType === 'string' ? { resetType: body.ResetType } : {};
  } catch {
    return {};
  }
}

function unavailable(retryAfter: number): RedfishError {
  return new RedfishError(503, 'ServiceTemporarilyUnavailable', `The service is temporarily unavailable. Retry in ${retryAfter} seconds.`, [String(retryAfter)], { 'Retry-After': String(retryAfter) });
}

function statusError(status: number, retryAfter: number | undefined): RedfishError {
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  if (status === 503) return new RedfishError(503, 'ServiceTemporarilyUnavailable', `The service is temporarily unavailable. Retry in ${retryAfter ?? 1} seconds.`, [String(retryAfter ?? 1)], headers);
  if (status === 409) return new RedfishError(409, 'ResourceInUse', 'The change to the requested resource failed because the resource is in use or in transition.', [], headers);
  return new RedfishError(status, 'GeneralError', 'A general error has occurred. See Resolution for information on how to resolve the error.', [], headers);
}

function detail(a: FaultAction): Record<string, unknown> {
  switch (a.kind) {
    case 'completion-code': return { code: `0x${a.code.toString(16).padStart(2, '0')}` };
    case 'delay': case 'stop-answering': case 'bmc-reboot': return { ms: a.ms };
    case 'http-status': return a.retryAfter === undefined ? { status: a.status } : { status: a.status, retryAfter: a.retryAfter };
    default: return {};
  }
}

function describe(e: FaultEvent): string {
  switch (e.protocol) {
    case 'ipmi': return e.stage === 'datagram' ? 'ipmi datagram' : `ipmi netFn 0x${e.netFn.toString(16).padStart(2, '0')} cmd 0x${e.cmd.toString(16).padStart(2, '0')}`;
    case 'sol': return 'sol datagram';
    case 'redfish': return `redfish ${e.method} ${e.path}${e.resetType ? ` ResetType=${e.resetType}` : ''}`;
    case 'power': return `power ${e.resetType}`;
  }
}
