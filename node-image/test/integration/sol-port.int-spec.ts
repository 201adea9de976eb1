/**
 * IPMI_SOL_PORT with the real clients against the agent process (MACHINE=sim): the agent listens on
 * IPMI_PORT=A and is told IPMI_SOL_PORT=B. ipmitool's `sol info` reads B; ipmitool and FreeIPMI's
 * ipmiconsole refuse SOL through A (the BMC names another port; ipmiconsole follows a reported port
 * only from 623); through B, the second port the agent listens on, both carry the console both ways.
 * Every wait is bounded; every client still running is killed after each test.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, freeUdpPortBelow32768, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, ipmitoolArgs, RunResult } from '../support/tools';
import { ipmitool, TerminalSession } from '../support/ipmitool-runner';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const NODE_NAME = 'solport-node';
const PROMPT = `root@${NODE_NAME}:~# `;
/** Generous bounds for each step (nothing here is a timing assertion). */
const STEP_MS = 15_000;

jest.setTimeout(90_000);

function expectOk(r: RunResult): RunResult {
  if (r.status !== 0) throw new Error(`ipmitool failed: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

describeWithTools(['ipmitool', 'ipmiconsole', 'script'])('SOL with IPMI_SOL_PORT against the agent process', () => {
  let agent: RunningAgent | undefined;
  let solPort = 0;
  const terminals: TerminalSession[] = [];
  const open = (command: string[]): TerminalSession => {
    const t = new TerminalSession(command, { ...process.env, TERM: 'dumb' });
    terminals.push(t);
    return t;
  };
  const solActivate = (port: number): TerminalSession => open(['ipmitool', ...ipmitoolArgs(port, ['sol', 'activate'])]);
  const ipmiconsole = (port: number): TerminalSession => open(['ipmiconsole', '-h', `127.0.0.1:${port}`, '-u', 'admin', '-p', 'password']);
  const expectShown = async (t: TerminalSession, pattern: string | RegExp, what: string): Promise<void> => {
    if (!(await t.waitFor(pattern, STEP_MS))) throw new Error(`${what}: ${String(pattern)} did not appear; the terminal showed:\n${JSON.stringify(t.output())}\n--- agent log\n${agent!.output().slice(-4000)}`);
  };
  /** Types a command into the simulated machine's shell and waits for its output line. */
  const echoThrough = async (t: TerminalSession, what: string): Promise<void> => {
    const word = `solport-${randomBytes(4).toString('hex')}`;
    t.type(`echo ${word}\r`);
    await expectShown(t, `echo ${word}\r\n${word}\r\n${PROMPT}`, `${what}: echo round trip`);
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    const ipmiPort = await freeUdpPortBelow32768();
    do solPort = await freeUdpPortBelow32768(); while (solPort === ipmiPort);
    agent = await startAgent({ NODE_NAME, SIM_POWER_DELAY_MS: '100', IPMI_PORT: String(ipmiPort), IPMI_SOL_PORT: String(solPort) });
    expectOk(await ipmitool(agent.port, ['power', 'on'], { timeoutMs: 20_000 }));
  }, BUILD_TIMEOUT_MS + 30_000);

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
  });

  afterAll(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
    await agent?.stop();
  });

  it('sol info through the IPMI port names the SOL port', async () => {
    const info = expectOk(await ipmitool(agent!.port, ['sol', 'info'], { timeoutMs: 20_000 }));
    expect(info.stdout).toMatch(new RegExp(`Payload Port\\s*: ${solPort}\\n`));
    expect(agent!.output()).toMatch(new RegExp(`"msg":"BMC listening".*"port":${agent!.port},"solPort":${solPort}`));
  });

  it('through the IPMI port, ipmitool and ipmiconsole refuse SOL: the BMC names another port', async () => {
    const t = solActivate(agent!.port);
    await expectShown(t, 'BMC requests SOL session on different port', 'ipmitool');
    expect(await t.waitForExit(STEP_MS)).not.toBeNull();

    // ipmiconsole 1.6 moves to a reported port only from 623; elsewhere it stops (with exit status 0).
    const c = ipmiconsole(agent!.port);
    await expectShown(c, '[error received]: BMC Implementation', 'ipmiconsole');
    expect(await c.waitForExit(STEP_MS)).not.toBeNull();
    expect(c.output()).not.toContain('[SOL established]');
  });

  it('through the SOL port, ipmitool sol activate types into the shell and quits with ~.', async () => {
    const t = solActivate(solPort);
    await expectShown(t, '[SOL Session operational.  Use ~? for help]', 'SOL activation');
    t.type('\r');
    await expectShown(t, PROMPT, 'shell prompt');
    await echoThrough(t, 'ipmitool');
    t.type('~.');
    expect(await t.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
  });

  it('through the SOL port, ipmiconsole types into the shell and quits with &.', async () => {
    const c = ipmiconsole(solPort);
    await expectShown(c, '[SOL established]', 'SOL activation');
    c.type('\r');
    await expectShown(c, PROMPT, 'shell prompt');
    await echoThrough(c, 'ipmiconsole');
    c.type('&.');
    expect(await c.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
  });
});
