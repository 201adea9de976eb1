/**
 * Spreading a farm over worker processes. A process can hold as many BMCs as it has file
 * descriptors for (one UDP socket per BMC, one more with Redfish) and as one core can serve; past
 * that the farm forks workers, each hosting a slice of consecutive BMCs (slices never split a
 * state shard). The parent keeps the one state store: a worker gets its slice's documents when it
 * starts and sends every change back as it happens (the changes of one turn of its event loop in one
 * message), so a worker that dies (killed, crashed) is started again with every change it had made,
 * and the parent writes the shards in batches.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger';
import type { BmcDocuments, FarmStateStore } from './farm-state-store';
import type { LabLan } from './lab-network';

/** Descriptors a process keeps for itself (stdio, IPC, state files, Redfish connections…). */
export const RESERVED_FDS = 512;
/** Restarts of one worker within RESTART_WINDOW_MS before the farm gives up on it. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 500;
/** V8 flags of a worker, as in `npm run farm`: a small young generation, a collection after the start (docs/architecture.md). */
export const WORKER_EXEC_ARGV = ['--max-semi-space-size=8', '--expose-gc'];

/** Parent → worker, then worker → parent messages. */
export type ToWorker = { readonly type: 'start'; readonly from: number; readonly to: number; readonly documents: Record<number, BmcDocuments>; readonly lan?: LabLan };
export type FromWorker =
  | { readonly type: 'ready'; readonly bmcs: number }
  /** State changes in the order made ([BMC index, document name, stored form or null when removed]), sent once per turn of the worker's event loop. */
  | { readonly type: 'state'; readonly changes: ReadonlyArray<readonly [number, string, string | null]> }
  | { readonly type: 'failed'; readonly error: string };

/** The open-files limit of this process from /proc/self/limits (Node raises the soft limit to the hard one). */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  const soft = m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  return Number.isFinite(soft) ? soft : undefined;
}

export function openFilesLimit(): number {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8')) ?? 1024;
  } catch {
    return 1024;
  }
}

/** BMCs one process hosts at most when FARM_WORKERS does not say: past that, another core helps. */
export const MAX_BMCS_PER_PROCESS = 25_000;

/**
 * How many processes a farm of `count` BMCs takes: one, unless its sockets do not fit one process's
 * descriptors or it has more than MAX_BMCS_PER_PROCESS BMCs.
 */
export function workersNeeded(count: number, fdsPerBmc: number, fdLimit: number): number {
  const perProcess = Math.max(1, fdLimit - RESERVED_FDS);
  return Math.max(1, Math.ceil((count * fdsPerBmc) / perProcess), Math.ceil(count / MAX_BMCS_PER_PROCESS));
}

/** [from, to) of each of `workers` slices of `count` BMCs, cut at multiples of `shardSize`. */
export function slicesOf(count: number, workers: number, shardSize: number): Array<[number, number]> {
  const shards = Math.ceil(count / shardSize);
  const n = Math.min(workers, shards);
  const out: Array<[number, number]> = [];
  for (let w = 0, shard = 0; w < n; w++) {
    const take = Math.floor(shards / n) + (w < shards % n ? 1 : 0);
    const from = shard * shardSize;
    shard += take;
    out.push([from, Math.min(count, shard * shardSize)]);
  }
  return out;
}

interface WorkerSlot {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  child: ChildProcess | null;
  restarts: number[];
}

export class FarmSupervisor {
  private readonly slots: WorkerSlot[];
  private stopping = false;

  constructor(
    private readonly slices: ReadonlyArray<[number, number]>,
    private readonly state: FarmStateStore,
    private readonly log: Logger,
    private readonly workerScript = join(__dirname, 'farm-worker.js'),
    /** The lab network the parent put the BMCs' addresses on (FARM_INTERFACE), for their `lan print`. */
    private readonly lan?: LabLan,
  ) {
    this.slots = slices.map(([from, to], id) => ({ id, from, to, child: null, restarts: [] }));
  }

  /** Process ids of the running workers, in slice order (tests kill one). */
  get pids(): Array<number | undefined> { return this.slots.map((s) => s.child?.pid); }

  /** Starts every worker; resolves when all host their BMCs, rejects when one cannot. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.startWorker(s)));
  }

  private startWorker(slot: WorkerSlot): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = fork(this.workerScript, [], { execArgv: WORKER_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      slot.child = child;
      let ready = false;
      child.on('message', (m: FromWorker) => {
        if (m.type === 'state') { for (const [index, name, value] of m.changes) this.state.set(index, name, value ?? undefined); }
        else if (m.type === 'ready') {
          ready = true;
          this.log.info('farm worker ready', { worker: slot.id, pid: child.pid, from: slot.from, to: slot.to - 1, bmcs: m.bmcs });
          resolve();
        } else if (m.type === 'failed') {
          reject(new Error(`farm worker ${slot.id} (BMCs ${slot.from}–${slot.to - 1}): ${m.error}`));
        }
      });
      child.on('exit', (code, signal) => {
        if (slot.child === child) slot.child = null;
        if (!ready) { reject(new Error(`farm worker ${slot.id} exited before it was ready (${signal ?? `code ${code}`})`)); return; }
        if (this.stopping) return;
        this.log.error('farm worker died; starting it again with its BMCs\' state', { worker: slot.id, pid: child.pid, code, signal });
        // State changes the worker sent before it died may still be in the channel: the new worker
        // starts from the documents once the channel has been read to its end.
        if (child.connected) child.once('disconnect', () => this.restart(slot));
        else this.restart(slot);
      });
      const documents: Record<number, BmcDocuments> = {};
      for (let i = slot.from; i < slot.to; i++) if (this.state.documents.has(i)) documents[i] = this.state.documentsOf(i);
      child.send({ type: 'start', from: slot.from, to: slot.to, documents, ...(this.lan ? { lan: this.lan } : {}) } satisfies ToWorker);
    });
  }

  private restart(slot: WorkerSlot): void {
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (slot.restarts.length >= MAX_RESTARTS) {
      this.log.error('farm worker keeps dying; its BMCs stay down', { worker: slot.id, restarts: slot.restarts.length, windowMs: RESTART_WINDOW_MS });
      return;
    }
    slot.restarts.push(now);
    // The old worker's sockets must be closed before the new one binds the same addresses.
    setTimeout(() => {
      if (this.stopping) return;
      this.startWorker(slot).catch((err: unknown) => {
        this.log.error('farm worker could not be started again', { worker: slot.id, error: err instanceof Error ? err.message : String(err) });
        if (!this.stopping) this.restart(slot);
      });
    }, RESTART_DELAY_MS);
  }

  /** Stops every worker (each stops its BMCs); their last changes have reached the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((s) => new Promise<void>((resolve) => {
      const c = s.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
  }
}
