import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { findExecutable, freeUdpPort, processCpuMs, ProcessGroup, runCommand } from './processes';

const node = process.execPath;
const exited = (pid: number): boolean => {
  try { process.kill(pid, 0); return false; } catch { return true; }
};

describe('bench process group', () => {
  const group = new ProcessGroup();
  afterAll(() => group.killAllNow());

  it('stops every child it started and removes its temporary directories', async () => {
    const a = group.spawn(node, ['-e', 'setTimeout(() => {}, 60000)']);
    // This one ignores SIGTERM: the group must fall back to SIGKILL.
    const b = group.spawn(node, ['-e', 'process.on("SIGTERM", () => {}); process.stdout.write("ready"); setTimeout(() => {}, 60000)']);
    const dir = group.tempDir('bench-spec-');
    // Only once its handler is installed does SIGTERM go unheeded (a loaded machine starts node slowly).
    await new Promise((r) => b.stdout!.once('data', r));
    expect(group.running).toBe(2);
    await Promise.all([group.stop(a), group.stop(b, 200)]);
    await group.stopAll();
    expect(exited(a.pid!)).toBe(true);
    expect(exited(b.pid!)).toBe(true);
    expect(b.signalCode).toBe('SIGKILL');
    expect(group.running).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('kills a command that outlives its time limit', async () => {
    const r = await runCommand(group, node, ['-e', 'setTimeout(() => {}, 60000)'], 300);
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    const ok = await runCommand(group, node, ['-e', 'process.stdout.write("hi")'], 10_000);
    expect(ok).toMatchObject({ code: 0, stdout: 'hi', timedOut: false });
  });

  it('finds executables on PATH and free ports on 127.0.0.1', async () => {
    expect(findExecutable('node', `/nonexistent:${dirname(node)}`)).toBe(node);
    expect(findExecutable('surely-not-a-command-here')).toBeUndefined();
    const port = await freeUdpPort();
    expect(port).toBeGreaterThan(0);
  });

  it('reads the CPU time a process has used from /proc', () => {
    if (!existsSync(`/proc/${process.pid}/stat`)) return; // not Linux: the bench reports no CPU columns
    const before = processCpuMs(process.pid)!;
    const end = Date.now() + 200;
    while (Date.now() < end) { /* burn CPU */ }
    expect(processCpuMs(process.pid)!).toBeGreaterThan(before);
    expect(processCpuMs(2 ** 22 + 12345)).toBeUndefined();
  });
});
