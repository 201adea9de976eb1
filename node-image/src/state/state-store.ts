/**
 * Where the BMC keeps what must survive its restarts (users, GUID, boot flags, SEL). One small
 * named document each; writes are atomic. FileStateStore is the only implementation touching disk.
 */
export interface StateStore {
  read(name: string): Buffer | undefined;
  write(name: string, data: Buffer): void;
  /** Removes the document; nothing when there is none. */
  remove(name: string): void;
  /**
   * Optional, for stores that keep documents as text (a farm's): writeJson/readJson then hand over
   * the JSON text as is, without a Buffer and a reformatting in between.
   */
  writeJsonText?(name: string, json: string): void;
  readJsonText?(name: string): string | undefined;
}

/** For tests and for a BMC that must not persist anything. */
export class MemoryStateStore implements StateStore {
  private readonly docs = new Map<string, Buffer>();
  read(name: string): Buffer | undefined { return this.docs.get(name); }
  write(name: string, data: Buffer): void { this.docs.set(name, Buffer.from(data)); }
  remove(name: string): void { this.docs.delete(name); }
}

export function readJson<T>(store: StateStore, name: string): T | undefined {
  if (store.readJsonText) {
    const text = store.readJsonText(name);
    if (text !== undefined) return JSON.parse(text) as T;
  }
  const raw = store.read(name);
  if (!raw) return undefined;
  return JSON.parse(raw.toString('utf8')) as T;
}

export function writeJson(store: StateStore, name: string, value: unknown): void {
  if (store.writeJsonText) { store.writeJsonText(name, JSON.stringify(value)); return; }
  store.write(name, Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8'));
}
