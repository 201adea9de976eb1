/**
 * Fault injection against real clients, part three (faults.int-spec.ts and
 * faults-sessions.int-spec.ts have the others): the agent (MACHINE=sim) on the host, rules set with
 * the fault-ctl client through the control socket.
 * - another completion code than busy: 0xD5 on Get Chassis Status makes ipmitool print its text for
 *   it ("Command not supported in present state"); 0xC0 on Chassis Control makes FreeIPMI ipmipower,
 *   run as MAAS runs it, print no result for the host (no "ok"), and the next run prints "ok";
 * - when: a probability with a seed gives the same busy/normal pattern that the seed predicts, run
 *   after run of ipmitool; a rule for a duration answers busy until its window is over;
 * - a dropped SOL packet: ipmitool's `sol activate` sends it again, and the typed line comes back;
 * - slow InsertMedia: sushy, bounding its requests as a caller does, gives up on the insert with a
 *   read timeout, and the medium is inserted once the BMC is done;
 * - power stuck: sushy's Reset On is accepted and the system stays Off; ipmipower (MAAS) prints "ok"
 *   for --on and "off" for --stat;
 * - a power transition that takes long: ipmipower's --on is "ok" at once, --stat says "off" during
 *   the transition and "on" after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededPrng } from '../../src/faults/fault-engine';
import { freeUdpPortBelow32768, type RunningAgent } from '../support/agent-process';
import { redfishCall, startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { ipmitool, pollUntil, runAsync, TerminalSession } from '../support/ipmitool-runner';
import { startRangeFileServer, type RangeFileServer } from '../support/range-file-server';
import { describeWithTools, ipmitoolArgs, run, type RunResult } from '../support/tools';
import { addRule, ensureAgentAndFaultCtlBuilt, faultCtl, ruleNow } from '../support/fault-ctl';

const SUSHY_DRIVER = join(__dirname, 'faults-sushy-driver.py');
const PYTHON = '/usr/bin/python3';
const HOST = '127.0.0.1';
const STEP_MS = 30_000;
const NODE_NAME = 'faults-node';
const PROMPT = `root@${NODE_NAME}:~# `;

jest.setTimeout(180_000);

function describeWithClients(): jest.Describe {
  if (run(PYTHON, ['-c', 'import sushy, requests']).status === 0) return describeWithTools(['ipmitool', 'ipmipower', 'script']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): fault injection tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithClients()('fault injection seen by real clients: completion codes, when, SOL, virtual media, power', () => {
  let rf: RedfishAgent;
  let agent: RunningAgent;
  let images: RangeFileServer;
  let dir: string;
  const terminals: TerminalSession[] = [];
  const ipmipower = (extra: string[]): Promise<RunResult> =>
    runAsync('ipmipower', ['-W', 'opensesspriv', '--driver-type', 'LAN_2_0', '-h', `${HOST}:${agent.port}`, '-u', 'admin', '-p', 'password', '-l', 'OPERATOR', ...extra], { timeoutMs: 60_000 });
  const powerStatus = async (): Promise<string> => (await ipmitool(agent.port, ['power', 'status'])).stdout.trim();
  const powerOff = async (): Promise<void> => {
    expect((await ipmitool(agent.port, ['power', 'off'])).status).toBe(0);
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is off', { attempts: 50, timeoutMs: STEP_MS })).toBe('Chassis Power is off');
  };
  const sushy = async (mode: string, ...extra: string[]): Promise<any> => {
    const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', PYTHON, SUSHY_DRIVER, `https://${HOST}:${rf.redfishPort}`, rf.caFile, 'admin', 'password', mode, ...extra], { timeoutMs: 90_000 });
    if (r.status !== 0) throw new Error(`sushy driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout);
  };
  const expectShown = async (t: TerminalSession, pattern: string, what: string): Promise<void> => {
    if (!(await t.waitFor(pattern, STEP_MS))) throw new Error(`${what}: ${JSON.stringify(pattern)} did not appear; the terminal showed:\n${JSON.stringify(t.output())}`);
  };

  beforeAll(async () => {
    ensureAgentAndFaultCtlBuilt();
    dir = mkdtempSync(join(tmpdir(), 'faults-clients-'));
    writeFileSync(join(dir, 'ramdisk.iso'), Buffer.alloc(64 * 1024, 0x42));
    images = await startRangeFileServer({ 'ramdisk.iso': join(dir, 'ramdisk.iso') });
    // ipmipower takes host:port only below 32768 (see freeUdpPortBelow32768).
    rf = await startRedfishAgent({ IPMI_PORT: String(await freeUdpPortBelow32768()), NODE_NAME });
    agent = rf.agent;
  });
  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
    faultCtl(agent, ['clear']);
  });
  afterAll(async () => {
    await agent?.stop();
    await images?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('0xD5 on Get Chassis Status: ipmitool prints its text for the code, then the power state once the rule is spent', async () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'completion-code', code: '0xD5' }, when: { maxTimes: 1 } });
    const failed = await ipmitool(agent.port, ['power', 'status']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('Get Chassis Power Status failed: Command not supported in present state');
    expect(await powerStatus()).toMatch(/^Chassis Power is (on|off)$/);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: 1, applied: 1 });
  });

  it('0xC0 on Chassis Control: ipmipower (as MAAS runs it) prints no result for the host, the next --on prints ok', async () => {
    await powerOff();
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x02 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 1 } });
    const refused = await ipmipower(['--on']);
    expect(refused.stdout).not.toContain(`${HOST}: ok`);
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    expect(await powerStatus()).toBe('Chassis Power is off');
    expect((await ipmipower(['--on'])).stdout).toContain(`${HOST}: ok`);
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is on', { attempts: 50, timeoutMs: STEP_MS })).toBe('Chassis Power is on');
  });

  it('probability 0.5 with a seed: ipmitool meets Node busy exactly on the runs the seed predicts', async () => {
    const seed = 20_261_207;
    const runs = 10;
    const next = seededPrng(seed);
    const predicted = Array.from({ length: runs }, () => (next() < 0.5 ? 'busy' : 'ok'));
    // The pattern is mixed, so the test tells a seeded rule from "always" and "never".
    expect(new Set(predicted)).toEqual(new Set(['busy', 'ok']));
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'completion-code', code: 0xc0 }, when: { probability: 0.5, seed } });
    const seen: string[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await ipmitool(agent.port, ['power', 'status']);
      seen.push(r.stderr.includes('Node busy') ? 'busy' : /^Chassis Power is (on|off)$/m.test(r.stdout) ? 'ok' : `unexpected: ${r.stdout}${r.stderr}`);
    }
    expect(seen).toEqual(predicted);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: runs, applied: predicted.filter((p) => p === 'busy').length });
  });

  it('busy for a duration: ipmitool meets Node busy while the window lasts, and the power state after it', async () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'completion-code', code: 0xc0 }, when: { durationMs: 4_000 } });
    const busy = await ipmitool(agent.port, ['power', 'status']);
    expect(busy.stderr).toContain('Node busy');
    expect(await pollUntil(powerStatus, (s) => /^Chassis Power is (on|off)$/.test(s), { attempts: 40, timeoutMs: STEP_MS, intervalMs: 500 })).toMatch(/^Chassis Power is (on|off)$/);
    const applied = ruleNow(agent, rule.id).applied;
    expect(applied).toBeGreaterThanOrEqual(1);
    // Once the window is over the rule stays inert.
    expect(await powerStatus()).toMatch(/^Chassis Power is (on|off)$/);
    expect(ruleNow(agent, rule.id).applied).toBe(applied);
  });

  it('a dropped SOL packet: ipmitool sol activate sends it again, and the typed line comes back', async () => {
    expect((await ipmitool(agent.port, ['power', 'on'])).status).toBe(0);
    const sol = new TerminalSession(['ipmitool', ...ipmitoolArgs(agent.port, ['sol', 'activate'])]);
    terminals.push(sol);
    await expectShown(sol, '[SOL Session operational.  Use ~? for help]', 'SOL activation');
    sol.type('\r');
    await expectShown(sol, PROMPT, 'shell prompt');
    const rule = addRule(agent, { match: { protocol: 'sol' }, action: { kind: 'drop' }, when: { maxTimes: 1 } });
    const word = `dropped-once-${process.pid}`;
    sol.type(`echo ${word}\r`);
    await expectShown(sol, `${word}\r\n${PROMPT}`, 'echo after a dropped SOL packet');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    sol.type('~.');
    expect(await sol.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
  });

  it('slow InsertMedia: sushy gives up on the insert with a read timeout; the medium is inserted once the BMC is done', async () => {
    const iso = images.url('ramdisk.iso');
    // Minutes on some BMCs; long enough here to be well past the caller's bound (3 s).
    const rule = addRule(agent, { match: { protocol: 'redfish', method: 'POST', path: '/redfish/v1/Managers/*/VirtualMedia/*/Actions/VirtualMedia.InsertMedia' }, action: { kind: 'delay', ms: 12_000 }, when: { maxTimes: 1 } });
    const out = await sushy('insert-media', iso, '3');
    expect(out.inserted).toBeUndefined();
    expect(out.connection_error).toMatch(/Read timed out/);
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    const media = await pollUntil(() => sushy('media-inserted'), (m) => m.inserted === true, { attempts: 30, timeoutMs: STEP_MS + 12_000, intervalMs: 1_000 });
    expect(media).toMatchObject({ inserted: true, image: iso });
    const ejected = await redfishCall(rf, 'POST', '/redfish/v1/Managers/1/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia', { auth: { user: 'admin', password: 'password' }, body: {} });
    expect(ejected.status).toBe(204);
  });

  it('power stuck: sushy Reset On is accepted and the system stays Off; ipmipower --on prints ok, --stat off', async () => {
    await powerOff();
    const rule = addRule(agent, { match: { protocol: 'power', resetType: 'on' }, action: { kind: 'power-stuck' } });
    const out = await sushy('reset-on');
    expect(out).toMatchObject({ reset: 'accepted', power_state_after: 'Off' });
    expect((await ipmipower(['--on'])).stdout).toContain(`${HOST}: ok`);
    expect((await ipmipower(['--stat'])).stdout).toContain(`${HOST}: off`);
    expect(ruleNow(agent, rule.id).applied).toBe(2);
    faultCtl(agent, ['clear', rule.id]);
    expect((await ipmipower(['--on'])).stdout).toContain(`${HOST}: ok`);
    expect(await pollUntil(powerStatus, (s) => s === 'Chassis Power is on', { attempts: 50, timeoutMs: STEP_MS })).toBe('Chassis Power is on');
  });

  it('a power transition that takes long: ipmipower --on is ok at once, --stat says off during it and on after it', async () => {
    await powerOff();
    const transitionMs = 15_000;
    // Every power-on takes long: ipmipower may send Chassis Control again before the BMC's answer
    // (which waits up to 500 ms for the action), and that copy is a power-on of its own.
    const rule = addRule(agent, { match: { protocol: 'power', resetType: 'on' }, action: { kind: 'delay', ms: transitionMs } });
    expect((await ipmipower(['--on'])).stdout).toContain(`${HOST}: ok`);
    expect(ruleNow(agent, rule.id).applied).toBeGreaterThanOrEqual(1);
    expect((await ipmipower(['--stat'])).stdout).toContain(`${HOST}: off`);
    const on = await pollUntil(async () => (await ipmipower(['--stat'])).stdout, (s) => s.includes(`${HOST}: on`), { attempts: 60, timeoutMs: transitionMs + STEP_MS, intervalMs: 1_000 });
    expect(on).toContain(`${HOST}: on`);
  });

});
