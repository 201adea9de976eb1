/**
 * The agent leaves nothing running: the real agent process (node-image/dist/main.js) with MACHINE=qemu
 * powers on the real QEMU (TCG, no guest OS), gets SIGTERM (what `docker stop` and tini send), exits
 * 0, and no QEMU of this test is left. Needs qemu-system-x86_64 and qemu-img; skipped loudly without
 * them, failing under CI=true. The agent must be built (npm run build:agent).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAgent, type RunningAgent } from '../support/agent-process';
import { describeWithTools } from '../support/tools';

jest.setTimeout(60_000);

/** Pids of the processes whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker)) pids.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithTools(['qemu-system-x86_64', 'qemu-img'])('agent shutdown with a running QEMU', () => {
  let dir: string;
  let agent: RunningAgent | undefined;
  let marker: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-shutdown-int-'));
    marker = `shutdown-int-${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    for (const pid of pidsWith(marker)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM to the agent: it exits 0 and its QEMU is gone', async () => {
    agent = await startAgent({
      MACHINE: 'qemu',
      ENABLE_KVM: 'false',
      NODE_NAME: marker, // QEMU's -name
      VM_DISK: join(dir, 'disk.qcow2'),
      VM_DISK_SIZE: '16M',
      VM_MEMORY: '128',
      VM_CPUS: '1',
      VNC_PORT: 'none',
      POWER_ON_AT_START: 'true',
      IPMI_PASS: 'shutdown-pass',
    }, { timeoutMs: 20_000 });
    const running = agent;
    await waitFor(() => running.output().includes('"QEMU started"'), `QEMU to start:\n${running.output()}`);
    const qemu = pidsWith(marker);
    expect(qemu).toHaveLength(1);
    // QEMU is the agent's child, in its own process group, sandboxed, and without the agent's secrets.
    expect(readFileSync(`/proc/${qemu[0]}/cmdline`, 'utf8').split('\0')).toContain('-sandbox');
    expect(readFileSync(`/proc/${qemu[0]}/environ`, 'utf8')).not.toContain('shutdown-pass');

    const exit = new Promise<number | null>((resolve) => running.process.once('exit', (code) => resolve(code)));
    running.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exit, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), 20_000); })]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(pidsWith(marker)).toEqual([]);
  });
});
