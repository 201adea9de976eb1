/**
 * Fault injection against real clients, part two (faults.int-spec.ts has the first): the agent
 * (MACHINE=sim) on the host, rules set with the fault-ctl client through the control socket.
 * - busy (0xC0) twice: pyghmi raises its documented IpmiException "Node Busy" twice on one
 *   session, then reads the power state;
 * - session expiry mid-sequence: ipmitool running a command file reads the power once, then reports
 *   "Unable to get Chassis Power Status" (it does not open a new session); sushy with session auth
 *   meets a 401, logs in again by itself and reads the system;
 * - SOL deactivated by the BMC: `ipmitool sol activate` prints "SOL session closed by BMC" and exits;
 * - a BMC reboot: sushy's GET hangs for the reboot, gets 503 with Retry-After, retries, meets 401
 *   (its session did not survive the reboot) and logs in again; an ipmitool SOL console open
 *   meanwhile is told its session ended;
 * - a power transition that takes long: ipmitool's power on is answered at once, the power stays
 *   off for the transition and is on after it;
 * - a slow reply (4 s, past ipmitool's 1 s retransmission timeout): ipmitool keeps trying within its
 *   retries and prints the power state once the answer comes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningAgent } from '../support/agent-process';
import { startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { ipmitool, pollUntil, runAsync, TerminalSession } from '../support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs, run } from '../support/tools';
import { addRule, ensureAgentAndFaultCtlBuilt, faultCtl, ruleNow } from '../support/fault-ctl';

const SUSHY_DRIVER = join(__dirname, 'faults-sushy-driver.py');
const PYGHMI_DRIVER = join(__dirname, 'pyghmi-driver.py');
const PYTHON = '/usr/bin/python3';
const HOST = '127.0.0.1';
const STEP_MS = 30_000;

jest.setTimeout(120_000);


/** python3-sushy and python3-pyghmi as Debian ships them; missing → skipped loudly, or failed under CI=true. */
function describeWithPythonClients(): jest.Describe {
  if (run(PYTHON, ['-c', 'import sushy, requests, pyghmi.ipmi.command']).status === 0) return describeWithTools(['ipmitool', 'script']);
  const msg = 'MISSING CLIENT python3-sushy or python3-pyghmi (/usr/bin/python3 -c "import sushy, pyghmi"): fault injection tests are SKIPPED. Run scripts/setup.sh to install them.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithPythonClients()('fault injection seen by real clients: sessions, SOL, slow power', () => {
  let rf: RedfishAgent;
  let agent: RunningAgent;
  const terminals: TerminalSession[] = [];
  const solActivate = (): TerminalSession => {
    const t = new TerminalSession(['ipmitool', ...ipmitoolArgs(agent.port, ['sol', 'activate'])]);
    terminals.push(t);
    return t;
  };
  const expectShown = async (t: TerminalSession, pattern: string, what: string): Promise<void> => {
    if (!(await t.waitFor(pattern, STEP_MS))) throw new Error(`${what}: ${pattern} did not appear; the terminal showed:\n${JSON.stringify(t.output())}`);
  };
  const sushy = async (mode: string) => {
    const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', PYTHON, SUSHY_DRIVER, `https://${HOST}:${rf.redfishPort}`, rf.caFile, 'admin', 'password', mode], { timeoutMs: 90_000 });
    if (r.status !== 0) throw new Error(`sushy driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout);
  };
  const powerStatus = async (): Promise<string> => (await ipmitool(agent.port, ['power', 'status'])).stdout.trim();

  beforeAll(async () => {
    ensureAgentAndFaultCtlBuilt();
    rf = await startRedfishAgent();
    agent = rf.agent;
  });
  afterAll(async () => {
    for (const t of terminals) await t.kill();
    await agent?.stop();
  });
  afterEach(() => { faultCtl(agent, ['clear']); });

  it('busy (0xC0) twice, then normal: pyghmi raises "Node Busy" twice on its session, then reads the power state', () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } });
    const spec = { port: agent.port, user: 'admin', password: 'password', step_timeout: 20, steps: [{ op: 'get_power' }, { op: 'get_power' }, { op: 'get_power' }] };
    const r = run(PYTHON, [PYGHMI_DRIVER, JSON.stringify(spec)], { timeoutMs: 60_000 });
    const out = JSON.parse(r.stdout) as { login: { ok: boolean }; results: { ok: boolean; error?: string; type?: string; value?: { powerstate: string } }[] };
    expect(out.login.ok).toBe(true);
    expect(out.results.map((s) => (s.ok ? s.value!.powerstate : `${s.type}: ${s.error}`))).toEqual(['IpmiException: Node Busy', 'IpmiException: Node Busy', expect.stringMatching(/^(on|off)$/)]);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: 2, applied: 2 });
  });

  it('IPMI session expiry mid-sequence: ipmitool reads the power once, then reports it cannot (no new session)', async () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'session-expiry' }, when: { afterMatches: 1, maxTimes: 1 } });
    const script = join(agent.stateDir, 'power-twice.ipmi');
    writeFileSync(script, 'power status\npower status\n');
    const r = await ipmitool(agent.port, ['-N', '1', '-R', '2', 'exec', script], { timeoutMs: 60_000 });
    expect(r.stdout).toMatch(/^Chassis Power is (on|off)\n$/);
    expect(r.stderr).toContain('Unable to get Chassis Power Status');
    expect(r.status).not.toBe(0);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: 2, applied: 1 });
    // A new ipmitool opens a new session and works.
    expect(await powerStatus()).toMatch(/^Chassis Power is (on|off)$/);
  });

  it('Redfish session expiry mid-sequence: sushy meets 401, logs in again by itself and reads the system', async () => {
    const rule = addRule(agent, { match: { protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/1' }, action: { kind: 'session-expiry' }, when: { afterMatches: 1, maxTimes: 1 } });
    const out = await sushy('session-read-twice');
    expect(out).toMatchObject({ power_state: expect.stringMatching(/^(On|Off)$/), power_state_again: expect.stringMatching(/^(On|Off)$/), reauthentications: 1, token_changed: true });
    expect(ruleNow(agent, rule.id)).toMatchObject({ applied: 1 });
  });

  it('SOL deactivated by the BMC: ipmitool sol activate prints "SOL session closed by BMC" and exits', async () => {
    const sol = solActivate();
    await expectShown(sol, '[SOL Session operational.  Use ~? for help]', 'SOL activation');
    const rule = addRule(agent, { match: { protocol: 'sol' }, action: { kind: 'sol-deactivate' }, when: { maxTimes: 1 } });
    // The next SOL packet from the console (a keystroke) meets the rule.
    sol.type('\r');
    expect(await sol.waitForExit(STEP_MS)).toEqual({ code: 1, signal: null });
    expect(sol.output()).toContain('SOL session closed by BMC');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    // SOL is free again.
    const again = solActivate();
    await expectShown(again, '[SOL Session operational.  Use ~? for help]', 'SOL after the BMC ended it');
    again.type('~.');
    expect(await again.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
  });

  it('a BMC reboot drops every session: sushy retries the 503, logs in again after the 401; an open SOL console is told it ended', async () => {
    const sol = solActivate();
    await expectShown(sol, '[SOL Session operational.  Use ~? for help]', 'SOL activation');
    const rule = addRule(agent, { match: { protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/1' }, action: { kind: 'bmc-reboot', ms: 2_000 }, when: { afterMatches: 1, maxTimes: 1 } });
    const out = await sushy('session-read-twice');
    expect(out).toMatchObject({ power_state_again: expect.stringMatching(/^(On|Off)$/), reauthentications: 1, token_changed: true });
    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]).toContain('returned code 503');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    expect(await sol.waitForExit(STEP_MS)).toEqual({ code: 1, signal: null });
    expect(sol.output()).toContain('SOL session closed by BMC');
    expect(await pollUntil(powerStatus, (s) => /^Chassis Power is (on|off)$/.test(s), { attempts: 20, timeoutMs: STEP_MS })).toMatch(/^Chassis Power is (on|off)$/);
  });

  it('a slow reply: ipmitool keeps trying within its retries and reads the power state', async () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'delay', ms: 4_000 }, when: { maxTimes: 1 } });
    const r = await ipmitool(agent.port, ['power', 'status'], { timeoutMs: 60_000 });
    expect(r.stdout).toMatch(/^Chassis Power is (on|off)$/m);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: 1, applied: 1 });
  });

  it('a power transition that takes long: ipmitool power on is answered at once, the power is off during the transition and on after it', async () => {
    expect((await ipmitool(agent.port, ['power', 'off'])).status).toBe(0);
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is off', { attempts: 50, timeoutMs: STEP_MS })).toBe('Chassis Power is off');
    // Minutes in real use; long enough here to look at the power while it lasts.
    const transitionMs = 15_000;
    const rule = addRule(agent, { match: { protocol: 'power', resetType: 'on' }, action: { kind: 'delay', ms: transitionMs }, when: { maxTimes: 1 } });
    const answered = await ipmitool(agent.port, ['power', 'on']);
    expect(answered.stdout).toContain('Chassis Power Control: Up/On');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    expect(await powerStatus()).toBe('Chassis Power is off');
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is on', { attempts: 60, timeoutMs: transitionMs + STEP_MS, intervalMs: 500 })).toBe('Chassis Power is on');
  });
});
