import { buildQemuArgs, resolveBoot } from '../src/machine/qemu-args';
import { parseQemuConfig } from '../src/machine/qemu-config';
import {
  bareQemuArgs, describeDevices, devicesDiffer, logTimes, OutputWatcher, powerOnPhases, qemuCommandLineFromLog, qemuOptionValue, READY_MARKER,
} from './node-runtime-qemu';
import { cgroupMemoryDir, parseDockerMemUsage, parseKeyValues, parseProcMemory } from './node-runtime-memory';
import { containerTotal, insertBeforeReproduce, medianPhases, NodeRuntimeReport, renderNodeRuntime, summarizeBoots } from './node-runtime-report';
import { defaultNodeArgs } from './node-runtime';

const PATHS = { qmpSocket: '/run/q/qmp.sock', serialSocket: '/run/q/serial.sock', ovmfCode: '/fw/code.fd', ovmfVars: '/vm/vars.fd' };

function args(env: Record<string, string> = {}, nics = false): string[] {
  const { config } = parseQemuConfig(nics ? { ...env, VM_NETWORKS: 'eth1' } : env);
  return buildQemuArgs({
    config, boot: resolveBoot({ device: 'default' }, config), accel: 'tcg', paths: PATHS, diskFormat: 'qcow2',
    ...(nics ? { nics: [{ id: 'net0', tapName: 'tap0', mac: '52:54:00:01:02:03' }] } : {}),
  });
}

describe('the agent\'s QEMU command line', () => {
  it('is read from the last DEBUG entry of the agent\'s log', () => {
    const log = [
      '{"time":"2026-01-01T00:00:00.000Z","level":"info","msg":"BMC listening"}',
      'not json "QEMU command line"',
      '{"time":"2026-01-01T00:00:01.000Z","level":"debug","msg":"QEMU command line","binary":"qemu-a","args":["-S"]}',
      '{"time":"2026-01-01T00:00:02.000Z","level":"debug","msg":"QEMU command line","binary":"qemu-b","args":["-m","512"]}',
    ].join('\n');
    expect(qemuCommandLineFromLog(log)).toEqual({ binary: 'qemu-b', args: ['-m', '512'] });
    expect(qemuCommandLineFromLog('{"msg":"QEMU command line","binary":"q","args":[1]}')).toBeUndefined();
    expect(qemuCommandLineFromLog('')).toBeUndefined();
  });

  it('reads option values, with ",," as an escaped comma', () => {
    expect(qemuOptionValue('socket,id=serial0,path=/a,,b/s.sock,server=off', 'path')).toBe('/a,b/s.sock');
    expect(qemuOptionValue('socket,id=serial0', 'server')).toBeUndefined();
  });

  it('launched bare: no -S, the serial port on stdio, QMP moved, everything else unchanged', () => {
    const agent = args({ VM_CDROM: '/iso/guest.iso', VNC_PORT: 'none' });
    const bare = bareQemuArgs(agent, '/tmp/bench,x/qmp.sock');
    expect(bare).not.toContain('-S');
    expect(bare.join(' ')).not.toContain('serial.sock');
    expect(bare.slice(bare.indexOf('-serial'), bare.indexOf('-serial') + 2)).toEqual(['-serial', 'stdio']);
    expect(bare).toContain('socket,id=qmp0,path=/tmp/bench,,x/qmp.sock,server=on,wait=off');
    // Every other argument is kept, in order.
    const dropped = new Set(['-S', 'chardev:serial0', `socket,id=serial0,path=${PATHS.serialSocket},server=off,reconnect=1`, `socket,id=qmp0,path=${PATHS.qmpSocket},server=on,wait=off`]);
    const kept = agent.filter((a) => !dropped.has(a));
    const keptBare = bare.filter((a) => a !== 'stdio' && !a.startsWith('socket,id=qmp0'));
    expect(keptBare.filter((a) => a !== '-chardev' && a !== '-serial')).toEqual(kept.filter((a) => a !== '-chardev' && a !== '-serial'));
    expect(devicesDiffer(agent, bare)).toEqual(['agent only: -serial chardev:serial0', 'bare only: -serial stdio']);
  });

  it('has a reason for every device of every configuration', () => {
    const configs = [args(), args({ VM_BOOT_MODE: 'uefi', VM_CDROM: '/x.iso', VM_BOOT_MENU_TIMEOUT: '3000' }, true), defaultNodeArgs()];
    for (const a of configs) {
      const rows = describeDevices(a);
      expect(rows.length).toBeGreaterThan(5);
      for (const r of rows) expect(r.why).not.toMatch(/^unexpected|^$/);
    }
    const uefi = describeDevices(configs[1]!);
    expect(uefi.filter((r) => r.option === '-drive' && r.value.startsWith('if=pflash')).map((r) => r.why)).toEqual([
      expect.stringContaining('firmware code'), expect.stringContaining('variable store'),
    ]);
    expect(uefi.find((r) => r.value.startsWith('virtio-net-pci'))?.why).toContain('VM_NETWORKS');
    expect(uefi.find((r) => r.value.startsWith('pcie-root-port'))?.why).toContain('hot-plug');
    expect(describeDevices(['-device', 'usb-tablet'])[0]!.why).toMatch(/^unexpected/);
  });

  it('the default node has VNC, a disk, an empty CD-ROM drive, a USB controller for virtual media and no NIC', () => {
    const d = describeDevices(defaultNodeArgs()).filter((r) => r.option === '-device').map((r) => r.value.split(',')[0]);
    expect(d).toEqual(['VGA', 'virtio-blk-pci', 'ide-cd', 'qemu-xhci']);
    expect(defaultNodeArgs()).toContain('-vnc');
  });
});

