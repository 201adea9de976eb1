/**
 * Serial over LAN with the real ipmitool 1.8.19 against the agent process (MACHINE=sim): `sol
 * activate` runs on a pseudo-terminal (util-linux `script`), sees the simulated machine boot, types
 * into its shell and reads the answer back, leaves with `~.`; a second ipmitool process is refused
 * while SOL is taken, and `sol deactivate` from another session ends the first one, which is told.
 * Every wait is bounded in time; every ipmitool process is killed in afterEach if still running.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, ipmitoolArgs, RunResult } from '../support/tools';
import { agentLog, ipmitool, logMark, pollUntil, TerminalSession, waitForLog } from '../support/ipmitool-runner';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const NODE_NAME = 'sol-node';
const PROMPT = `root@${NODE_NAME}:~# `;
/** Generous bounds for each step (nothing here is a timing assertion). */
const STEP_MS = 10_000;

jest.setTimeout(60_000);

function expectOk(r: RunResult): RunResult {
  if (r.status !== 0) throw new Error(`ipmitool failed: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

function field(output: string, key: string): string | undefined {
  for (const line of output.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim() === key) return line.slice(i + 1).trim();
  }
  return undefined;
}

const describeSol = describeWithTools(['ipmitool', 'script']);

describeSol('SOL with ipmitool 1.8.19', () => {
  let agent: RunningAgent | undefined;
  const terminals: TerminalSession[] = [];
  const ipmi = (extra: string[]): Promise<RunResult> => ipmitool(agent!.port, extra, { timeoutMs: 20_000 });
  const solActivate = (extra: string[] = []): TerminalSession => {
    const t = new TerminalSession(['ipmitool', ...ipmitoolArgs(agent!.port, [...extra, 'sol', 'activate'])]);
    terminals.push(t);
    return t;
  };
  /** Waits for a pattern and explains what the terminal showed if it never came. */
  const expectShown = async (t: TerminalSession, pattern: string | RegExp, what: string): Promise<void> => {
    if (!(await t.waitFor(pattern, STEP_MS))) throw new Error(`${what}: ${String(pattern)} did not appear; the terminal showed:\n${JSON.stringify(t.output())}`);
  };
  const powerStatus = async (): Promise<string> => (await ipmi(['power', 'status'])).stdout.trim();
  const solActive = async (): Promise<number> => {
    // Get Payload Activation Status (NetFn 06, cmd 4A) for SOL: capacity, then the bitmap of instances 1–8.
    const bytes = expectOk(await ipmi(['raw', '0x06', '0x4a', '0x01'])).stdout.trim().split(/\s+/).map((b) => parseInt(b, 16));
    return bytes[1]!;
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ DEBUG: 'true', NODE_NAME, SIM_POWER_DELAY_MS: '100' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
  });

  afterAll(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
    await agent?.stop();
  });

  it('sol info and sol payload status 1 2', async () => {
    const info = expectOk(await ipmi(['sol', 'info']));
    expect(field(info.stdout, 'Enabled')).toBe('true');
    expect(field(info.stdout, 'Privilege Level')).toBe('USER');
    expect(field(info.stdout, 'Payload Channel')).toBe('1 (0x01)');
    // The port the agent really listens on (ipmitool would refuse a SOL session on another port).
    expect(field(info.stdout, 'Payload Port')).toBe(String(agent!.port));
    expect(info.stderr).toBe('');
    expect(expectOk(await ipmi(['sol', 'payload', 'status', '1', '2'])).stdout).toContain('User 2 on channel 1 is enabled');
  });

  it('sol activate: the boot banner, a shell round trip through the simulated console, then ~. exits 0', async () => {
    expectOk(await ipmi(['power', 'on']));
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is on', { attempts: 50, timeoutMs: STEP_MS })).toBe('Chassis Power is on');

    const mark = logMark(agent!);
    const sol = solActivate();
    await expectShown(sol, '[SOL Session operational.  Use ~? for help]', 'SOL activation');
    expect(await waitForLog(agent!, (l) => l.msg === 'SOL activated' && l.user === 'admin', { fromOffset: mark, timeoutMs: STEP_MS })).toBeDefined();
    expect(await solActive()).toBe(0x01);

    // The console already booted before SOL came up: a hard reset from another session boots it
    // again, and the whole boot reaches the SOL terminal.
    expect(expectOk(await ipmi(['power', 'reset'])).stdout).toContain('Chassis Power Control: Reset');
    await expectShown(sol, 'bmcfleet sim firmware (legacy BIOS)', 'firmware banner');
    await expectShown(sol, 'Booting from Hard Disk...', 'boot device line');
    await expectShown(sol, 'Linux version 6.1.0-bmcfleet-sim', 'kernel banner');
    await expectShown(sol, `${NODE_NAME} login: root (automatic login)`, 'login');
    await expectShown(sol, PROMPT, 'shell prompt');

    const word = `hello-sol-${randomBytes(4).toString('hex')}`;
    sol.type(`echo ${word}\r`);
    // The shell echoes the typed line and then prints the word on a line of its own.
    await expectShown(sol, `echo ${word}\r\n${word}\r\n${PROMPT}`, 'echo round trip');

    sol.type('~.');
    const exit = await sol.waitForExit(STEP_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(sol.output()).toContain('[terminated ipmitool]');
    expect(await waitForLog(agent!, (l) => l.msg === 'SOL deactivated', { fromOffset: mark, timeoutMs: STEP_MS })).toEqual(expect.objectContaining({ reason: 'by its session' }));
    expect(await solActive()).toBe(0x00);
  });

  it('a second sol activate is refused while SOL is active; sol deactivate from another process ends the first, which is told', async () => {
    const first = solActivate();
    await expectShown(first, '[SOL Session operational.  Use ~? for help]', 'first SOL activation');

    const second = solActivate();
    const secondExit = await second.waitForExit(STEP_MS);
    expect(second.output()).toContain('Info: SOL payload already active on another session');
    expect(secondExit).toEqual({ code: 1, signal: null });
    expect(first.hasExited).toBe(false);

    expect(await solActive()).toBe(0x01);
    expect(expectOk(await ipmi(['sol', 'payload', 'status', '1', '2'])).stdout).toContain('User 2 on channel 1 is enabled');

    // The first console still works while the refused one came and went.
    first.type('\r');
    const word = `still-here-${randomBytes(3).toString('hex')}`;
    first.type(`echo ${word}\r`);
    await expectShown(first, `\r\n${word}\r\n`, 'echo through the first SOL session');

    const mark = logMark(agent!);
    const deactivate = await ipmi(['sol', 'deactivate']);
    expect(deactivate.status).toBe(0);
    expect(`${deactivate.stdout}${deactivate.stderr}`).not.toMatch(/error|fail/i);

    // The agent ends the owner's session (it sends "SOL deactivating" and an unsolicited SOL
    // Activating message); ipmitool 1.8.19 reacts to the latter and exits 1.
    const firstExit = await first.waitForExit(STEP_MS);
    expect(first.output()).toContain('SOL session closed by BMC');
    expect(firstExit).toEqual({ code: 1, signal: null });
    expect(agentLog(agent!, mark)).toContainEqual(expect.objectContaining({ msg: 'session closed', reason: 'closed-by-admin' }));
    expect(await solActive()).toBe(0x00);

    // SOL is free again (this time over cipher suite 3: SHA-1 integrity, AES).
    const again = solActivate(['-C', '3']);
    await expectShown(again, '[SOL Session operational.  Use ~? for help]', 'SOL after deactivation');
    const word3 = `suite-3-${randomBytes(3).toString('hex')}`;
    again.type(`echo ${word3}\r`);
    await expectShown(again, `\r\n${word3}\r\n`, 'echo over suite 3');
    again.type('~.');
    expect(await again.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
    expect(await solActive()).toBe(0x00);
  });

  it('sol deactivate with nothing active is answered, not ignored', async () => {
    const r = await ipmi(['sol', 'deactivate']);
    expect(`${r.stdout}${r.stderr}`).toContain('Info: SOL payload already de-activated');
  });
});
