/**
 * A managed farm: a farm whose BMCs are added and removed while it runs (by the orchestrator,
 * through farm-control.ts), each at the address and ports it is given, with its own node id, name
 * and credentials. The roster (farm-roster.ts) says which BMCs it hosts and is written before a
 * change is answered; the state store (farm-state-store.ts) keeps every BMC's state. A farm started
 * again on the same state directory hosts every BMC of its roster again, with its state.
 */
import type { BmcAgent } from '../bmc/bmc-agent';
import type { Logger } from '../util/logger';
import { Farm } from './farm';
import type { FarmStateStore } from './farm-state-store';
import { FarmRoster, RosterError, settingsOf, type RosterBmc, type RosterEntry } from './farm-roster';

/** BMCs started at once when a farm restarts or a batch comes in. */
const ADD_CONCURRENCY = 64;

export interface BmcStatus {
  readonly nodeId: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly redfishPort: number | null;
  readonly power: 'on' | 'off';
}

export interface AddOutcome {
  /** Started by this call. */
  readonly added: readonly string[];
  /** Hosted already exactly as asked. */
  readonly present: readonly string[];
  readonly failed: readonly { readonly name: string; readonly error: string }[];
}

export interface RemoveOutcome {
  readonly removed: readonly string[];
  /** Not hosted (or hosted for another node id: left alone). */
  readonly absent: readonly string[];
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class ManagedFarm {
  /** One change of the roster at a time (adds and removes of one request are written together). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly farm: Farm, private readonly roster: FarmRoster, private readonly state: FarmStateStore, private readonly log: Logger) {}

  /** Starts every BMC of the roster; one that cannot start is logged and left out of this run (kept in the roster). */
  static async start(farm: Farm, roster: FarmRoster, state: FarmStateStore, log: Logger): Promise<ManagedFarm> {
    const managed = new ManagedFarm(farm, roster, state, log);
    await eachLimited(roster.entries(), ADD_CONCURRENCY, async (entry) => {
      try {
        await farm.add(settingsOf(entry));
      } catch (err) {
        log.error('BMC of the roster could not start', { bmc: entry.name, error: err instanceof Error ? err.message : String(err) });
      }
    });
    return managed;
  }

  get size(): number { return this.roster.size; }

  /** Every hosted BMC with its power state, in name order: the orchestrator's bulk view of the farm. */
  async list(): Promise<BmcStatus[]> {
    const out: BmcStatus[] = [];
    for (const e of this.roster.entries().sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const power = (await this.farm.powerOf(e.name)) ?? 'off';
      out.push({ nodeId: e.nodeId, name: e.name, address: e.address, port: e.port, redfishPort: e.redfishPort, power });
    }
    return out;
  }

  /** Adds BMCs (idempotent per BMC); the roster is on disk before this resolves. */
  add(bmcs: readonly RosterBmc[]): Promise<AddOutcome> {
    return this.serial(async () => {
      const added: string[] = [];
      const present: string[] = [];
      const failed: { name: string; error: string }[] = [];
      const fresh: RosterEntry[] = [];
      for (const bmc of bmcs) {
        try {
          const admitted = this.roster.admit(bmc);
          if (admitted === 'present') present.push(bmc.name);
          else if (fresh.some((f) => f.name === bmc.name || (f.address === bmc.address && f.port === bmc.port))) throw new RosterError(`${bmc.name}: its name or address:port is twice in this request`);
          else fresh.push(admitted);
        } catch (err) {
          if (!(err instanceof RosterError)) throw err;
          failed.push({ name: bmc.name, error: err.message });
        }
      }
      await eachLimited(fresh, ADD_CONCURRENCY, async (entry) => {
        try {
          await this.farm.add(settingsOf(entry));
          this.roster.put(entry);
          added.push(entry.name);
        } catch (err) {
          failed.push({ name: entry.name, error: err instanceof Error ? err.message : String(err) });
        }
      });
      this.roster.save();
      if (added.length > 0 || failed.length > 0) this.log.info('farm BMCs added', { added: added.length, present: present.length, failed: failed.length });
      return { added, present, failed };
    });
  }

  /**
   * Removes BMCs named with their node id (a BMC of that name for another node stays); with purge
   * their saved state goes too (also the state a BMC removed earlier without purge left behind).
   */
  remove(bmcs: readonly { readonly name: string; readonly nodeId: string }[], purge: boolean): Promise<RemoveOutcome> {
    return this.serial(async () => {
      const removed: string[] = [];
      const absent: string[] = [];
      for (const { name, nodeId } of bmcs) {
        const entry = this.roster.get(name);
        if (entry && entry.nodeId !== nodeId) { absent.push(name); continue; }
        if (entry) await this.farm.remove(name);
        const index = this.roster.drop(name, purge);
        if (index !== undefined) this.clearState(index);
        (entry ? removed : absent).push(name);
      }
      this.roster.save();
      if (removed.length > 0) this.log.info('farm BMCs removed', { removed: removed.length, purge });
      return { removed, absent };
    });
  }

  /** The BMC's agent (woken), for its fault rules; undefined when the farm does not host it. */
  agentOf(name: string): Promise<BmcAgent | undefined> {
    return this.roster.get(name) ? this.farm.agentOf(name) : Promise.resolve(undefined);
  }

  /** Writes what changed in the farm's state now (a fault rule added or removed is on disk before it is answered). */
  flush(): Promise<void> { return this.state.flush(); }

  /**
   * The fault rules of every BMC that has some: one answer for the whole farm. A resting BMC has none (rules keep a BMC awake, saved ones wake it at start).
   */
  faultsOfAll(): Record<string, BmcAgent['faults']> {
    const out: Record<string, BmcAgent['faults']> = {};
    for (const e of this.roster.entries()) {
      const agent = this.farm.find(e.name)?.agent;
      if (agent && agent.faults.engine.list().length > 0) out[e.name] = agent.faults;
    }
    return out;
  }

  private clearState(index: number): void {
    for (const doc of Object.keys(this.state.documentsOf(index))) this.state.set(index, doc, undefined);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
