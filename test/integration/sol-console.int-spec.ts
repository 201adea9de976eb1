/**
 * SolConsole (node-image/src/client/sol-console.ts, the console behind `bmcfleet nodes console`)
 * against the real agent process (node-image/dist/main.js, MACHINE=sim) on 127.0.0.1 and a free UDP
 * port: it activates SOL, sees the simulated machine boot, types into its shell and reads the answer,
 * deactivates; then the real ipmitool activates SOL on the same BMC (the payload was freed) and
 * leaves with ~. — and the other way round: a console that ipmitool's `sol deactivate` takes SOL
 * from ends, saying so. Every wait is bounded; nothing here measures time.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IpmiClient } from '../../node-image/src/client/ipmi-client';
import { SolConsole, SolConsoleErrorCode } from '../../node-image/src/client/sol-console';
import { AppCmd, NetFn } from '../../node-image/src/protocol/netfn';
import { AGENT_MAIN, RunningAgent, startAgent } from '../../node-image/test/support/agent-process';
import { ipmitool, pollUntil, TerminalSession } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs } from '../../node-image/test/support/tools';

const REPO_ROOT = join(__dirname, '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const NODE_NAME = 'console-node';
const PROMPT = `root@${NODE_NAME}:~# `;
const USER = 'admin';
const PASSWORD = 'console-pw';
/** Generous bound for each step (nothing here is a timing assertion). */
const STEP_MS = 15_000;

jest.setTimeout(90_000);

/** Output collected from a console, with a bounded wait for a pattern. */
class Screen {
  text = '';
  readonly onData = (d: Buffer): void => { this.text += d.toString('latin1'); };

  async waitFor(pattern: string, what: string): Promise<void> {
    const deadline = Date.now() + STEP_MS;
    while (!this.text.includes(pattern)) {
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(pattern)} did not appear; the console showed:\n${JSON.stringify(this.text)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describeWithTools(['ipmitool', 'script'])('SolConsole against the agent process, then ipmitool on the same BMC', () => {
  let agent: RunningAgent | undefined;
  const consoles: SolConsole[] = [];
  const terminals: TerminalSession[] = [];

  const target = (): { host: string; port: number; user: string; password: string } => ({ host: '127.0.0.1', port: agent!.port, user: USER, password: PASSWORD });
  const openConsole = async (screen: Screen): Promise<SolConsole> => {
    const c = await SolConsole.open({ ...target(), onData: screen.onData });
    consoles.push(c);
    return c;
  };
  /** One short session for a BMC command, as the orchestrator does. */
  const withClient = async <T>(call: (c: IpmiClient) => Promise<T>): Promise<T> => {
    const c = await IpmiClient.connect(target());
    try {
      return await call(c);
    } finally {
      await c.close();
    }
  };
  /** Get Payload Activation Status for SOL: the bitmap of active instances 1–8. */
  const solActiveInstances = (): Promise<number> =>
    withClient(async (c) => (await c.requestOk(NetFn.App, AppCmd.GetPayloadActivationStatus, Buffer.from([0x01]), 'Get Payload Activation Status'))[1]!);

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ NODE_NAME, IPMI_USER: USER, IPMI_PASS: PASSWORD, SIM_POWER_DELAY_MS: '100' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterEach(async () => {
    await Promise.all(consoles.splice(0).map((c) => c.close()));
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
  });

  afterAll(async () => {
    await agent?.stop();
  });

  it('activates SOL, sees the machine boot, runs a command in its shell, deactivates; ipmitool can then activate SOL', async () => {
    await withClient((c) => c.chassisControl('on'));
    expect(await pollUntil(() => withClient((c) => c.powerStatus()), (s) => s === 'on', { attempts: 50, timeoutMs: STEP_MS })).toBe('on');

    const screen = new Screen();
    const sol = await openConsole(screen);
    expect(sol.activation.port).toBe(agent!.port);
    expect(await solActiveInstances()).toBe(0x01);

    // The machine already booted: a reset from another session boots it again, on this console.
    await withClient((c) => c.chassisControl('reset'));
    await screen.waitFor('bmcfleet sim firmware (legacy BIOS)', 'firmware banner');
    await screen.waitFor('Linux version 6.1.0-bmcfleet-sim', 'kernel banner');
    await screen.waitFor(PROMPT, 'shell prompt');

    const word = `hello-console-${randomBytes(4).toString('hex')}`;
    expect(sol.write(`echo ${word}\r`)).toBe(true);
    // The shell echoes the typed line, then prints the word on a line of its own.
    await screen.waitFor(`echo ${word}\r\n${word}\r\n${PROMPT}`, 'echo round trip');
    expect(sol.counters).toMatchObject({ lostPackets: 0, droppedInput: 0 });

    expect(await sol.close()).toEqual({ kind: 'closed' });
    expect(await solActiveInstances()).toBe(0x00);

    // The payload is free: the real ipmitool activates SOL at once and reaches the same shell.
    const t = new TerminalSession(['ipmitool', ...ipmitoolArgs(agent!.port, ['sol', 'activate'], { user: USER, password: PASSWORD })]);
    terminals.push(t);
    expect(await t.waitFor('[SOL Session operational.  Use ~? for help]', STEP_MS)).toBe(true);
    const word2 = `after-console-${randomBytes(3).toString('hex')}`;
    t.type(`echo ${word2}\r`);
    expect(await t.waitFor(`\r\n${word2}\r\n`, STEP_MS)).toBe(true);
    t.type('~.');
    expect(await t.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
    expect(await solActiveInstances()).toBe(0x00);
  });

  it('is refused while ipmitool holds SOL; ends, saying so, when ipmitool sol deactivate takes SOL from it', async () => {
    const t = new TerminalSession(['ipmitool', ...ipmitoolArgs(agent!.port, ['sol', 'activate'], { user: USER, password: PASSWORD })]);
    terminals.push(t);
    expect(await t.waitFor('[SOL Session operational.  Use ~? for help]', STEP_MS)).toBe(true);
    const refused = SolConsole.open({ ...target(), onData: () => {} });
    await expect(refused).rejects.toMatchObject({ code: SolConsoleErrorCode.ActivationRefused, completionCode: 0x80 });
    t.type('~.');
    expect(await t.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });

    const screen = new Screen();
    const sol = await openConsole(screen);
    const deactivate = await ipmitool(agent!.port, ['sol', 'deactivate'], { user: USER, password: PASSWORD, timeoutMs: STEP_MS });
    expect(deactivate.status).toBe(0);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([sol.ended, new Promise((r) => { timer = setTimeout(() => r('still running'), STEP_MS); })]);
    clearTimeout(timer);
    expect(end).toMatchObject({ kind: 'deactivated' });
    expect(sol.write('x')).toBe(false);
    expect(await solActiveInstances()).toBe(0x00);
  });
});
