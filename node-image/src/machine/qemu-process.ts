/**
 * The host side of the QEMU machine: qemu-img and the files QEMU needs before it starts (the disk,
 * the OVMF variable store). QEMU itself runs as a SupervisedProcess (exec/child-process.ts): in its
 * own process group, stopped with SIGKILL to the whole group, so nothing it started survives a
 * power-off or the agent.
 */
import { accessSync, closeSync, constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCommand } from '../exec/child-process';

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
    await runCommand(qemuImg, ['create', '-q', '-f', 'qcow2', temporary, String(sizeBytes)], { timeoutMs });
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
