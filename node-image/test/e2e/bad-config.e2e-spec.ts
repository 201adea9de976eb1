/**
 * Bad VM configuration on a real node container: a missing ISO, VM_BOOT_MODE=bogus, a disk that
 * cannot be read (a directory; a qcow2 with a corrupt header) and VM_MEMORY=abc. For each, the
 * container keeps running, its log names the problem, ipmitool still manages the node (power status
 * answers), `power on` fails with a completion code instead of hanging, and no disk is touched: the
 * files on /vm are byte for byte what they were, and nothing new appears there but the BMC's state.
 * The nodes start in parallel (none of them boots anything).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { checkPrerequisites, describeE2e, E2eFleet, type NodeContainer, sha256File, withNodeLogs } from './node-container';

interface BadCase {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  /** What the log must say (as JSON-escaped text in the agent's log line). */
  readonly log: RegExp;
  /** Prepares /vm beyond the existing disk (/vm/disk.qcow2, random bytes). */
  readonly prepare?: (vmDir: string) => void;
}

/** The qcow2 magic followed by garbage: QEMU refuses the header. */
function writeCorruptQcow2(path: string): void {
  writeFileSync(path, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), randomBytes(64 * 1024 - 4)]));
}

const CASES: readonly BadCase[] = [
  {
    name: 'VM_CDROM names a missing ISO',
    env: { VM_CDROM: '/iso/missing.iso' },
    log: /cannot read the CD-ROM image \(VM_CDROM\) \/iso\/missing\.iso: no such file/,
  },
  {
    name: 'VM_BOOT_MODE=bogus',
    env: { VM_BOOT_MODE: 'bogus' },
    log: /VM_BOOT_MODE=\\"bogus\\" must be bios \(SeaBIOS\) or uefi \(OVMF\)/,
  },
  {
    name: 'VM_DISK is a directory',
    env: { VM_DISK: '/vm/disk-dir' },
    log: /\/vm\/disk-dir[^"]*directory/,
    prepare: (vmDir) => mkdirSync(join(vmDir, 'disk-dir')),
  },
  {
    name: 'VM_DISK is a qcow2 with a corrupt header',
    env: { VM_DISK: '/vm/corrupt.qcow2' },
    log: /\/vm\/corrupt\.qcow2[^"]*qcow2/,
    prepare: (vmDir) => writeCorruptQcow2(join(vmDir, 'corrupt.qcow2')),
  },
  {
    name: 'VM_MEMORY=abc',
    env: { VM_MEMORY: 'abc' },
    log: /VM_MEMORY=\\"abc\\" must be a number of MiB/,
  },
];

/** Every file under dir (relative path → sha256, or 'dir'), except the BMC's own state. */
function snapshot(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, rel))) {
    const path = join(rel, entry);
    if (path === 'bmc') continue;
    if (statSync(join(dir, path)).isDirectory()) {
      out[path] = 'dir';
      Object.assign(out, snapshot(dir, path));
    } else {
      out[path] = sha256File(join(dir, path));
    }
  }
  return out;
}

describeE2e('node container: bad VM configuration keeps the BMC manageable and touches no disk', () => {
  const fleet = new E2eFleet('badcfg');
  const nodes = new Map<string, { node: NodeContainer; before: Record<string, string> }>();

  beforeAll(async () => {
    await checkPrerequisites();
    await Promise.all(CASES.map(async (c) => {
      const vmDir = fleet.tempDir('vm');
      writeFileSync(join(vmDir, 'disk.qcow2'), randomBytes(1024 * 1024));
      c.prepare?.(vmDir);
      const before = snapshot(vmDir);
      nodes.set(c.name, { node: await fleet.start({ vmDir, env: c.env }), before });
    }));
  });
  afterAll(() => fleet.cleanup());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { node, before } = nodes.get(c.name)!;
    await withNodeLogs(node, async () => {
      expect(await node.powerState()).toBe('off');

      const on = await node.ipmi(['power', 'on']);
      expect(on.status).not.toBe(0);
      expect(on.status).not.toBeNull(); // null: killed at the time limit (a hang)
      expect(on.stderr).toContain('Set Chassis Power Control to Up/On failed: Unspecified error');

      expect(await node.logs()).toMatch(c.log);
      expect(await node.powerState()).toBe('off');
      expect(await node.ipmiOk(['chassis', 'status'])).toMatch(/Power Control Fault\s*: true/);
      expect(await node.inspect('{{.State.Running}} {{.RestartCount}}')).toBe('true 0');
      expect(snapshot(node.vmDir)).toEqual(before);
    });
  });
});