describe('timing guest output', () => {
  it('notes the first character and the marker, also when the marker is split across chunks', () => {
    const w = new OutputWatcher();
    w.feed(Buffer.alloc(0), 1);
    expect(w.firstAt).toBeUndefined();
    w.feed(Buffer.from('SeaBIOS\r\n'), 10);
    w.feed(Buffer.from(`... ${READY_MARKER.slice(0, 8)}`), 20);
    expect(w.readyAt).toBeUndefined();
    w.feed(Buffer.from(`${READY_MARKER.slice(8)} firmware=bios`), 30);
    expect(w.firstAt).toBe(10);
    expect(w.readyAt).toBe(30);
    return expect(w.waitReady(10)).resolves.toBe(true);
  });

  it('waitReady gives up after its time', async () => {
    await expect(new OutputWatcher().waitReady(5)).resolves.toBe(false);
  });

  it('splits a power-on into phases from the agent\'s log', () => {
    const log = [
      '{"time":"2026-01-01T00:00:00.050Z","level":"info","msg":"starting QEMU"}',
      '{"time":"2026-01-01T00:00:00.090Z","level":"info","msg":"QEMU started","pid":1}',
      '{"time":"2026-01-01T00:00:09.000Z","level":"info","msg":"starting QEMU"}',
    ].join('\n');
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    expect(logTimes(log, ['starting QEMU']).get('starting QEMU')).toBe(t0 + 50);
    expect(powerOnPhases(log, t0 + 10, t0 + 190)).toEqual({ toSpawnMs: 40, spawnToRunMs: 40, runToFirstByteMs: 100 });
    expect(powerOnPhases('{"time":"x","msg":"starting QEMU"}', t0, t0)).toBeUndefined();
  });
});

describe('memory readers', () => {
  const status = 'Name:\tnode\nVmHWM:\t   52928 kB\nVmRSS:\t   51200 kB\nRssAnon:\t   11264 kB\nRssFile:\t   39936 kB\nThreads:\t11\n';
  const rollup = '00400000-7ffd [rollup]\nRss:  51200 kB\nPss:  17950 kB\nPrivate_Clean:  64 kB\nPrivate_Dirty:  11264 kB\n';

  it('parses /proc/PID/status and smaps_rollup', () => {
    expect(parseProcMemory(status, rollup)).toEqual({ rssKiB: 51200, hwmKiB: 52928, anonKiB: 11264, fileKiB: 39936, pssKiB: 17950, privateKiB: 11328, threads: 11 });
    expect(parseProcMemory(status)).toEqual({ rssKiB: 51200, hwmKiB: 52928, anonKiB: 11264, fileKiB: 39936, threads: 11 });
    expect(parseProcMemory('Name:\tzombie\n')).toBeUndefined();
  });

  it('finds the memory cgroup, v1 and v2', () => {
    expect(cgroupMemoryDir('9:name=systemd:/docker/abc\n4:memory:/docker/abc\n0::/\n')).toEqual({ version: 1, dir: '/sys/fs/cgroup/memory/docker/abc' });
    expect(cgroupMemoryDir('3:cpu,memory:/x\n')).toEqual({ version: 1, dir: '/sys/fs/cgroup/memory/x' });
    expect(cgroupMemoryDir('0::/system.slice/docker-abc.scope\n')).toEqual({ version: 2, dir: '/sys/fs/cgroup/system.slice/docker-abc.scope' });
    expect(cgroupMemoryDir('0::/\n')).toBeUndefined();
  });

  it('parses memory.stat and docker stats', () => {
    expect(parseKeyValues('cache 94208\nrss 14721024\nbad x\n\n')).toEqual({ cache: 94208, rss: 14721024 });
    expect(parseDockerMemUsage('15.81MiB / 23.54GiB')).toBeCloseTo(15.81 * 1024 * 1024);
    expect(parseDockerMemUsage('512KiB / 1GiB')).toBe(512 * 1024);
    expect(parseDockerMemUsage('--')).toBeUndefined();
  });

  it('adds up a container: RSS of its processes, the cgroup charge not in them, the shim\'s anonymous memory', () => {
    const mem = (rssKiB: number, anonKiB: number) => ({ rssKiB, anonKiB });
    const t = containerTotal({
      image: 'i', imageId: 'sha256:0123456789abcdef', dockerVersion: '20', cgroupVersion: 1,
      cgroupUsageBytes: 20 * 1048576, cgroupAnonBytes: 14 * 1048576, cgroupMappedFileBytes: 1 * 1048576,
      processes: [{ pid: 1, command: 'tini -- node /opt/a/dist/main.js', memory: mem(1024, 100) }, { pid: 2, command: 'node /opt/a/dist/main.js', memory: mem(55 * 1024, 14 * 1024) }],
      shim: { pid: 3, command: 'containerd-shim', memory: mem(13 * 1024, 2.5 * 1024) },
      agentListening: true,
    });
    expect(t.agent?.pid).toBe(2);
    expect(t.cgroupOtherBytes).toBe(5 * 1048576);
    expect(t.totalMiB).toBeCloseTo(1 + 55 + 5 + 2.5);
    expect(t.uniqueMiB).toBeCloseTo(100 / 1024 + 14 + 5 + 2.5);
  });
});

