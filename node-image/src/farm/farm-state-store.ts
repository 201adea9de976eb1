/**
 * One state store for a whole farm (BMC_STATE_DIR): every BMC's documents (GUID, users, boot flags,
 * SEL, …) live in memory, and are written to disk in batches, never one synchronous file write per
 * BMC change. BMCs are grouped in shards of `shardSize` consecutive indices, one file each
 * (farm-state-00000.json, …); a flush rewrites only the shards that changed, each to a temporary
 * file renamed over the old one, so a crash leaves every shard whole (the last flushed version).
 * Everything is read back at start.
 *
 * A BMC's state is filed under its index in the farm (BMC 0 is the one at FARM_ADDRESSES or
 * FARM_PORTS), so a farm restarted with the same plan finds each BMC's state again.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateStore } from '../state/state-store';

export const DEFAULT_SHARD_SIZE = 256;
const SHARD_FILE = /^farm-state-(\d{5,})\.json$/;
const FORMAT_VERSION = 1;

/**
 * A BMC's documents: name → "j" + compact JSON for JSON documents (most are), else "b" + base64.
 * Strings cost less than Buffers, and equal documents (every BMC's default user table) are held once.
 */
export type BmcDocuments = Record<string, string>;

/** The stored form of a document (see BmcDocuments). */
export function encodeDocument(data: Buffer): string {
  try {
    return `j${JSON.stringify(JSON.parse(data.toString('utf8')))}`;
  } catch {
    return `b${data.toString('base64')}`;
  }
}

export function decodeDocument(stored: string): Buffer {
  if (stored.startsWith('j')) return Buffer.from(stored.slice(1), 'utf8');
  if (stored.startsWith('b')) return Buffer.from(stored.slice(1), 'base64');
  throw new Error('farm state document in an unknown form');
}

/** Equal strings held once, counted, so a value nobody holds any more is let go. */
class Interned {
  private readonly table = new Map<string, { value: string; holders: number }>();
  take(value: string): string {
    const e = this.table.get(value);
    if (e) { e.holders++; return e.value; }
    this.table.set(value, { value, holders: 1 });
    return value;
  }
  release(value: string): void {
    const e = this.table.get(value);
    if (e && --e.holders === 0) this.table.delete(value);
  }
}

interface ShardFile {
  readonly version: number;
  readonly bmcs: Record<string, BmcDocuments>;
}

/**
 * Every BMC's documents in memory, as StateStores. `onChange` hears each real change (a worker
 * process forwards them to the farm's store; the farm's store marks the shard to write).
 */
export class FarmDocuments {
  private readonly bmcs = new Map<number, Map<string, string>>();
  private readonly interned = new Interned();

  constructor(private readonly onChange: (index: number, name: string, value: string | undefined) => void = () => {}) {}

  /** How many BMCs have any state. */
  get bmcCount(): number { return this.bmcs.size; }

  /** BMC `index`'s documents, as stored (for handing a slice to a worker process, or a shard to disk). */
  documentsOf(index: number): BmcDocuments {
    return Object.fromEntries(this.bmcs.get(index) ?? []);
  }

  has(index: number): boolean { return this.bmcs.has(index); }

  /** Sets (value) or removes (undefined) one document of BMC `index`, in its stored form. */
  set(index: number, name: string, value: string | undefined): void {
    let docs = this.bmcs.get(index);
    const old = docs?.get(name);
    if (old === value) return;
    if (old !== undefined) this.interned.release(old);
    if (value === undefined) {
      docs!.delete(name);
      if (docs!.size === 0) this.bmcs.delete(index);
    } else {
      if (!docs) { docs = new Map(); this.bmcs.set(index, docs); }
      docs.set(name, this.interned.take(value));
    }
    this.onChange(index, name, value);
  }

  /** The stored form of one document, undefined when there is none. */
  get(index: number, name: string): string | undefined { return this.bmcs.get(index)?.get(name); }

  /** The StateStore one BMC sees. */
  forBmc(index: number): StateStore { return new BmcView(this, index); }
}

