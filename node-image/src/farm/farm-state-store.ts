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
 *
 * A shard file (version 2) holds each distinct document once, in `values`, and each BMC's documents
 * as indices into it: most BMCs of a farm share their users table and SEL, so a shard is written
 * (and serialised) at a fraction of its BMCs' sum. Version 1 files (documents inline) are read too.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateStore } from '../state/state-store';

export const DEFAULT_SHARD_SIZE = 256;
const SHARD_FILE = /^farm-state-(\d{5,})\.json$/;
const FORMAT_VERSION = 2;
const INLINE_FORMAT_VERSION = 1;

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

/** Version 2: every distinct document once; a BMC's documents name their index in `values`. */
interface ShardFile {
  readonly version: typeof FORMAT_VERSION;
  readonly values: readonly string[];
  readonly bmcs: Record<string, Record<string, number>>;
}

/** Version 1: every BMC's documents inline. */
interface InlineShardFile {
  readonly version: typeof INLINE_FORMAT_VERSION;
  readonly bmcs: Record<string, BmcDocuments>;
}

/** The documents of every BMC in a shard file's text; throws on anything but a version 1 or 2 shard. */
export function readShard(text: string): Map<number, BmcDocuments> {
  const file = JSON.parse(text) as Partial<ShardFile> | Partial<InlineShardFile>;
  const out = new Map<number, BmcDocuments>();
  if (typeof file.bmcs !== 'object' || file.bmcs === null) throw new Error('no bmcs');
  if (file.version === INLINE_FORMAT_VERSION) {
    for (const [index, docs] of Object.entries(file.bmcs as Record<string, BmcDocuments>)) out.set(Number(index), docs);
    return out;
  }
  const values = (file as Partial<ShardFile>).values;
  if (file.version !== FORMAT_VERSION || !Array.isArray(values)) throw new Error(`not a version ${INLINE_FORMAT_VERSION} or ${FORMAT_VERSION} farm state file`);
  for (const [index, refs] of Object.entries(file.bmcs as Record<string, Record<string, number>>)) {
    const docs: BmcDocuments = {};
    for (const [name, ref] of Object.entries(refs)) {
      const value = values[ref];
      if (typeof value !== 'string') throw new Error(`BMC ${index}'s ${name} names no stored value`);
      docs[name] = value;
    }
    out.set(Number(index), docs);
  }
  return out;
}

/** A shard file's text for these BMCs' documents (version 2). */
export function writeShardText(bmcs: Iterable<[number, ReadonlyMap<string, string>]>): string {
  const refs = new Map<string, number>();
  const values: string[] = [];
  const out: Record<string, Record<string, number>> = {};
  for (const [index, docs] of bmcs) {
    const entry: Record<string, number> = {};
    for (const [name, value] of docs) {
      let ref = refs.get(value);
      if (ref === undefined) { ref = values.length; values.push(value); refs.set(value, ref); }
      entry[name] = ref;
    }
    out[index] = entry;
  }
  return JSON.stringify({ version: FORMAT_VERSION, values, bmcs: out } satisfies ShardFile);
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

  /** BMC `index`'s documents as held (not copied), undefined when it has none. */
  heldBy(index: number): ReadonlyMap<string, string> | undefined { return this.bmcs.get(index); }

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
      let text: string;
      try {
        text = readFileSync(join(dir, name), 'utf8');
      } catch (err) {
        throw new Error(`farm state ${join(dir, name)} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
      let bmcs: Map<number, BmcDocuments>;
      try {
        bmcs = readShard(text);
      } catch (err) {
        const reason = err instanceof SyntaxError ? `cannot be read: ${err.message}` : `is not a version ${INLINE_FORMAT_VERSION} or ${FORMAT_VERSION} farm state file (${err instanceof Error ? err.message : String(err)})`;
        throw new Error(`farm state ${join(dir, name)} ${reason}`);
      }
      for (const [index, docs] of bmcs) {
        for (const [n, v] of Object.entries(docs)) store.documents.set(index, n, String(v));
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
    const bmcs: Array<[number, ReadonlyMap<string, string>]> = [];
    const from = shard * this.shardSize;
    for (let i = from; i < from + this.shardSize; i++) {
      const docs = this.documents.heldBy(i);
      if (docs) bmcs.push([i, docs]);
    }
    const target = join(this.dir, `farm-state-${String(shard).padStart(5, '0')}.json`);
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, writeShardText(bmcs), { mode: 0o600 });
    await rename(tmp, target);
  }
}
