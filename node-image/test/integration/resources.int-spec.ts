/**
 * Resource bounds of the running agent: 1,000 sequential `ipmitool -I lanplus ... power status` /
 * `mc info` commands (each a full login, two commands and Close Session) against one agent. Its
 * open file descriptors (/proc/<pid>/fd) and resident memory (VmRSS) are read after a warm-up of
 * 900 commands and again at the end: the descriptors must be the same (± 1) and RSS may grow by
 * less than 15 MiB (a resource bound, not a timing). The warm-up is long enough for V8's heap to
 * reach its working size: RSS steps up by about 11 MiB once, somewhere in the first 500–900
 * sessions, and then stays flat (measured: +1 MiB over the next 800), so what grows after it is a
 * leak. Every command must succeed, and afterwards no session is left in the table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, ipmitoolArgs, run } from '../support/tools';
import { errorLogLines, isAlive, processResources, ProcessResources } from '../support/process-probe';
import { IpmiClient } from '../../src/client';
import { AppCmd, NetFn } from '../../src/protocol/netfn';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const WARM_UP = 900;
const COMMANDS = 1000;
const FD_TOLERANCE = 1;
const RSS_GROWTH_LIMIT_KIB = 15 * 1024;

jest.setTimeout(300_000);

const describeIpmitool = describeWithTools(['ipmitool']);

describeIpmitool('agent resources over 1,000 ipmitool sessions', () => {
  let agent: RunningAgent | undefined;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ IPMI_USER: 'admin', IPMI_PASS: 'password' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('keeps its file descriptors and memory bounded', async () => {
    const pid = agent!.pid;
    const failures: string[] = [];
    const command = (i: number): void => {
      // Alternate the two commands; both log in, run the command and close the session.
      const power = i % 2 === 0;
      const r = run('ipmitool', ipmitoolArgs(agent!.port, power ? ['power', 'status'] : ['mc', 'info']), { timeoutMs: 20_000 });
      const ok = r.status === 0 && (power ? r.stdout.trim() === 'Chassis Power is off' : /IPMI Version\s+: 2\.0/.test(r.stdout));
      if (!ok && failures.length < 5) failures.push(`#${i} exit ${r.status}: ${(r.stdout + r.stderr).trim().slice(0, 300)}`);
    };

    const started = Date.now();
    for (let i = 0; i < WARM_UP; i++) command(i);
    const warm: ProcessResources = processResources(pid);
    for (let i = WARM_UP; i < WARM_UP + COMMANDS; i++) command(i);
    const end: ProcessResources = processResources(pid);
    const elapsed = Date.now() - started;

    const growthKiB = end.rssKiB - warm.rssKiB;
    process.stdout.write(`agent pid ${pid} after ${WARM_UP} warm-up commands: ${warm.fds} fds, VmRSS ${warm.rssKiB} KiB; `
      + `after ${COMMANDS} more: ${end.fds} fds, VmRSS ${end.rssKiB} KiB (growth ${growthKiB} KiB, limit ${RSS_GROWTH_LIMIT_KIB} KiB); ${elapsed} ms in all\n`);

    expect(failures).toEqual([]);
    expect(isAlive(pid)).toBe(true);
    expect(Math.abs(end.fds - warm.fds)).toBeLessThanOrEqual(FD_TOLERANCE);
    expect(growthKiB).toBeLessThan(RSS_GROWTH_LIMIT_KIB);

    // Every ipmitool closed its session: the only one left is ours.
    const c = await IpmiClient.connect({ host: '127.0.0.1', port: agent!.port, user: 'admin', password: 'password', timeoutMs: 1000, retries: 2 });
    try {
      const info = await c.requestOk(NetFn.App, AppCmd.GetSessionInfo, Buffer.from([0x00]), 'Get Session Info');
      expect(info[2]! & 0x3f).toBe(1);
    } finally {
      await c.close();
    }
    expect(errorLogLines(agent!.output())).toEqual([]);
  });
});
