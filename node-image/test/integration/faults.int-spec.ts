/**
 * Fault injection against real clients: the agent (MACHINE=sim) on the host, its rules set through
 * the fault control socket with the fault-ctl client the orchestrator runs in a node. Each fault
 * type is proven by what a real client observed:
 * - completion code 0xC0 twice: ipmitool reports "Node busy" twice (it does not retry a busy answer
 *   of Get Chassis Status), the third run succeeds;
 * - a dropped reply: ipmitool retransmits and succeeds (the rule says it dropped one reply, and the
 *   only way ipmitool could print the power state is its retransmission's answer);
 * - stop answering: FreeIPMI ipmipower, run as MAAS runs it, reports "connection timeout", then works
 *   again once the window is over;
 * - duplicated replies: ipmipower fails the session (FreeIPMI checks the sequence numbers);
 * - Redfish 503 with Retry-After: sushy retries the GET and succeeds; 409 on Reset On: sushy raises it.
 * Every applied fault is a `fault applied` line of the agent's log and a count in the rule.
 */
import { join } from 'node:path';
import { freeUdpPortBelow32768, type RunningAgent } from '../support/agent-process';
import { startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { describeWithTools, ipmitoolArgs, run } from '../support/tools';
import { addRule, ensureAgentAndFaultCtlBuilt, FAULT_CTL, faultCtl, ruleNow } from '../support/fault-ctl';

const SUSHY_DRIVER = join(__dirname, 'faults-sushy-driver.py');
const HOST = '127.0.0.1';

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const appliedLines = (agent: RunningAgent, rule: string): number => agent.output().split('\n').filter((l) => l.includes('"fault applied"') && l.includes(`"rule":"${rule}"`)).length;

/** The agent's log arrives through a pipe the synchronous client runs kept waiting: bounded wait for it. */
async function waitForAppliedLines(agent: RunningAgent, rule: string, count: number): Promise<number> {
  for (let i = 0; i < 50 && appliedLines(agent, rule) < count; i++) await sleep(100);
  return appliedLines(agent, rule);
}

function ipmipower(port: number, extra: string[]): ReturnType<typeof run> {
  return run('ipmipower', ['-W', 'opensesspriv', '--driver-type', 'LAN_2_0', '-h', `${HOST}:${port}`, '-u', 'admin', '-p', 'password', '-l', 'OPERATOR', ...extra], { timeoutMs: 60_000 });
}

function describeWithSushy(): jest.Describe {
  if (run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0) return describeWithTools(['ipmitool', 'ipmipower']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): fault injection tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithSushy()('fault injection seen by real clients', () => {
  let rf: RedfishAgent;
  let agent: RunningAgent;
  const ipmitool = (extra: string[]) => run('ipmitool', ipmitoolArgs(agent.port, extra), { timeoutMs: 60_000 });

  beforeAll(async () => {
    ensureAgentAndFaultCtlBuilt();
    // ipmipower takes host:port only below 32768 (see freeUdpPortBelow32768).
    rf = await startRedfishAgent({ IPMI_PORT: String(await freeUdpPortBelow32768()) });
    agent = rf.agent;
  });
  afterAll(async () => { await agent?.stop(); });
  afterEach(() => { faultCtl(agent, ['clear']); });

  it('the control socket refuses a bad rule with the field and rule it broke', () => {
    const r = run(process.execPath, [FAULT_CTL, 'add', JSON.stringify({ match: { protocol: 'ipmi', netFn: 99 }, action: { kind: 'drop' } })], { env: { PATH: '', BMC_STATE_DIR: agent.stateDir } });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: 'match.netFn must be an integer from 0 to 63' });
  });

  it('busy (0xC0) twice, then normal: ipmitool reports Node busy twice, then the power state', async () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'completion-code', code: '0xC0' }, when: { maxTimes: 2 } });
    for (let i = 0; i < 2; i++) {
      const busy = ipmitool(['chassis', 'power', 'status']);
      expect(busy.status).toBe(1);
      expect(busy.stderr).toContain('Node busy');
    }
    const ok = ipmitool(['chassis', 'power', 'status']);
    expect(ok.stdout).toMatch(/^Chassis Power is (on|off)$/m);
    expect(ruleNow(agent, rule.id)).toMatchObject({ matches: 2, applied: 2 });
    expect(await waitForAppliedLines(agent, rule.id, 2)).toBe(2);
  });

  it('a dropped reply: ipmitool retransmits the request and succeeds', () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 }, action: { kind: 'drop' }, when: { maxTimes: 1 } });
    const r = ipmitool(['chassis', 'power', 'status']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Chassis Power is (on|off)$/m);
    expect(ruleNow(agent, rule.id).applied).toBe(1);
  });

  it('stop answering: ipmipower reports a timeout, then works again after the window', async () => {
    const windowMs = 8_000;
    const rule = addRule(agent, { match: { protocol: 'ipmi' }, action: { kind: 'stop-answering', ms: windowMs }, when: { maxTimes: 1 } });
    const added = Date.now();
    const down = ipmipower(agent.port, ['--stat', '--session-timeout=3000']);
    expect(down.stdout).toContain(`${HOST}: connection timeout`);
    expect(ruleNow(agent, rule.id).applied).toBe(1);
    // Recovery: bounded polling after the window (the window started at the first datagram, after `added`).
    await sleep(Math.max(0, added + windowMs - Date.now()));
    let up = ipmipower(agent.port, ['--stat']);
    for (let i = 0; i < 10 && !/: (on|off)$/m.test(up.stdout); i++) { await sleep(1_000); up = ipmipower(agent.port, ['--stat']); }
    expect(up.stdout).toMatch(new RegExp(`^${HOST.replace(/\./g, '\\.')}: (on|off)$`, 'm'));
    expect(faultCtl(agent, ['ls']).totals.silent).toBeGreaterThan(0);
  });

  it('duplicated replies: ipmipower fails the session on the second copy', () => {
    const rule = addRule(agent, { match: { protocol: 'ipmi' }, action: { kind: 'duplicate' } });
    const r = ipmipower(agent.port, ['--stat']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toMatch(/: (on|off)$/m);
    expect(ruleNow(agent, rule.id).applied).toBeGreaterThan(0);
    faultCtl(agent, ['clear', rule.id]);
    expect(ipmipower(agent.port, ['--stat']).stdout).toMatch(/: (on|off)$/m);
  });

  const sushy = (mode: string) => {
    const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_DRIVER, `https://${HOST}:${rf.redfishPort}`, rf.caFile, 'admin', 'password', mode], { timeoutMs: 90_000 });
    if (r.status !== 0) throw new Error(`sushy driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout);
  };

  it('Redfish 503 with Retry-After on the system: sushy retries the GET and reads it', () => {
    const rule = addRule(agent, { match: { protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/*' }, action: { kind: 'http-status', status: 503, retryAfter: 1 }, when: { maxTimes: 2 } });
    const out = sushy('get-system');
    expect(out.power_state).toMatch(/^(On|Off)$/);
    expect(out.retries).toHaveLength(2);
    expect(out.retries[0]).toContain('503');
    expect(ruleNow(agent, rule.id)).toMatchObject({ applied: 2 });
  });

  it('Redfish 409 on Reset On: sushy raises the conflict', () => {
    const rule = addRule(agent, { match: { protocol: 'redfish', method: 'POST', path: '/redfish/v1/Systems/*/Actions/ComputerSystem.Reset', resetType: 'On' }, action: { kind: 'http-status', status: 409 } });
    const out = sushy('reset-on');
    expect(out.error_status).toBe(409);
    expect(out.error_code).toBe('Base.1.16.0.ResourceInUse');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
  });

  it('power stuck: ipmitool power on is accepted, the power stays off', async () => {
    expect(ipmitool(['chassis', 'power', 'off']).status).toBe(0);
    await sleep(500);
    const rule = addRule(agent, { match: { protocol: 'power', resetType: 'on' }, action: { kind: 'power-stuck' } });
    expect(ipmitool(['chassis', 'power', 'on']).stdout).toContain('Chassis Power Control: Up/On');
    await sleep(1_000);
    expect(ipmitool(['chassis', 'power', 'status']).stdout).toContain('Chassis Power is off');
    expect(ruleNow(agent, rule.id).applied).toBe(1);
  });
});
