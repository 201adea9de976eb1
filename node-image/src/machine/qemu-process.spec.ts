import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReadableFile, detectDiskFormat } from './qemu-process';

describe('detectDiskFormat', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-disk-format-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('says qcow2 for a file with the qcow2 magic, raw for anything else (short files too)', () => {
    writeFileSync(join(dir, 'a.qcow2'), Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    writeFileSync(join(dir, 'b.img'), Buffer.alloc(512));
    writeFileSync(join(dir, 'c.img'), Buffer.from([0x51, 0x46]));
    expect(detectDiskFormat(join(dir, 'a.qcow2'))).toBe('qcow2');
    expect(detectDiskFormat(join(dir, 'b.img'))).toBe('raw');
    expect(detectDiskFormat(join(dir, 'c.img'))).toBe('raw');
  });

  it('names the disk when it is a directory', () => {
    const disk = join(dir, 'disk-dir');
    mkdirSync(disk);
    expect(() => detectDiskFormat(disk)).toThrow(`cannot read the VM disk ${disk}: it is a directory, not a disk image`);
  });

  it('names the disk when it cannot be opened', () => {
    const disk = join(dir, 'missing.qcow2');
    expect(() => detectDiskFormat(disk)).toThrow(new RegExp(`^cannot read the VM disk ${disk}: ENOENT`));
  });
});

describe('checkReadableFile', () => {
  it('names the file and the reason when it is missing or a directory, and accepts a readable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-check-'));
    try {
      expect(() => checkReadableFile(join(dir, 'missing.iso'), 'the CD-ROM image (VM_CDROM)')).toThrow(/cannot read the CD-ROM image \(VM_CDROM\) .*missing\.iso: no such file/);
      expect(() => checkReadableFile(dir, 'the CD-ROM image (VM_CDROM)')).toThrow(/it is a directory/);
      writeFileSync(join(dir, 'ok.iso'), 'x');
      expect(() => checkReadableFile(join(dir, 'ok.iso'), 'the CD-ROM image (VM_CDROM)')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
