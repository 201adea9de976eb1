import { ensureTunDevice, TUN_DIR, TUN_PATH, type TunDeviceSystem } from './tun-device';
import type { Logger } from '../util/logger';

interface Recorded { readonly level: string; readonly msg: string; readonly fields?: Record<string, unknown> }

function recordingLogger(lines: Recorded[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>): void => { lines.push({ level, msg, ...(fields ? { fields } : {}) }); };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as Logger;
}

class FakeDev implements TunDeviceSystem {
  readonly paths = new Set<string>();
  readonly made: string[] = [];
  constructor(private readonly refuse?: string) {}
  exists(path: string): boolean { return this.paths.has(path); }
  makeDirectory(path: string): void { this.paths.add(path); }
  async makeCharacterDevice(path: string, major: number, minor: number): Promise<void> {
    if (this.refuse !== undefined) throw new Error(this.refuse);
    this.made.push(`${path} c ${major}:${minor}`);
    this.paths.add(path);
  }
}

describe('ensureTunDevice', () => {
  it('does nothing when no tap NIC needs it, even where it is missing', async () => {
    const dev = new FakeDev();
    await expect(ensureTunDevice(false, dev, recordingLogger([]))).resolves.toBe('not-needed');
    expect(dev.made).toEqual([]);
  });

  it('leaves a device that is there (docker run --device /dev/net/tun)', async () => {
    const dev = new FakeDev();
    dev.paths.add(TUN_PATH);
    await expect(ensureTunDevice(true, dev, recordingLogger([]))).resolves.toBe('present');
    expect(dev.made).toEqual([]);
  });

  it('makes /dev/net and the c 10:200 node when it is missing (a swarm task)', async () => {
    const dev = new FakeDev();
    const lines: Recorded[] = [];
    await expect(ensureTunDevice(true, dev, recordingLogger(lines))).resolves.toBe('created');
    expect(dev.paths.has(TUN_DIR)).toBe(true);
    expect(dev.made).toEqual(['/dev/net/tun c 10:200']);
    expect(lines.map((l) => l.level)).toEqual(['info']);
  });

  it('logs what the container lacks and carries on when the node cannot be made', async () => {
    const dev = new FakeDev('mknod: /dev/net/tun: Operation not permitted');
    const lines: Recorded[] = [];
    await expect(ensureTunDevice(true, dev, recordingLogger(lines))).resolves.toBe('failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.msg).toContain('CAP_MKNOD');
    expect(lines[0]!.fields?.['error']).toContain('Operation not permitted');
  });
});
