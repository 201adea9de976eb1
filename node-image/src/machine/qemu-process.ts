/**
 * The host side of the QEMU machine: the QEMU process itself, qemu-img, and the files QEMU needs
 * before it starts (the disk, the OVMF variable store). The only file of the machine that spawns.
 *
 * QEMU runs in its own process group (detached) and is stopped with SIGKILL to the whole group, so
 * nothing it started survives a power-off. If the agent itself exits, a last 'exit' hook kills the
 * group too; under tini (the node image's init) the container's end does the same.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

export interface QemuExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. spawn ENOENT). */
  readonly error?: string;
}

export interface QemuProcessOptions {
  readonly log?: Logger;
  /** How much of QEMU's stderr to keep for error messages (default 4 KiB). */
  readonly stderrTailBytes?: number;
}

const DEFAULT_STDERR_TAIL_BYTES = 4096;
/** After 'exit', how long to wait for the output pipes to drain before reporting the exit. */
const PIPE_DRAIN_MS = 200;

export class QemuProcess {
  /** Resolves when the process has ended (never rejects). */
  readonly exited: Promise<QemuExit>;
  private exit: QemuExit | undefined;
  private stderr = '';
  private readonly tailBytes: number;
  private readonly log: Logger;

  private constructor(private readonly child: ChildProcess, options: QemuProcessOptions) {
    this.log = options.log ?? silentLogger;
    this.tailBytes = options.stderrTailBytes ?? DEFAULT_STDERR_TAIL_BYTES;
    // Safety net: the agent going away must not leave a VM running on a host without tini.
    const killOnAgentExit = (): void => {
      try {
        this.signalGroup('SIGKILL');
      } catch {
        // The agent is exiting; nothing more can be done.
      }
    };
    process.on('exit', killOnAgentExit);
    this.exited = new Promise((resolve) => {
      const done = (exit: QemuExit): void => {
        if (this.exit) return;
        this.exit = exit;
        process.off('exit', killOnAgentExit);
        resolve(exit);
      };
      child.once('error', (err) => {
        // Without a pid the process never started; otherwise 'exit' follows.
        if (child.pid === undefined) done({ code: null, signal: null, error: err.message });
      });
      child.once('exit', (code, signal) => {
        const timer = setTimeout(() => done({ code, signal }), PIPE_DRAIN_MS);
        child.once('close', () => { clearTimeout(timer); done({ code, signal }); });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => this.log.debug('qemu stdout', { text: chunk.toString('utf8').trimEnd() }));
  }

  /** Starts `binary` with `args` (an array: no shell) in a new process group. */
  static spawn(binary: string, args: readonly string[], options: QemuProcessOptions = {}): QemuProcess {
    const child = spawn(binary, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    return new QemuProcess(child, options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The end of what QEMU wrote on stderr (its error messages), trimmed. */
  stderrTail(): string {
    return this.stderr.trim();
  }

  /** SIGKILL to the process group, then waits for the exit (rejects after timeoutMs). */
  async kill(timeoutMs: number): Promise<QemuExit> {
    if (this.exit) return this.exit;
    this.signalGroup('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`QEMU (pid ${this.pid}) did not exit within ${timeoutMs} ms of SIGKILL`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exit) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private onStderr(text: string): void {
    this.stderr = (this.stderr + text).slice(-this.tailBytes);
    for (const line of text.split('\n')) {
      if (line.trim() !== '') this.log.warn('qemu stderr', { line: line.trimEnd() });
    }
  }
}

/** A short-lived tool (qemu-img): resolves with stdout, rejects with its stderr in the message. */
export function runTool(binary: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      const why = e.killed ? `timed out after ${timeoutMs} ms` : typeof e.code === 'number' ? `exit code ${e.code}` : e.message;
      reject(new Error(`${binary} ${args[0] ?? ''} failed (${why})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/**
 * Creates the VM disk as qcow2 when (and only when) it does not exist. The image is made under a
 * temporary name and hard-linked into place, which fails if the path appeared meanwhile: an existing
 * disk is never overwritten. Returns true when it created the disk.
 */
export async function createDiskImage(qemuImg: string, path: string, sizeBytes: number, timeoutMs: number): Promise<boolean> {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.creating-${process.pid}`;
  rmSync(temporary, { force: true });
  try {
    await runTool(qemuImg, ['create', '-q', '-f', 'qcow2', temporary, String(sizeBytes)], timeoutMs);
    linkSync(temporary, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Throws an error naming the file when it is missing, a directory or unreadable. */
export function checkReadableFile(path: string, what: string): void {
  try {
    const fd = openSync(path, 'r');
    closeSync(fd);
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory, not a file' : e.message;
    throw new Error(`cannot read ${what} ${path}: ${reason}`);
  }
}

/** The first bytes of a qcow2 image ("QFI\xfb", qcow2 specification, header offset 0). */
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/**
 * 'qcow2' when the file carries qcow2's magic, else 'raw' (the two formats VM_DISK is used with).
 * A disk that cannot be read (a directory, a missing file, no permission) throws an error that names
 * the disk, which is what the power-on failure then tells the log and the user.
 */
export function detectDiskFormat(path: string): 'qcow2' | 'raw' {
  const head = Buffer.alloc(QCOW2_MAGIC.length);
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot read the VM disk ${path}: ${e.code === 'EISDIR' ? 'it is a directory, not a disk image' : e.message}`);
  }
  return n === head.length && head.equals(QCOW2_MAGIC) ? 'qcow2' : 'raw';
}

/**
 * The node's OVMF variable store (UEFI NVRAM: boot entries, settings): copied from the firmware's
 * template on first use and kept beside the disk from then on. Returns true when it copied.
 */
export function prepareVarsFile(template: string, path: string): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  try {
    copyFileSync(template, path, fsConstants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** /dev/kvm exists and this process may open it read-write. */
export function kvmUsable(device = '/dev/kvm'): boolean {
  try {
    accessSync(device, fsConstants.R_OK | fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}