/** One BMC's StateStore over the farm's documents (methods on the prototype: one per BMC). */
class BmcView implements StateStore {
  constructor(private readonly docs: FarmDocuments, private readonly index: number) {}
  read(name: string): Buffer | undefined {
    const v = this.docs.get(this.index, name);
    return v === undefined ? undefined : decodeDocument(v);
  }
  write(name: string, data: Buffer): void { this.docs.set(this.index, name, encodeDocument(data)); }
  writeJsonText(name: string, json: string): void { this.docs.set(this.index, name, `j${json}`); }
  readJsonText(name: string): string | undefined {
    const v = this.docs.get(this.index, name);
    return v !== undefined && v.startsWith('j') ? v.slice(1) : undefined;
  }
  remove(name: string): void { this.docs.set(this.index, name, undefined); }
}

export class FarmStateStore {
  /** Every BMC's documents; changing one marks its shard for the next flush. */
  readonly documents = new FarmDocuments((index) => this.dirty.add(Math.floor(index / this.shardSize)));
  private readonly dirty = new Set<number>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(readonly dir: string, readonly shardSize: number) {}

  /** Opens (creating) the directory and reads every shard in it; a damaged shard fails loudly. */
  static open(dir: string, shardSize = DEFAULT_SHARD_SIZE): FarmStateStore {
    if (!Number.isInteger(shardSize) || shardSize < 1) throw new Error(`farm state shard size must be a whole number ≥ 1, not ${shardSize}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new FarmStateStore(dir, shardSize);
    for (const name of readdirSync(dir).filter((n) => SHARD_FILE.test(n)).sort()) {
      let shard: ShardFile;
      try {
        shard = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ShardFile;
      } catch (err) {
        throw new Error(`farm state ${join(dir, name)} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (shard.version !== FORMAT_VERSION || typeof shard.bmcs !== 'object' || shard.bmcs === null) {
        throw new Error(`farm state ${join(dir, name)} is not a version ${FORMAT_VERSION} farm state file`);
      }
      for (const [index, docs] of Object.entries(shard.bmcs)) {
        for (const [n, v] of Object.entries(docs)) store.documents.set(Number(index), n, String(v));
      }
      store.dirty.clear(); // what was just read is on disk already
    }
    return store;
  }

  get bmcCount(): number { return this.documents.bmcCount; }

  documentsOf(index: number): BmcDocuments { return this.documents.documentsOf(index); }

  set(index: number, name: string, value: string | undefined): void { this.documents.set(index, name, value); }

  forBmc(index: number): StateStore { return this.documents.forBmc(index); }

  /** Writes every changed shard; concurrent calls share one pass, changes made meanwhile get the next. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.size === 0) return;
    const shards = [...this.dirty];
    this.dirty.clear();
    this.flushing = Promise.all(shards.map((s) => this.writeShard(s))).then(() => undefined);
    try {
      await this.flushing;
    } catch (err) {
      for (const s of shards) this.dirty.add(s); // tried again at the next flush
      throw err;
    } finally {
      this.flushing = null;
    }
  }

  /** Flushes every `intervalMs` while something changed; onError hears failed writes (kept dirty). */
  startAutoFlush(intervalMs: number, onError: (err: unknown) => void): void {
    this.stopAutoFlush();
    this.timer = setInterval(() => { if (this.dirty.size > 0) this.flush().catch(onError); }, intervalMs);
    this.timer.unref();
  }

  stopAutoFlush(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async writeShard(shard: number): Promise<void> {
    const bmcs: Record<string, BmcDocuments> = {};
    const from = shard * this.shardSize;
    for (let i = from; i < from + this.shardSize; i++) {
      if (this.documents.has(i)) bmcs[i] = this.documents.documentsOf(i);
    }
    const target = join(this.dir, `farm-state-${String(shard).padStart(5, '0')}.json`);
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: FORMAT_VERSION, bmcs } satisfies ShardFile), { mode: 0o600 });
    await rename(tmp, target);
  }
}
