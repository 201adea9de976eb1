/**
 * FreeIPMI against the real agent process (MACHINE=sim) on a free loopback port, run the way MAAS's
 * IPMI power driver runs it: `ipmipower -W opensesspriv --driver-type LAN_2_0 -h host:port -u -p
 * [-I suite] -l OPERATOR --stat|--on|--off|--cycle [--on-if-off]`, `ipmi-chassis-config --commit`
 * of a one-time PXE boot before power-on; then bmc-info (IPMI 2.0 and 1.5), ipmi-config checkouts,
 * ipmi-chassis, ipmi-sensors, ipmi-sel, the refusals (explicit messages after exactly one handshake,
 * not timeouts; IPMI 1.5 is the exception FreeIPMI itself imposes, see there) and ipmiconsole SOL
 * through a pty.
 *
 * FreeIPMI checks what ipmitool does not: the BMC's outbound session sequence numbers (8-wide window),
 * the RMCP+ message tags, the Open Session privilege, the Activate Session reply of IPMI 1.5. A slip
 * there shows up as a timeout or a retransmitted request, so these tests also guard those details
 * (see the "exactly one" counts, taken from the agent's log and from a counting UDP relay).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN, freeUdpPortBelow32768, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, hasTool, ipmitoolArgs, run, RunResult } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const HOST = '127.0.0.1';
const USER = 'admin';
const PASSWORD = 'password';
/** Hard limit for one FreeIPMI run (a healthy one takes well under a second here). */
const TOOL_TIMEOUT_MS = 30_000;
/** Polling the power state after a command: bounded by count and by time. */
const POLL_TRIES = 60;
const POLL_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 100;
/** Reading the agent's log after a command: bounded. */
const LOG_WAIT_MS = 5_000;

jest.setTimeout(60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ensureBuilt(): void {
  if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
}

/** `-h host:port -u -p`, the arguments every FreeIPMI tool takes. */
function target(port: number, opts: { user?: string; password?: string } = {}): string[] {
  return ['-h', `${HOST}:${port}`, '-u', opts.user ?? USER, '-p', opts.password ?? PASSWORD];
}

/** How MAAS reaches a BMC: its power_driver (LAN_2_0 by default, or LAN for IPMI 1.5) and cipher_suite_id. */
interface Connection { readonly name: string; readonly driver: 'LAN_2_0' | 'LAN'; readonly args: string[] }

const CONNECTIONS: readonly Connection[] = [
  { name: 'IPMI 2.0, cipher suite 3 (FreeIPMI and MAAS default)', driver: 'LAN_2_0', args: [] },
  { name: 'IPMI 2.0, cipher suite 17 (-I 17)', driver: 'LAN_2_0', args: ['-I', '17'] },
  { name: 'IPMI 1.5 (--driver-type LAN)', driver: 'LAN', args: [] },
];
const DEFAULT_CONNECTION = CONNECTIONS[0]!;

/** The ipmipower command line of MAAS's IPMI power driver (provisioningserver/drivers/power/ipmi.py). */
function maasIpmipower(port: number, conn: Connection, action: string[], opts: { user?: string; password?: string } = {}): string[] {
  return ['-W', 'opensesspriv', '--driver-type', conn.driver, ...target(port, opts), ...conn.args, '-l', 'OPERATOR', ...action];
}

function maasChassisConfig(port: number, conn: Connection, extra: string[]): string[] {
  return ['-W', 'opensesspriv', '--driver-type', conn.driver, ...target(port), ...conn.args, '-l', 'OPERATOR', ...extra];
}

/** What a failed expectation should show: the whole run, not just "expected 0". */
function outcome(r: RunResult): { status: number | null; stdout: string; stderr: string } {
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** "Key : value" lines (bmc-info, ipmi-chassis) → first value per key. */
function colonFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (!m.has(key)) m.set(key, line.slice(i + 1).trim());
  }
  return m;
}

