/**
 * The real ipmitool 1.8.19 against the real agent process (node-image/dist/main.js, MACHINE=sim) on
 * a free 127.0.0.1 port: session setup with and without -C, IPMI 1.5, and every ipmitool subcommand
 * an operator or a provisioning system uses, each checked on what ipmitool prints. Agents run with
 * DEBUG=true so their log lines can confirm what happened on the BMC side.
 *
 * Nothing here asserts on durations: "answered at once" is shown structurally, from ipmitool's own
 * -vvv trace (one request block per command means no retry) and from the absence of the messages
 * ipmitool prints only after it gave up waiting.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, RunResult } from '../support/tools';
import { agentLog, attempts, completionCodes, ipmitool, IpmitoolOptions, logMark, pollUntil } from '../support/ipmitool-runner';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
/** IPMI NetFn / command numbers the checks below look for in ipmitool's -vvv trace. */
const APP = 0x06;
const GET_CHANNEL_CIPHER_SUITES = 0x54;

jest.setTimeout(60_000);

function ensureBuilt(): void {
  if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
}

/** Shows ipmitool's whole result when an expectation on it fails. */
function explain(r: RunResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function expectOk(r: RunResult): RunResult {
  if (r.status !== 0) throw new Error(`ipmitool failed: ${explain(r)}`);
  return r;
}

/** "Key : value" lines of ipmitool's listings, spaces around the colon ignored. */
function field(output: string, key: string): string | undefined {
  for (const line of output.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim() === key) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** The bytes of `ipmitool raw` output (" 01 10 40 00"). */
function rawBytes(stdout: string): number[] {
  return stdout.trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16));
}

