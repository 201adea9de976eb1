/**
 * Where the BMC keeps what must survive its restarts (users, GUID, boot flags, SEL). One small
 * named document each; writes are atomic. FileStateStore is the only implementation touching disk.
 */
export interface StateStore {
  read(name: string): Buffer | undefined;
  write(name: string, data: Buffer): void;
  /** Removes the document; nothing when there is none. */
  remove(name: string): void;
}

/** For tests and for a BMC that must not persist anything. */
export class MemoryStateStore implements StateStore {
  private readonly docs = new Map<string, Buffer>();
  read(name: string): Buffer | undefined { return this.docs.get(name); }
  write(name: string, data: Buffer): void { this.docs.set(name, Buffer.from(data)); }
  remove(name: string): void { this.docs.delete(name); }
}

export function readJson<T>(store: StateStore, name: string): T | undefined {
  const raw = store.read(name);
  if (!raw) return undefined;
  return JSON.parse(raw.toString('utf8')) as T;
}

export function writeJson(store: StateStore, name: string, value: unknown): void {
  store.write(name, Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8'));
}