/** ipmi-config checkout → section name → (key → value); commented-out keys are left out. */
function configSections(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sec = /^Section\s+(\S+)$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1]!, current);
      continue;
    }
    if (line === 'EndSection') {
      current = undefined;
      continue;
    }
    const kv = /^(\S+)\s+(.*)$/.exec(line);
    if (kv && current) current.set(kv[1]!, kv[2]!.trim());
  }
  return sections;
}

/** Lines of a `ID | a | b` table (ipmi-sensors, ipmi-sel) split on '|', header removed. */
function tableRows(text: string): string[][] {
  return text.split('\n')
    .filter((l) => l.includes('|') && !/^ID\s*\|/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()));
}

function countMatches(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/**
 * The agent writes its log line before it answers, but this process reads the agent's output only
 * while its event loop runs (tools.run blocks it): wait, bounded, until `count()` reaches `want`,
 * then give the loop one more turn so that a duplicate would also have been read.
 */
async function logCount(count: () => number, want: number): Promise<number> {
  const deadline = Date.now() + LOG_WAIT_MS;
  for (let i = 0; i < LOG_WAIT_MS / 10 && count() < want && Date.now() < deadline; i++) await sleep(10);
  await sleep(50);
  return count();
}

/** Like tools.run but asynchronous, so that this process (the UDP relay) keeps running meanwhile. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * A UDP relay between a client and the agent that counts what the client sends, by RMCP+ payload
 * type: the structural proof that a refusal came after one handshake and not after retries.
 */
class CountingRelay {
  /** RMCP+ payload types (0x10 Open Session Request, 0x12 RAKP1, 0x14 RAKP3, 0x00 IPMI) → count. */
  readonly sent = new Map<number, number>();
  datagrams = 0;
  private readonly upstream = new Map<string, Socket>();
  private static readonly MAX_CLIENTS = 16;

  private constructor(private readonly front: Socket, private readonly agentPort: number) {}

  static async start(agentPort: number): Promise<CountingRelay> {
    const front = createSocket('udp4');
    await new Promise<void>((resolve) => front.bind(0, HOST, () => resolve()));
    const relay = new CountingRelay(front, agentPort);
    front.on('message', (msg, rinfo) => relay.fromClient(msg, rinfo.address, rinfo.port));
    return relay;
  }

  get port(): number {
    return this.front.address().port;
  }

  count(payloadType: number): number {
    return this.sent.get(payloadType) ?? 0;
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    this.datagrams++;
    // RMCP header (4 bytes), then the auth type byte: 0x06 = RMCP+, whose next byte is the payload type.
    if (msg.length > 5 && msg[4] === 0x06) {
      const type = msg[5]! & 0x3f;
      this.sent.set(type, (this.sent.get(type) ?? 0) + 1);
    }
    const key = `${address}:${port}`;
    let up = this.upstream.get(key);
    if (!up) {
      if (this.upstream.size >= CountingRelay.MAX_CLIENTS) return;
      const s = createSocket('udp4');
      s.bind(0, HOST);
      s.on('message', (reply) => this.front.send(reply, port, address));
      this.upstream.set(key, s);
      up = s;
    }
    up.send(msg, this.agentPort, HOST);
  }

  async close(): Promise<void> {
    for (const s of this.upstream.values()) s.close();
    this.upstream.clear();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
  }
}

const PAYLOAD_OPEN_SESSION_REQUEST = 0x10;
const PAYLOAD_RAKP1 = 0x12;
const PAYLOAD_RAKP3 = 0x14;

describeWithTools(['ipmipower', 'bmc-info', 'ipmi-config', 'ipmi-chassis-config', 'ipmi-chassis', 'ipmi-sensors', 'ipmi-sel'])('FreeIPMI against the agent process', () => {
  let agent: RunningAgent | undefined;
  let cacheDir: string | undefined;
  const relays: CountingRelay[] = [];

  const port = (): number => agent!.port;
  const ipmipower = (conn: Connection, action: string[], opts: { user?: string; password?: string } = {}): RunResult =>
    run('ipmipower', maasIpmipower(port(), conn, action, opts), { timeoutMs: TOOL_TIMEOUT_MS });
  /** `127.0.0.1: on|off` from `ipmipower --stat`, or what it printed instead. */
  const stat = (conn: Connection): string => {
    const r = ipmipower(conn, ['--stat']);
    const m = /^127\.0\.0\.1: (on|off)$/m.exec(r.stdout);
    return m ? m[1]! : `no state (exit ${r.status}): ${r.stdout}${r.stderr}`;
  };
  /** Polls `--stat` until it reports `want` (transitions take SIM_POWER_DELAY_MS); bounded. */
  const statUntil = async (conn: Connection, want: 'on' | 'off'): Promise<string> => {
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    let seen = stat(conn);
    for (let i = 0; i < POLL_TRIES && seen !== want && Date.now() < deadline; i++) {
      await sleep(POLL_INTERVAL_MS);
      seen = stat(conn);
    }
    return seen;
  };
  const chassisControls = (action: string): number => countMatches(agent!.output(), `"msg":"chassis control","action":"${action}"`);

  beforeAll(async () => {
    ensureBuilt();
    agent = await startAgent({ DEBUG: 'true', NODE_NAME: 'freeipmi-node' });
    cacheDir = mkdtempSync(join(tmpdir(), 'bmcfleet-freeipmi-'));
  }, BUILD_TIMEOUT_MS + 20_000);

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.close()));
  });

  afterAll(async () => {
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await agent?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it.each(CONNECTIONS)('ipmipower --stat, --on, --cycle, --off over $name', async (conn) => {
    let r = ipmipower(conn, ['--off']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'off')).toBe('off');

    const onsBefore = await logCount(() => chassisControls('on'), 0);
    r = ipmipower(conn, ['--on']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'on')).toBe('on');
    // One request, executed once: a reply FreeIPMI had dropped (sequence window, tag) would have
    // been retransmitted and shown up here as a second power-on.
    expect(await logCount(() => chassisControls('on'), onsBefore + 1)).toBe(onsBefore + 1);

    const cyclesBefore = await logCount(() => chassisControls('cycle'), 0);
    r = ipmipower(conn, ['--cycle']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'on')).toBe('on');
    expect(await logCount(() => chassisControls('cycle'), cyclesBefore + 1)).toBe(cyclesBefore + 1);

    r = ipmipower(conn, ['--off']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'off')).toBe('off');
  });

  it('ipmi-config --checkout --category=chassis exits 0 with the chassis sections', () => {
    const r = run('ipmi-config', ['--driver-type', 'LAN_2_0', ...target(port()), '--checkout', '--category=chassis'], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0, stderr: '' });
    const s = configSections(r.stdout);
    expect([...s.keys()]).toEqual(['Chassis_Front_Panel_Buttons', 'Chassis_Power_Conf', 'Chassis_Boot_Flags']);
    expect(s.get('Chassis_Power_Conf')!.get('Power_Restore_Policy')).toBe('Off_State_AC_Apply'); // the agent's default: always off
    const boot = s.get('Chassis_Boot_Flags')!;
    expect(boot.get('Boot_Flags_Persistent')).toMatch(/^(Yes|No)$/);
    expect(boot.get('BIOS_Boot_Type')).toMatch(/^(PC-COMPATIBLE|EFI)$/);
    expect(boot.get('Boot_Device')).toMatch(/^[A-Z-_]+$/);
    expect(s.get('Chassis_Front_Panel_Buttons')!.get('Enable_Reset_Button')).toMatch(/^(Yes|No)$/);
  });

  it('ipmi-config core: the sections a LAN-only BMC implements check out cleanly', () => {
    // The whole core category exits 1 on this BMC, legitimately: it has no IPv6 parameters
    // (Lan6_Conf), no K_g key (Lan_Conf_Security_Keys), no serial channel (Serial_*), and
    // Lan_Conf_Auth lists auth types it does not support. Rmcpplus_Conf_Privilege is left out too:
    // FreeIPMI (like ipmitool's "Cipher Suite Priv Max") reads LAN parameter 24's nibbles by cipher
    // suite ID, the agent writes one per parameter-23 entry, so suite 3 shows as "Unused".
    // These sections must be clean.
    const sections = ['User2', 'Lan_Channel', 'Lan_Conf', 'Lan_Conf_User_Security', 'Lan_Conf_Misc', 'SOL_Conf'];
    const r = run('ipmi-config', ['--driver-type', 'LAN_2_0', ...target(port()), '--checkout', '--category=core', ...sections.flatMap((x) => ['-S', x])], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0 });
    const s = configSections(r.stdout);
    expect([...s.keys()].sort()).toEqual([...sections].sort());
    expect(Object.fromEntries(s.get('User2')!)).toMatchObject({
      Username: USER, Enable_User: 'Yes', Lan_Enable_IPMI_Msgs: 'Yes', Lan_Privilege_Limit: 'Administrator', SOL_Payload_Access: 'Yes',
    });
    expect(Object.fromEntries(s.get('Lan_Channel')!)).toMatchObject({ Volatile_Access_Mode: 'Always_Available', Volatile_Channel_Privilege_Limit: 'Administrator' });
    expect(s.get('Lan_Conf')!.get('IP_Address')).toBe(HOST);
    expect(s.get('SOL_Conf')!.get('Enable_SOL')).toBe('Yes');
  });

  it.each([
    { name: 'with the boot type left to the firmware', bootType: undefined, efi: 'PC-COMPATIBLE' },
    { name: 'with BIOS_Boot_Type EFI', bootType: 'EFI', efi: 'EFI' },
  ])('MAAS power-on $name: ipmi-chassis-config --commit a one-time PXE boot, ipmipower --cycle --on-if-off', async ({ bootType, efi }) => {
    const conn = DEFAULT_CONNECTION;
    expect(outcome(ipmipower(conn, ['--off']))).toMatchObject({ status: 0 });
    expect(await statUntil(conn, 'off')).toBe('off');

    // The file MAAS writes (IPMI_CONFIG / IPMI_CONFIG_WITH_BOOT_TYPE).
    const file = join(cacheDir!, 'maas-boot.conf');
    writeFileSync(file, [
      'Section Chassis_Boot_Flags',
      '        Boot_Flags_Persistent                         No',
      ...(bootType ? [`        BIOS_Boot_Type                                ${bootType}`] : []),
      '        Boot_Device                                   PXE',
      'EndSection',
      '',
    ].join('\n'));
    let r = run('ipmi-chassis-config', maasChassisConfig(port(), conn, ['--commit', '--filename', file]), { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '', stderr: '' });

    r = run('ipmi-chassis-config', maasChassisConfig(port(), conn, ['--checkout', '--section', 'Chassis_Boot_Flags']), { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0 });
    expect(Object.fromEntries(configSections(r.stdout).get('Chassis_Boot_Flags') ?? [])).toMatchObject({
      Boot_Flags_Persistent: 'No', Boot_Device: 'PXE', ...(bootType ? { BIOS_Boot_Type: efi } : {}),
    });

    const onsBefore = await logCount(() => chassisControls('on'), 0);
    r = ipmipower(conn, ['--cycle', '--on-if-off']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'on')).toBe('on');
    expect(await logCount(() => chassisControls('on'), onsBefore + 1)).toBe(onsBefore + 1); // --on-if-off read the state and sent power up

    // MAAS's power-on of a machine that is already on: a real cycle.
    const cyclesBefore = await logCount(() => chassisControls('cycle'), 0);
    r = ipmipower(conn, ['--cycle', '--on-if-off']);
    expect(outcome(r)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    expect(await statUntil(conn, 'on')).toBe('on');
    expect(await logCount(() => chassisControls('cycle'), cyclesBefore + 1)).toBe(cyclesBefore + 1);

    // The one-time flags were consumed by the boot; ipmitool shows the valid bit cleared.
    if (hasTool('ipmitool')) {
      const p = run('ipmitool', ipmitoolArgs(port(), ['chassis', 'bootparam', 'get', '5']), { timeoutMs: TOOL_TIMEOUT_MS });
      expect(outcome(p)).toMatchObject({ status: 0 });
      expect(p.stdout).toMatch(/Boot Flag Invalid|Boot parameter data: [0-7]/);
    }
  });

  it('ipmi-chassis --get-chassis-status agrees with ipmipower and shows the last power-on came over IPMI', async () => {
    const conn = DEFAULT_CONNECTION;
    expect(outcome(ipmipower(conn, ['--on']))).toMatchObject({ status: 0 });
    expect(await statUntil(conn, 'on')).toBe('on');
    const r = run('ipmi-chassis', ['--driver-type', 'LAN_2_0', ...target(port()), '--get-chassis-status'], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0, stderr: '' });
    const f = colonFields(r.stdout);
    expect(f.get('System Power')).toBe('on');
    expect(f.get('Power restore policy')).toBe('Always off');
    expect(f.get('Last Power Event')).toBe('power on via ipmi command');
    expect(f.get('Chassis Identify state')).toBe('off');
    expect(f.get('Power fault')).toBe('false');
  });

  it('ipmi-sensors lists the SDR sensors with readings while the machine is on', async () => {
    const conn = DEFAULT_CONNECTION;
    expect(await statUntil(conn, 'on')).toBe('on');
    const r = run('ipmi-sensors', ['--driver-type', 'LAN_2_0', ...target(port()), `--sdr-cache-directory=${cacheDir}`, '--quiet-cache'], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0 });
    const rows = tableRows(r.stdout);
    const types = new Set(rows.map((c) => c[2]));
    for (const t of ['Temperature', 'Fan', 'Voltage', 'Power Unit']) expect(types).toContain(t);
    for (const row of rows.filter((c) => c[2] === 'Temperature' || c[2] === 'Voltage' || c[2] === 'Fan')) {
      expect({ sensor: row[1], reading: row[3] }).toEqual({ sensor: row[1], reading: expect.stringMatching(/^\d+\.\d+$/) });
      expect(row[5]).toBe("'OK'");
    }
    // Fans turn while the machine is on.
    for (const fan of rows.filter((c) => c[2] === 'Fan')) expect(Number(fan[3])).toBeGreaterThan(0);
  });

  it('ipmi-sel lists the power events of the tests above, in order', () => {
    const r = run('ipmi-sel', ['--driver-type', 'LAN_2_0', ...target(port()), `--sdr-cache-directory=${cacheDir}`, '--quiet-cache'], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0 });
    const rows = tableRows(r.stdout);
    const events = rows.map((c) => c[5]);
    expect(events).toContain('S0/G0'); // ACPI state: working (power on)
    expect(events).toContain('Power Off/Power Down');
    const ids = rows.map((c) => Number(c[0]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    if (hasTool('ipmitool')) {
      const t = run('ipmitool', ipmitoolArgs(port(), ['sel', 'list']), { timeoutMs: TOOL_TIMEOUT_MS });
      expect(outcome(t)).toMatchObject({ status: 0 });
      expect(t.stdout.trim().split('\n')).toHaveLength(rows.length);
    }
  });

  describe('bmc-info', () => {
    let reference: { guid?: string; firmware?: string; manufacturer?: string } = {};
    beforeAll(() => {
      if (!hasTool('ipmitool')) return;
      const guid = run('ipmitool', ipmitoolArgs(port(), ['mc', 'guid']), { timeoutMs: TOOL_TIMEOUT_MS });
      const info = run('ipmitool', ipmitoolArgs(port(), ['mc', 'info']), { timeoutMs: TOOL_TIMEOUT_MS });
      reference = {
        guid: colonFields(guid.stdout).get('System GUID'),
        firmware: colonFields(info.stdout).get('Firmware Revision'),
        manufacturer: colonFields(info.stdout).get('Manufacturer ID'),
      };
    });

    it.each([
      { name: 'IPMI 2.0, suite 3', args: ['-D', 'LAN_2_0'] },
      { name: 'IPMI 2.0, suite 17', args: ['-D', 'LAN_2_0', '-I', '17'] },
      { name: 'IPMI 1.5 (-D LAN)', args: ['-D', 'LAN'] },
    ])('$name: device id, firmware, GUIDs and the LAN channel', ({ args }) => {
      const r = run('bmc-info', [...target(port()), ...args], { timeoutMs: TOOL_TIMEOUT_MS });
      expect(outcome(r)).toMatchObject({ status: 0, stderr: '' });
      const f = colonFields(r.stdout);
      expect(f.get('IPMI Version')).toBe('2.0');
      expect(f.get('Device Available')).toBe('yes (normal operation)');
      expect(f.get('Firmware Revision')).toMatch(/^\d+\.\d+$/);
      expect(f.get('Chassis Device')).toBe('supported');
      expect(f.get('System GUID')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(f.get('Device GUID')).toMatch(/^[0-9a-f]{8}-/);
      expect(r.stdout).toMatch(/Channel Number\s*: 1\n\s*Medium Type\s*: 802\.3 LAN\n/);
      if (reference.guid) expect(f.get('System GUID')).toBe(reference.guid);
      if (reference.firmware) expect(f.get('Firmware Revision')).toBe(reference.firmware);
      if (reference.manufacturer) expect(f.get('Manufacturer ID')).toContain(`(${reference.manufacturer})`);
    });
  });

  describe('refusals are explicit and come after one handshake', () => {
    it('a wrong password: "password invalid", exit 1, one Open Session and one RAKP1', async () => {
      const relay = await CountingRelay.start(port());
      relays.push(relay);
      const r = await runAsync('ipmipower', maasIpmipower(relay.port, DEFAULT_CONNECTION, ['--stat'], { password: 'not-the-password' }), TOOL_TIMEOUT_MS);
      expect(outcome(r)).toEqual({ status: 1, stdout: '127.0.0.1: password invalid\n', stderr: '' });
      // FreeIPMI found the RAKP2 HMAC wrong and stopped: no retransmission, no RAKP3.
      expect({ open: relay.count(PAYLOAD_OPEN_SESSION_REQUEST), rakp1: relay.count(PAYLOAD_RAKP1), rakp3: relay.count(PAYLOAD_RAKP3) })
        .toEqual({ open: 1, rakp1: 1, rakp3: 0 });
    });

    it('an unknown user: "username invalid", exit 1, one handshake', async () => {
      const relay = await CountingRelay.start(port());
      relays.push(relay);
      const r = await runAsync('ipmipower', maasIpmipower(relay.port, DEFAULT_CONNECTION, ['--stat'], { user: 'nobody' }), TOOL_TIMEOUT_MS);
      expect(outcome(r)).toEqual({ status: 1, stdout: '127.0.0.1: username invalid\n', stderr: '' });
      expect({ open: relay.count(PAYLOAD_OPEN_SESSION_REQUEST), rakp1: relay.count(PAYLOAD_RAKP1), rakp3: relay.count(PAYLOAD_RAKP3) })
        .toEqual({ open: 1, rakp1: 1, rakp3: 0 });
    });

    it('-I 0 (no authentication): refused with "cipher suite id unavailable" at Open Session', async () => {
      const refusals = (): number => countMatches(agent!.output(), '"msg":"open session refused","status":17');
      const refusalsBefore = await logCount(refusals, 0);
      const relay = await CountingRelay.start(port());
      relays.push(relay);
      const r = await runAsync('ipmipower', maasIpmipower(relay.port, { ...DEFAULT_CONNECTION, args: ['-I', '0'] }, ['--stat']), TOOL_TIMEOUT_MS);
      expect(outcome(r)).toEqual({ status: 1, stdout: '127.0.0.1: cipher suite id unavailable\n', stderr: '' });
      expect({ open: relay.count(PAYLOAD_OPEN_SESSION_REQUEST), rakp1: relay.count(PAYLOAD_RAKP1) }).toEqual({ open: 1, rakp1: 0 });
      // RMCP+ status 0x11: no cipher suite match with the proposed security algorithms.
      expect(await logCount(refusals, refusalsBefore + 1)).toBe(refusalsBefore + 1);
    });

    it('IPMI 1.5 with a wrong password: FreeIPMI can only say "password verification timeout"', async () => {
      // In IPMI 1.5 the BMC cannot prove anything to a console that has the wrong password: FreeIPMI
      // checks the Activate Session reply's AuthCode with its own (wrong) password before reading
      // the completion code, so any reply is discarded and it ends with this message at its session
      // timeout (MAAS: "Authentication timeout"). Shortened here; the agent refused at once.
      const refusals = (): number => countMatches(agent!.output(), '"msg":"IPMI 1.5 activation refused: wrong password"');
      const before = await logCount(refusals, 0);
      const r = await runAsync('ipmipower', [...maasIpmipower(port(), CONNECTIONS[2]!, ['--stat'], { password: 'not-the-password' }), '--session-timeout=3000'], TOOL_TIMEOUT_MS);
      expect(outcome(r)).toEqual({ status: 1, stdout: '127.0.0.1: password verification timeout\n', stderr: '' });
      expect(await logCount(refusals, before + 1)).toBeGreaterThanOrEqual(before + 1);
    });

    it('the right password still works afterwards', () => {
      expect(stat(DEFAULT_CONNECTION)).toMatch(/^(on|off)$/);
    });
  });

  it('every tool closed its session: bmc-info then sees only its own', () => {
    const r = run('bmc-info', [...target(port()), '-D', 'LAN_2_0'], { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(r)).toMatchObject({ status: 0 });
    expect(r.stdout).toMatch(/Channel Number\s*: 1\n\s*Medium Type\s*: 802\.3 LAN\n\s*Protocol Type\s*: .*\n\s*Active Session Count\s*: 1\n/);
  });
});

/**
 * ipmiconsole needs a terminal: it runs under `script -qfc` (a pty), fed through script's stdin.
 * The console's escape to quit is `&.`.
 */
class PtyConsole {
  private out = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => { this.out += d.toString('latin1'); });
    child.stderr!.on('data', (d: Buffer) => { this.out += d.toString('latin1'); });
    this.exited = new Promise((resolve) => child.once('exit', (code) => { this.exitCode = code; resolve(); }));
  }

  static open(argv: string[]): PtyConsole {
    const cmdline = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return new PtyConsole(spawn('script', ['-qfc', cmdline, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } }));
  }

  get output(): string {
    return this.out;
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  /**
   * Waits until the output (from `from` on) matches, bounded by time, and returns that output, so
   * that `expect(await c.until(re, ms)).toMatch(re)` shows what the console printed when it fails.
   */
  async until(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !pattern.test(this.out.slice(from)) && this.exitCode === undefined) await sleep(50);
    const exited = this.exitCode === undefined ? '' : `\n[console exited with ${this.exitCode}]`;
    return this.out.slice(from) + exited;
  }

  async exit(timeoutMs: number): Promise<number | null | 'timeout'> {
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(t);
    return this.exitCode === undefined ? 'timeout' : this.exitCode;
  }

  async kill(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

describeWithTools(['ipmiconsole', 'script', 'ipmipower', 'ipmi-chassis-config'])('ipmiconsole (FreeIPMI SOL) against the agent process', () => {
  let agent: RunningAgent | undefined;
  let dir: string | undefined;
  const consoles: PtyConsole[] = [];
  const WAIT_MS = 15_000;

  const port = (): number => agent!.port;
  const expectConsole = async (con: PtyConsole, pattern: RegExp, from = 0): Promise<void> => {
    expect(await con.until(pattern, WAIT_MS, from)).toMatch(pattern);
  };
  const openConsole = (suite: string[]): PtyConsole => {
    const c = PtyConsole.open(['ipmiconsole', ...target(port()), ...suite]);
    consoles.push(c);
    return c;
  };
  const ipmipower = (action: string[]): RunResult => run('ipmipower', maasIpmipower(port(), DEFAULT_CONNECTION, action), { timeoutMs: TOOL_TIMEOUT_MS });
  const statUntil = async (want: 'on' | 'off'): Promise<string> => {
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    let seen = '';
    for (let i = 0; i < POLL_TRIES && Date.now() < deadline; i++) {
      seen = /^127\.0\.0\.1: (on|off)$/m.exec(ipmipower(['--stat']).stdout)?.[1] ?? 'no state';
      if (seen === want) break;
      await sleep(POLL_INTERVAL_MS);
    }
    return seen;
  };

  beforeAll(async () => {
    ensureBuilt();
    agent = await startAgent({ DEBUG: 'true', NODE_NAME: 'sol-node', IPMI_PORT: String(await freeUdpPortBelow32768()) });
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-ipmiconsole-'));
  }, BUILD_TIMEOUT_MS + 20_000);

  afterEach(async () => {
    await Promise.all(consoles.splice(0).map((c) => c.kill()));
  });

  afterAll(async () => {
    await Promise.all(consoles.splice(0).map((c) => c.kill()));
    await agent?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('watches a MAAS power-on boot from PXE in UEFI mode, types into the shell, soft-powers off, quits with &.', async () => {
    const con = openConsole([]);
    await expectConsole(con, /\[SOL established\]/);

    const file = join(dir!, 'maas-boot.conf');
    writeFileSync(file, 'Section Chassis_Boot_Flags\n        Boot_Flags_Persistent No\n        BIOS_Boot_Type EFI\n        Boot_Device PXE\nEndSection\n');
    const cfg = run('ipmi-chassis-config', maasChassisConfig(port(), DEFAULT_CONNECTION, ['--commit', '--filename', file]), { timeoutMs: TOOL_TIMEOUT_MS });
    expect(outcome(cfg)).toMatchObject({ status: 0 });
    expect(outcome(ipmipower(['--cycle', '--on-if-off']))).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });

    // The firmware banner names what the boot flags asked for; then the shell prompt.
    await expectConsole(con, /bmcfleet sim firmware \(UEFI\)\r\nBooting from PXE\.\.\./);
    await expectConsole(con, /root@sol-node:~# $/);

    const mark = con.output.length;
    con.write('echo hello-over-sol\r');
    // The shell echoes the typed line, then prints echo's output on a line of its own.
    await expectConsole(con, /echo hello-over-sol\r\nhello-over-sol\r\nroot@sol-node:~# $/, mark);

    // MAAS's soft power-off (power_off_mode "soft"): the booted guest shuts down.
    const soft = ipmipower(['--soft']);
    expect(outcome(soft)).toMatchObject({ status: 0, stdout: '127.0.0.1: ok\n' });
    await expectConsole(con, /Power button pressed\.[\s\S]*reboot: Power down/, mark);
    expect(await statUntil('off')).toBe('off');

    con.write('&.');
    expect(await con.exit(WAIT_MS)).toBe(0);
    expect(con.output).toContain('[closing the connection]');
    expect(await logCount(() => countMatches(agent!.output(), '"msg":"SOL deactivated","reason":"by its session"'), 1)).toBe(1);
  });

  it('a second console with cipher suite 17 on the running machine', async () => {
    expect(outcome(ipmipower(['--on']))).toMatchObject({ status: 0 });
    expect(await statUntil('on')).toBe('on');
    const con = openConsole(['-I', '17']);
    await expectConsole(con, /\[SOL established\]/);
    // The guest may have booted before the console attached, or still be booting (then what is
    // typed is type-ahead the shell reads once up): Enter brings a fresh prompt either way.
    con.write('\r');
    await expectConsole(con, /root@sol-node:~# $/);
    const mark = con.output.length;
    con.write('echo suite-17\r');
    await expectConsole(con, /\r\nsuite-17\r\n/, mark);
    con.write('&.');
    expect(await con.exit(WAIT_MS)).toBe(0);
  });
});