describe('the node-runtime section', () => {
  const boot = (firstByteMs: number, readyMs: number, extra = {}) => ({ firstByteMs, readyMs, bytes: 100, ...extra });
  const report: NodeRuntimeReport = {
    runs: 3, durationS: 100, qemuVersion: 'QEMU 7.2', guest: 'kernel 6.1',
    agentEnv: { MACHINE: 'qemu', VM_CDROM: '/abs/path/guest.iso' },
    commandLine: { binary: 'qemu-system-x86_64', args: args() }, bareArgs: bareQemuArgs(args(), '/tmp/q.sock'),
    agentRuns: [boot(100, 9000, { phases: { toSpawnMs: 5, spawnToRunMs: 30, runToFirstByteMs: 60 } }), boot(110, 9100), boot(0, 0, { error: 'boom' })],
    bareRuns: [boot(90, 9500), boot(100, 9600), boot(95, 9550)],
    fastSolRuns: [{ firstByteMs: 95, bytes: 10 }],
    defaultNodeArgs: defaultNodeArgs(),
    floorMemory: { rssKiB: 40 * 1024, anonKiB: 6 * 1024, fileKiB: 34 * 1024 },
    agentMemory: { rssKiB: 47 * 1024, anonKiB: 10 * 1024, fileKiB: 37 * 1024 },
    memoryVariants: [],
    containerSkipped: 'no Docker engine answers',
  };

  it('summarizes only the runs without error', () => {
    const s = summarizeBoots(report.agentRuns);
    expect([s.ok, s.attempted, s.firstByte.median, s.ready.median]).toEqual([2, 3, 105, 9050]);
    expect(summarizeBoots(report.fastSolRuns).ok).toBe(0);
    expect(summarizeBoots(report.fastSolRuns, true).ok).toBe(1);
    expect(medianPhases(report.agentRuns)).toEqual({ toSpawnMs: 5, spawnToRunMs: 30, runToFirstByteMs: 60 });
    expect(medianPhases([])).toBeUndefined();
  });

  it('says which targets are met, with the ratio and the reasons for what is missing', () => {
    const text = renderNodeRuntime(report);
    expect(text).toContain('105 ms against 95 ms, ratio 1.105× — **not met**');
    expect(text).toContain('47.0 MiB (Node\'s own floor here: 40.0 MiB) — met');
    expect(text).toContain('not measured (no Docker engine answers)');
    expect(text).toContain('| 3 | failed: boom |');
    expect(text).not.toContain('/abs/path');
    expect(text).not.toContain('Why the agent is above');
    expect(renderNodeRuntime({ ...report, agentMemory: { rssKiB: 50 * 1024 } })).toContain('Why the agent is above 48 MiB');
  });

  it('goes in front of the Reproduce section', () => {
    expect(insertBeforeReproduce('# B\n\n## A\n\nx\n\n## Reproduce\n\ny\n', '## N\n\nz\n')).toBe('# B\n\n## A\n\nx\n\n## N\n\nz\n\n## Reproduce\n\ny\n');
    expect(insertBeforeReproduce('# B\n', '## N\n')).toBe('# B\n\n## N\n');
  });
});