/** The suite IDs `channel getciphers ipmi 1` lists. */
function listedSuites(stdout: string): number[] {
  return stdout.split('\n').map((l) => /^(\d+)\s+N\/A\s/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
}

function systemGuid(stdout: string): string {
  const guid = field(stdout, 'System GUID');
  if (!guid || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(guid)) throw new Error(`no System GUID in:\n${stdout}`);
  return guid;
}

const describeIpmitool = describeWithTools(['ipmitool']);

describeIpmitool('ipmitool 1.8.19 against the agent (suites 3,17, IPMI 1.5 on)', () => {
  let agent: RunningAgent | undefined;
  const ipmi = (extra: string[], opts?: IpmitoolOptions): Promise<RunResult> => ipmitool(agent!.port, extra, opts);
  /** The agent's log lines written while `step` ran. */
  const logDuring = async <T>(step: () => Promise<T>): Promise<{ result: T; log: ReturnType<typeof agentLog> }> => {
    const mark = logMark(agent!);
    const result = await step();
    return { result, log: agentLog(agent!, mark) };
  };
  const powerStatus = async (): Promise<string> => (await ipmi(['power', 'status'])).stdout.trim();
  const waitForPower = (state: 'on' | 'off'): Promise<string> =>
    pollUntil(powerStatus, (s) => s === `Chassis Power is ${state}`, { attempts: 100, timeoutMs: 15_000, intervalMs: 100 });

  beforeAll(async () => {
    ensureBuilt();
    agent = await startAgent({ IPMI_CIPHER_SUITES: '3,17', DEBUG: 'true', SIM_POWER_DELAY_MS: '200', NODE_NAME: 'int-node' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
  });

  describe('sessions', () => {
    it('-I lanplus without -C: the agent answers Get Channel Cipher Suites at once and ipmitool chooses suite 17', async () => {
      const { result: r, log } = await logDuring(() => ipmi(['-vvv', 'power', 'status']));
      expect(expectOk(r).stdout).toContain('Chassis Power is off');
      expect(r.stderr).toContain('Using best available cipher suite 17');
      // ipmitool prints this only after four unanswered or refused attempts (then it falls back to 3).
      expect(r.stderr).not.toContain('Unable to Get Channel Cipher Suites');
      // One out-of-session query (suites 3 and 17 fit in one 16-byte chunk), answered with 00.
      expect(attempts(r.stderr, APP, GET_CHANNEL_CIPHER_SUITES)).toBe(1);
      expect(completionCodes(r.stderr, APP, GET_CHANNEL_CIPHER_SUITES)).toEqual([0x00]);
      expect(log).toContainEqual(expect.objectContaining({ msg: 'session activated', protocol: 'rmcpplus', suite: 17, user: 'admin' }));
    });

    it.each([3, 17])('-C %i: the session uses exactly that suite and no cipher-suite query is made', async (suite) => {
      const { result: r, log } = await logDuring(() => ipmi(['-C', String(suite), '-vvv', 'mc', 'info']));
      expect(field(expectOk(r).stdout, 'IPMI Version')).toBe('2.0');
      expect(attempts(r.stderr, APP, GET_CHANNEL_CIPHER_SUITES)).toBe(0);
      const activated = log.filter((l) => l.msg === 'session activated');
      expect(activated).toEqual([expect.objectContaining({ protocol: 'rmcpplus', suite })]);
    });

    it('-I lan: an IPMI 1.5 session with MD5 (ipmitool\'s first choice); straight password is off by default', async () => {
      const md5 = await logDuring(() => ipmi(['-vv', 'power', 'status'], { iface: 'lan' }));
      expect(expectOk(md5.result).stdout).toContain('Chassis Power is off');
      expect(md5.result.stderr).toContain('Proceeding with AuthType MD5');
      expect(md5.log).toContainEqual(expect.objectContaining({ msg: 'session activated', protocol: 'ipmi15', user: 'admin' }));

      const straight = await logDuring(() => ipmi(['-A', 'PASSWORD', 'power', 'status'], { iface: 'lan' }));
      expect(straight.result.status).not.toBe(0);
      expect(straight.log).not.toContainEqual(expect.objectContaining({ msg: 'session activated' }));

      const info = expectOk(await ipmi(['session', 'info', 'active'], { iface: 'lan' }));
      expect(field(info.stdout, 'session type')).toBe('IPMIv1.5');
      expect(field(info.stdout, 'privilege level')).toBe('ADMINISTRATOR');
    });
  });

  describe('mc', () => {
    it('mc info', async () => {
      const r = expectOk(await ipmi(['mc', 'info']));
      expect(field(r.stdout, 'IPMI Version')).toBe('2.0');
      expect(field(r.stdout, 'Device Available')).toBe('yes');
      expect(field(r.stdout, 'Provides Device SDRs')).toBe('no');
      expect(r.stdout).toContain('SDR Repository Device');
      expect(r.stdout).toContain('Chassis Device');
      expect(r.stderr).toBe('');
    });

    it('mc guid: a valid random (version 4) GUID in IPMI encoding, the same on every call', async () => {
      const a = expectOk(await ipmi(['mc', 'guid']));
      expect(field(a.stdout, 'GUID Encoding')).toBe('IPMI');
      expect(field(a.stdout, 'GUID Version')).toBe('Random or pseudo-random');
      const b = expectOk(await ipmi(['-C', '3', 'mc', 'guid']));
      expect(systemGuid(b.stdout)).toBe(systemGuid(a.stdout));
    });

    it('mc selftest', async () => {
      expect(expectOk(await ipmi(['mc', 'selftest'])).stdout).toContain('Selftest: passed');
    });
  });

  describe('chassis', () => {
    it('chassis status of a machine that was never powered on', async () => {
      const r = expectOk(await ipmi(['chassis', 'status']));
      expect(field(r.stdout, 'System Power')).toBe('off');
      expect(field(r.stdout, 'Power Restore Policy')).toBe('always-off');
      expect(field(r.stdout, 'Power Control Fault')).toBe('false');
      expect(field(r.stdout, 'Main Power Fault')).toBe('false');
      expect(expectOk(await ipmi(['chassis', 'restart_cause'])).stdout).toContain('System restart cause: unknown');
    });

    it('power on/soft/cycle/reset/diag/off: power status follows each transition of the simulated machine', async () => {
      expect(expectOk(await ipmi(['power', 'on'])).stdout).toContain('Chassis Power Control: Up/On');
      expect(await waitForPower('on')).toBe('Chassis Power is on');
      expect(expectOk(await ipmi(['chassis', 'restart_cause'])).stdout).toContain('System restart cause: chassis power control command');

      // Soft off is an ACPI power button press: the simulated guest honours it once booted (a guest
      // still in firmware ignores it, like a real OS before its ACPI driver loads), so press until
      // it shuts down — bounded in presses and time.
      let soft = await powerStatus();
      for (let press = 0; press < 10 && soft !== 'Chassis Power is off'; press++) {
        expect(expectOk(await ipmi(['power', 'soft'])).stdout).toContain('Chassis Power Control: Soft');
        soft = await pollUntil(powerStatus, (s) => s === 'Chassis Power is off', { attempts: 15, timeoutMs: 3_000, intervalMs: 100 });
      }
      expect(soft).toBe('Chassis Power is off');

      expect(expectOk(await ipmi(['power', 'on'])).stdout).toContain('Chassis Power Control: Up/On');
      expect(await waitForPower('on')).toBe('Chassis Power is on');
      expect(expectOk(await ipmi(['power', 'cycle'])).stdout).toContain('Chassis Power Control: Cycle');
      expect(await waitForPower('on')).toBe('Chassis Power is on');
      expect(expectOk(await ipmi(['power', 'reset'])).stdout).toContain('Chassis Power Control: Reset');
      expect(await powerStatus()).toBe('Chassis Power is on');
      expect(expectOk(await ipmi(['power', 'diag'])).stdout).toContain('Chassis Power Control: Diag');
      expect(await powerStatus()).toBe('Chassis Power is on');
      expect(expectOk(await ipmi(['power', 'off'])).stdout).toContain('Chassis Power Control: Down/Off');
      expect(await waitForPower('off')).toBe('Chassis Power is off');

      // With the power off there is nothing to reset: an explicit refusal, not a silent success.
      const diagOff = await ipmi(['power', 'diag']);
      expect(diagOff.status).toBe(1);
      expect(diagOff.stderr).toContain('Set Chassis Power Control to Diag failed: Command not supported in present state');

      const status = expectOk(await ipmi(['chassis', 'status']));
      expect(field(status.stdout, 'System Power')).toBe('off');
      expect(field(status.stdout, 'Last Power Event')).toBe('command');
    });

    it('chassis identify: default, N seconds, force and off, visible in Get Chassis Status', async () => {
      expect(expectOk(await ipmi(['chassis', 'identify'])).stdout).toContain('Chassis identify interval: default (15 seconds)');
      // Get Chassis Status byte 3: bit 6 identify supported, bits 5:4 = 01 timed on.
      expect(rawBytes(expectOk(await ipmi(['raw', '0x00', '0x01'])).stdout)[2]! & 0x70).toBe(0x50);
      expect(expectOk(await ipmi(['chassis', 'identify', '5'])).stdout).toContain('Chassis identify interval: 5 seconds');
      expect(expectOk(await ipmi(['chassis', 'identify', 'force'])).stdout).toContain('Chassis identify interval: indefinite');
      expect(rawBytes(expectOk(await ipmi(['raw', '0x00', '0x01'])).stdout)[2]! & 0x70).toBe(0x60);
      expect(expectOk(await ipmi(['chassis', 'identify', '0'])).stdout).toContain('Chassis identify interval: off');
      expect(rawBytes(expectOk(await ipmi(['raw', '0x00', '0x01'])).stdout)[2]! & 0x70).toBe(0x40);
    });

    it('chassis poh', async () => {
      expect(expectOk(await ipmi(['chassis', 'poh'])).stdout).toMatch(/^POH Counter\s+: \d+ days, \d+ hours, \d+ minutes$/m);
    });

    it('chassis policy: list, set each policy and read it back in chassis status', async () => {
      expect(expectOk(await ipmi(['chassis', 'policy', 'list'])).stdout).toMatch(/Supported chassis power policy:\s+always-off always-on previous/);
      for (const policy of ['always-on', 'previous', 'always-off']) {
        expect(expectOk(await ipmi(['chassis', 'policy', policy])).stdout).toContain(`Set chassis power restore policy to ${policy}`);
        expect(field(expectOk(await ipmi(['chassis', 'status'])).stdout, 'Power Restore Policy')).toBe(policy);
      }
    });

    it.each([
      [['pxe'], '8004000000', 'Options apply to only next boot', 'Force PXE'],
      [['disk', 'options=persistent,efiboot'], 'e008000000', 'Options apply to all future boots', 'Force Boot from default Hard-Drive'],
      [['cdrom'], '8014000000', 'Options apply to only next boot', 'Force Boot from CD/DVD'],
    ])('chassis bootdev %j is read back exactly by chassis bootparam get 5', async (args, data, scope, device) => {
      expect(expectOk(await ipmi(['chassis', 'bootdev', ...args])).stdout).toContain(`Set Boot Device to ${args[0]}`);
      const r = expectOk(await ipmi(['chassis', 'bootparam', 'get', '5']));
      expect(r.stdout).toContain('Boot parameter version: 1');
      expect(r.stdout).toContain('Boot parameter 5 is valid/unlocked');
      expect(r.stdout).toContain(`Boot parameter data: ${data}`);
      expect(r.stdout).toContain(`- ${scope}`);
      expect(r.stdout).toContain(`Boot Device Selector : ${device}`);
      expect(r.stdout).toContain(args[1]?.includes('efiboot') ? 'BIOS EFI boot' : 'BIOS PC Compatible (legacy) boot');
    });
  });

  describe('lan and channel', () => {
    it('lan print 1 shows the address the agent is bound to and every parameter without an error', async () => {
      const r = expectOk(await ipmi(['lan', 'print', '1']));
      expect(field(r.stdout, 'IP Address')).toBe('127.0.0.1');
      expect(field(r.stdout, 'Subnet Mask')).toBe('255.0.0.0');
      expect(field(r.stdout, 'IP Address Source')).toBe('Static Address');
      expect(field(r.stdout, 'Auth Type Support')).toBe('MD5');
      expect(field(r.stdout, 'RMCP+ Cipher Suites')).toBe('3,17');
      expect(field(r.stdout, 'Cipher Suite Priv Max')).toBe('XXXaXXXXXXXXXXX'); // one character per suite ID: 3 is Administrator, 17 has no slot
      expect(field(r.stdout, 'Bad Password Threshold')).toBe('5');
      expect(field(r.stdout, 'Attempt Count Reset Int.')).toBe('60');
      expect(field(r.stdout, 'User Lockout Interval')).toBe('30');
      expect(r.stderr).toBe('');
    });

    it('channel info', async () => {
      const r = expectOk(await ipmi(['channel', 'info']));
      expect(r.stdout).toContain('Channel 0x1 info:');
      expect(field(r.stdout, 'Channel Medium Type')).toBe('802.3 LAN');
      expect(field(r.stdout, 'Channel Protocol Type')).toBe('IPMB-1.0');
      expect(field(r.stdout, 'Session Support')).toBe('multi-session');
      expect(Number(field(r.stdout, 'Active Session Count'))).toBeGreaterThanOrEqual(1); // this one
      expect(field(r.stdout, 'Access Mode')).toBe('always available');
    });

    it('channel authcap 1 4 (sent inside the session)', async () => {
      const r = expectOk(await ipmi(['channel', 'authcap', '1', '4']));
      expect(field(r.stdout, 'Channel number')).toBe('1');
      expect(field(r.stdout, 'IPMI v1.5  auth types')).toBe('MD5');
      expect(field(r.stdout, 'Channel supports IPMI v1.5')).toBe('yes');
      expect(field(r.stdout, 'Channel supports IPMI v2.0')).toBe('yes');
      expect(field(r.stdout, 'Anonymous login enabled')).toBe('no');
    });

    it('channel getciphers ipmi 1 lists exactly the configured suites 3 and 17', async () => {
      const r = expectOk(await ipmi(['channel', 'getciphers', 'ipmi', '1']));
      expect(listedSuites(r.stdout)).toEqual([3, 17]);
      expect(r.stdout).toMatch(/^3\s+N\/A\s+hmac_sha1\s+hmac_sha1_96\s+aes_cbc_128/m);
      expect(r.stdout).toMatch(/^17\s+N\/A\s+hmac_sha256\s+sha256_128\s+aes_cbc_128/m);
    });
  });

  describe('users', () => {
    it('user set name / set password / priv / enable create a user that can log in with its own privilege', async () => {
      expectOk(await ipmi(['user', 'set', 'name', '3', 'oper3']));
      expect(expectOk(await ipmi(['user', 'set', 'password', '3', 'Op3rator-pw'])).stdout).toContain('Set User Password command successful (user 3)');
      expect(expectOk(await ipmi(['user', 'priv', '3', '3', '1'])).stdout).toContain('Set Privilege Level command successful (user 3)');
      expectOk(await ipmi(['user', 'enable', '3']));
      const list = expectOk(await ipmi(['user', 'list', '1']));
      expect(list.stdout).toMatch(/^3\s+oper3\s+.*OPERATOR\s*$/m);
      expect(list.stdout).toMatch(/^2\s+admin\s+.*ADMINISTRATOR\s*$/m);

      const { result: asOper, log } = await logDuring(() => ipmi(['-L', 'OPERATOR', 'session', 'info', 'active'], { user: 'oper3', password: 'Op3rator-pw' }));
      expect(field(expectOk(asOper).stdout, 'user id')).toBe('3');
      expect(field(asOper.stdout, 'privilege level')).toBe('OPERATOR');
      expect(log).toContainEqual(expect.objectContaining({ msg: 'session activated', user: 'oper3' }));
      // Operator may control the power.
      expect(expectOk(await ipmi(['-L', 'OPERATOR', 'chassis', 'identify', '0'], { user: 'oper3', password: 'Op3rator-pw' })).stdout).toContain('Chassis identify interval: off');
    });

    it('a 20-byte password (ipmitool\'s "20" form of Set User Password) works for login', async () => {
      const pw = 'abcdefghij0123456789';
      expectOk(await ipmi(['user', 'set', 'name', '4', 'longpw']));
      expectOk(await ipmi(['user', 'set', 'password', '4', pw, '20']));
      expectOk(await ipmi(['user', 'priv', '4', '4', '1']));
      expectOk(await ipmi(['user', 'enable', '4']));
      expect(field(expectOk(await ipmi(['session', 'info', 'active'], { user: 'longpw', password: pw })).stdout, 'user id')).toBe('4');
    });
  });

  describe('sensors, FRU, SEL and sessions', () => {
    it.each([['sdr', 'list'], ['sdr', 'elist'], ['sensor', 'list']])('%s %s lists every sensor without a failure', async (group: string, action: string) => {
      const r = expectOk(await ipmi([group, action]));
      for (const sensor of ['Inlet Temp', 'CPU Temp', 'Fan 1', '12V', 'System Power']) expect(r.stdout).toContain(sensor);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/fail|error|unable/i);
      expect(r.stderr).toBe('');
    });

    it('fru print', async () => {
      const r = expectOk(await ipmi(['fru', 'print']));
      expect(r.stdout).toContain('FRU Device Description : Builtin FRU Device (ID 0)');
      expect(field(r.stdout, 'Product Name')).toBe('bmcfleet virtual server');
      expect(field(r.stdout, 'Product Manufacturer')).toBe('bmcfleet');
      expect(field(r.stdout, 'Product Serial')).toBe('int-node');
      expect(field(r.stdout, 'Chassis Type')).toBe('Rack Mount Chassis');
      expect(r.stderr).toBe('');
    });

    it('sel info / sel list show power-on and power-off events; sel clear empties the log', async () => {
      expectOk(await ipmi(['power', 'on']));
      expect(await waitForPower('on')).toBe('Chassis Power is on');
      expectOk(await ipmi(['power', 'off']));
      expect(await waitForPower('off')).toBe('Chassis Power is off');

      const info = expectOk(await ipmi(['sel', 'info']));
      expect(Number(field(info.stdout, 'Entries'))).toBeGreaterThanOrEqual(2);
      const list = expectOk(await ipmi(['sel', 'list']));
      expect(list.stdout).toMatch(/System ACPI Power State .*\| S0\/G0: working \| Asserted/);
      expect(list.stdout).toMatch(/Power Unit .*\| Power off\/down \| Asserted/);

      expect(expectOk(await ipmi(['sel', 'clear'])).stdout).toContain('Clearing SEL');
      expect(field(expectOk(await ipmi(['sel', 'info'])).stdout, 'Entries')).toBe('0');
      const empty = expectOk(await ipmi(['sel', 'list']));
      expect(`${empty.stdout}${empty.stderr}`).toContain('SEL has no entries'); // ipmitool prints it on stderr

      // The next power-on is logged again.
      expectOk(await ipmi(['power', 'on']));
      expect(await waitForPower('on')).toBe('Chassis Power is on');
      const after = expectOk(await ipmi(['sel', 'list']));
      expect(after.stdout.trim().split('\n')).toEqual([expect.stringMatching(/S0\/G0: working \| Asserted/)]);
      expectOk(await ipmi(['power', 'off']));
      expect(await waitForPower('off')).toBe('Chassis Power is off');
    });

    it('session info active describes the RMCP+ session from 127.0.0.1', async () => {
      const r = expectOk(await ipmi(['session', 'info', 'active']));
      expect(field(r.stdout, 'session type')).toBe('IPMIv2/RMCP+');
      expect(field(r.stdout, 'privilege level')).toBe('ADMINISTRATOR');
      expect(field(r.stdout, 'user id')).toBe('2');
      expect(field(r.stdout, 'channel number')).toBe('0x01');
      expect(field(r.stdout, 'console ip')).toBe('127.0.0.1');
      expect(Number(field(r.stdout, 'slot count'))).toBeGreaterThanOrEqual(4);
    });

    it('mc reset cold: ipmitool does not wait; the agent resets and the next command works', async () => {
      const { result: r, log } = await logDuring(() => ipmi(['mc', 'reset', 'cold']));
      expect(expectOk(r).stdout).toContain('Sent cold reset command to MC');
      expect(log).toContainEqual(expect.objectContaining({ msg: 'BMC reset requested', kind: 'cold' }));
      const after = expectOk(await ipmi(['mc', 'info']));
      expect(field(after.stdout, 'Device Available')).toBe('yes');
      expect(await powerStatus()).toBe('Chassis Power is off');
    });
  });
});

describeIpmitool('ipmitool against an agent with IPMI_V15=false and IPMI_CIPHER_SUITES=1,2,3,15,16,17', () => {
  let agent: RunningAgent | undefined;
  const ipmi = (extra: string[], opts?: IpmitoolOptions): Promise<RunResult> => ipmitool(agent!.port, extra, opts);

  beforeAll(async () => {
    ensureBuilt();
    agent = await startAgent({ IPMI_V15: 'false', IPMI_CIPHER_SUITES: '1,2,3,15,16,17', DEBUG: 'true' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('-I lan fails at once with a clear message and no session; the agent advertises no IPMI 1.5 auth type', async () => {
    const mark = logMark(agent!);
    const r = await ipmi(['-vvv', 'power', 'status'], { iface: 'lan' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Authentication type NONE not supported');
    expect(r.stderr).toContain('Error: Unable to establish IPMI v1.5 / RMCP session');
    // The refusal comes from the agent's answer to Get Channel Authentication Capabilities (no
    // IPMI 1.5 auth type offered): ipmitool sent two datagrams in all (ASF ping, then that
    // request), got both answers, and no IPMI 1.5 session was created.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('send_packet ('))).toHaveLength(2);
    expect(completionCodes(r.stderr, APP, 0x38)).toEqual([0x00]);
    expect(r.stderr).toMatch(/Auth Types\s+: *\n/);
    expect(agentLog(agent!, mark).filter((l) => l.msg === 'session activated')).toEqual([]);

    const forced = await ipmi(['-A', 'MD5', 'power', 'status'], { iface: 'lan' });
    expect(forced.status).toBe(1);
    expect(forced.stderr).toContain('Error: Unable to establish IPMI v1.5 / RMCP session');
    expect(agentLog(agent!, mark).filter((l) => l.msg === 'session activated')).toEqual([]);
  });

  it('-I lanplus still works, and channel authcap says IPMI 1.5 is off', async () => {
    expect(expectOk(await ipmi(['power', 'status'])).stdout).toContain('Chassis Power is off');
    const cap = expectOk(await ipmi(['channel', 'authcap', '1', '4']));
    expect(field(cap.stdout, 'Channel supports IPMI v1.5')).toBe('no');
    expect(field(cap.stdout, 'Channel supports IPMI v2.0')).toBe('yes');
  });

  it('channel getciphers ipmi 1 and lan print list exactly 1,2,3,15,16,17', async () => {
    const r = expectOk(await ipmi(['channel', 'getciphers', 'ipmi', '1']));
    expect(listedSuites(r.stdout)).toEqual([1, 2, 3, 15, 16, 17]);
    expect(r.stdout).toMatch(/^1\s+N\/A\s+hmac_sha1\s+none\s+none/m);
    expect(r.stdout).toMatch(/^16\s+N\/A\s+hmac_sha256\s+sha256_128\s+none/m);
    expect(field(expectOk(await ipmi(['lan', 'print', '1'])).stdout, 'RMCP+ Cipher Suites')).toBe('1,2,3,15,16,17');
  });

  it('without -C ipmitool reads the two-chunk suite list and still chooses 17', async () => {
    const mark = logMark(agent!);
    const r = expectOk(await ipmi(['-vvv', 'power', 'status']));
    expect(r.stderr).toContain('Using best available cipher suite 17');
    expect(r.stderr).not.toContain('Unable to Get Channel Cipher Suites');
    // 6 suites × 5 bytes = 30 bytes: a full 16-byte chunk, then a short one that ends the list.
    expect(attempts(r.stderr, APP, GET_CHANNEL_CIPHER_SUITES)).toBe(2);
    expect(completionCodes(r.stderr, APP, GET_CHANNEL_CIPHER_SUITES)).toEqual([0x00, 0x00]);
    expect(agentLog(agent!, mark)).toContainEqual(expect.objectContaining({ msg: 'session activated', suite: 17 }));
  });

  it.each([1, 2, 3, 15, 16, 17])('-C %i: a session with exactly that suite', async (suite) => {
    const mark = logMark(agent!);
    expect(expectOk(await ipmi(['-C', String(suite), 'power', 'status'])).stdout).toContain('Chassis Power is off');
    expect(agentLog(agent!, mark)).toContainEqual(expect.objectContaining({ msg: 'session activated', suite }));
  });
});

describeIpmitool('ipmitool: IPMI_USER/IPMI_PASS and state kept across an agent restart', () => {
  const USER = 'opsroot';
  const PASS = 'S3cret-Pass!';
  const env = { IPMI_USER: USER, IPMI_PASS: PASS, DEBUG: 'true' };
  let stateDir: string | undefined;
  let agent: RunningAgent | undefined;
  const ipmi = (extra: string[], opts?: IpmitoolOptions): Promise<RunResult> => ipmitool(agent!.port, extra, { user: USER, password: PASS, ...opts });

  beforeAll(async () => {
    ensureBuilt();
    stateDir = mkdtempSync(join(tmpdir(), 'bmcfleet-ipmitool-state-'));
    agent = await startAgent(env, { stateDir });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('the configured name and password log in; the defaults admin/password do not', async () => {
    expect(expectOk(await ipmi(['power', 'status'])).stdout).toContain('Chassis Power is off');
    expect(expectOk(await ipmi(['user', 'list', '1'])).stdout).toMatch(new RegExp(`^2\\s+${USER}\\s+.*ADMINISTRATOR\\s*$`, 'm'));

    const defaults = await ipmi(['-v', 'power', 'status'], { user: 'admin', password: 'password' });
    expect(defaults.status).toBe(1);
    expect(defaults.stderr).toContain('RAKP 2 message indicates an error : unauthorized name');
    expect(defaults.stderr).toContain('Error: Unable to establish IPMI v2 / RMCP+ session');

    const defaultPassword = await ipmi(['-v', 'power', 'status'], { password: 'password' });
    expect(defaultPassword.status).toBe(1);
    expect(defaultPassword.stderr).toContain('RAKP 2 HMAC is invalid');

    const lanDefaults = await ipmi(['power', 'status'], { iface: 'lan', user: 'admin', password: 'password' });
    expect(lanDefaults.status).toBe(1);
    expect(expectOk(await ipmi(['power', 'status'], { iface: 'lan' })).stdout).toContain('Chassis Power is off');
  });

  it('a second agent start on the same state directory keeps the GUID and the users created over IPMI', async () => {
    const guid = systemGuid(expectOk(await ipmi(['mc', 'guid'])).stdout);
    expectOk(await ipmi(['user', 'set', 'name', '5', 'keeper']));
    expectOk(await ipmi(['user', 'set', 'password', '5', 'keeper-pw-1']));
    expectOk(await ipmi(['user', 'priv', '5', '4', '1']));
    expectOk(await ipmi(['user', 'enable', '5']));
    expect(field(expectOk(await ipmi(['session', 'info', 'active'], { user: 'keeper', password: 'keeper-pw-1' })).stdout, 'user id')).toBe('5');

    await agent!.stop();
    agent = await startAgent(env, { stateDir });

    expect(systemGuid(expectOk(await ipmi(['mc', 'guid'])).stdout)).toBe(guid);
    expect(expectOk(await ipmi(['user', 'list', '1'])).stdout).toMatch(/^5\s+keeper\s+.*ADMINISTRATOR\s*$/m);
    expect(field(expectOk(await ipmi(['session', 'info', 'active'], { user: 'keeper', password: 'keeper-pw-1' })).stdout, 'user id')).toBe('5');
    expect(expectOk(await ipmi(['power', 'status'])).stdout).toContain('Chassis Power is off');
  });
});

describeIpmitool('ipmitool power control when a transition takes longer than ipmitool\'s 1 s retry timer', () => {
  let agent: RunningAgent | undefined;
  const ipmi = (extra: string[]): Promise<RunResult> => ipmitool(agent!.port, extra);

  beforeAll(async () => {
    ensureBuilt();
    agent = await startAgent({ SIM_POWER_DELAY_MS: '1500' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('power on/off report success at once and power status follows once the transition is done', async () => {
    // Chassis Control is answered when the action has been accepted, as real BMCs do; the power
    // state changes SIM_POWER_DELAY_MS later. ipmitool must neither retry nor see "Node busy".
    const on = await ipmi(['-vvv', 'power', 'on']);
    expect(on.stderr).not.toContain('Node busy');
    expect(expectOk(on).stdout).toContain('Chassis Power Control: Up/On');
    expect(attempts(on.stderr, 0x00, 0x02, [0x01])).toBe(1);
    const onStatus = await pollUntil(async () => (await ipmi(['power', 'status'])).stdout.trim(), (s) => s === 'Chassis Power is on', { attempts: 60, timeoutMs: 15_000, intervalMs: 200 });
    expect(onStatus).toBe('Chassis Power is on');

    const off = await ipmi(['-vvv', 'power', 'off']);
    expect(off.stderr).not.toContain('Node busy');
    expect(expectOk(off).stdout).toContain('Chassis Power Control: Down/Off');
    expect(attempts(off.stderr, 0x00, 0x02, [0x00])).toBe(1);
    const offStatus = await pollUntil(async () => (await ipmi(['power', 'status'])).stdout.trim(), (s) => s === 'Chassis Power is off', { attempts: 60, timeoutMs: 15_000, intervalMs: 200 });
    expect(offStatus).toBe('Chassis Power is off');
  });
});
