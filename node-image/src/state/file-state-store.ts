/**
 * StateStore on a directory (BMC_STATE_DIR). Writes go to a temporary file that is renamed over
 * the old one, so a crash never leaves half a document. The only file of the agent that writes state to disk.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateStore } from './state-store';

const SAFE_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

export class FileStateStore implements StateStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(name: string): string {
    if (!SAFE_NAME.test(name)) throw new Error(`invalid state document name: ${name}`);
    return join(this.dir, name);
  }

  read(name: string): Buffer | undefined {
    try {
      return readFileSync(this.path(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  write(name: string, data: Buffer): void {
    const target = this.path(name);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, target);
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }
}
