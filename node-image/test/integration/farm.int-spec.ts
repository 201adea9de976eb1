/**
 * The farm process (npm run farm) with real clients: a sweep of every BMC of a 2,000-BMC farm
 * (FARM_TEST_BMCS) with the project's own RMCP+ client, real `ipmitool -I lanplus` against a
 * sample, isolation of sessions, users, boot flags and SEL between BMCs changed all at once, a
 * restart from the saved state, a killed worker process started again with its BMCs' state, and
 * Redfish per BMC in port mode.
 * Nothing asserts on durations; every wait is bounded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpmiClient } from '../../src/client/ipmi-client';
import { AppCmd, ChassisCmd, NetFn, StorageCmd } from '../../src/protocol/netfn';
import { addIpv4 } from '../../src/farm/address-plan';
import { sweep, type SweepTarget } from '../../bench/farm-sweep';
import { FARM_MAIN, startFarm, type RunningFarm } from '../support/farm-process';
import { describeWithTools } from '../support/tools';
import { pollUntil, runAsync } from '../support/ipmitool-runner';
import { freeTcpPort, redfishCall, type RedfishAgent } from '../support/redfish-http';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BMCS = Number(process.env.FARM_TEST_BMCS ?? 2_000);
const FIRST = '127.77.0.1';
const USER = 'admin';
const PASSWORD = 'farm-secret';
/** BMCs changed at once in the isolation test. */
const ISOLATION_BMCS = 200;

jest.setTimeout(600_000);

const target = (i: number): SweepTarget => ({ address: addIpv4(FIRST, i), port: 623 });

async function withSession<T>(i: number, fn: (c: IpmiClient) => Promise<T>): Promise<T> {
  const t = target(i);
  const c = await IpmiClient.connect({ host: t.address, port: t.port, user: USER, password: PASSWORD, timeoutMs: 2_000, retries: 3 });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Runs fn for every index, `concurrency` at a time; the first failure fails the whole. */
async function forEachBmc(indices: readonly number[], concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < indices.length) await fn(indices[next++]!);
  }));
}

const padName = (name: string): Buffer => { const b = Buffer.alloc(16); b.write(name, 'latin1'); return b; };
const USER_SLOT = 3;
const setUserName = (c: IpmiClient, name: string): Promise<Buffer> => c.requestOk(NetFn.App, AppCmd.SetUserName, Buffer.concat([Buffer.from([USER_SLOT]), padName(name)]));
const getUserName = async (c: IpmiClient): Promise<string> => (await c.requestOk(NetFn.App, AppCmd.GetUserName, Buffer.from([USER_SLOT]))).toString('latin1').replace(/\0+$/, '');
/** Boot flags (parameter 5): valid, next boot only, PXE (IPMI v2.0 table 28-14). */
const setPxe = (c: IpmiClient): Promise<Buffer> => c.requestOk(NetFn.Chassis, ChassisCmd.SetSystemBootOptions, Buffer.from([0x05, 0x80, 0x04, 0x00, 0x00, 0x00]));
const bootDeviceBits = async (c: IpmiClient): Promise<number> => ((await c.requestOk(NetFn.Chassis, ChassisCmd.GetSystemBootOptions, Buffer.from([0x05, 0x00, 0x00])))[3]! >> 2) & 0x0f;
/** A system event record whose event data names BMC `i` (IPMI v2.0 section 32.1). */
const markerRecord = (i: number): Buffer => Buffer.from([0, 0, 0x02, 0, 0, 0, 0, 0x41, 0x00, 0x04, 0x12, 0x99, 0x6f, 0xa0, i & 0xff, (i >> 8) & 0xff]);

/** Every SEL record of a BMC (Get SEL Entry from the first to the last record). */
async function selRecords(c: IpmiClient): Promise<Buffer[]> {
  const resv = await c.requestOk(NetFn.Storage, StorageCmd.ReserveSel);
  const out: Buffer[] = [];
  let id = 0;
  for (let n = 0; n < 1_000 && id !== 0xffff; n++) {
    const r = await c.requestOk(NetFn.Storage, StorageCmd.GetSelEntry, Buffer.from([resv[0]!, resv[1]!, id & 0xff, id >> 8, 0, 0xff]));
    out.push(r.subarray(2));
    id = r.readUInt16LE(0);
  }
  return out;
}
const markersIn = (records: Buffer[]): number[] => records.filter((r) => r[7] === 0x41 && r[11] === 0x99).map((r) => r[14]! | (r[15]! << 8));

/** Get Session Info for the current session: byte 2 is the number of active sessions (section 22.20). */
const activeSessions = async (c: IpmiClient): Promise<number> => (await c.requestOk(NetFn.App, AppCmd.GetSessionInfo, Buffer.from([0x00])))[2]! & 0x3f;

function ensureBuilt(): void {
  if (!existsSync(FARM_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
}

describe(`a farm of ${BMCS} BMCs`, () => {
  let farm: RunningFarm | undefined;
  let stateDir: string;

  beforeAll(async () => {
    ensureBuilt();
    stateDir = mkdtempSync(join(tmpdir(), 'bmcfleet-farm-int-'));
    farm = await startFarm({ FARM_BMCS: String(BMCS), FARM_ADDRESSES: FIRST, IPMI_USER: USER, IPMI_PASS: PASSWORD }, { stateDir });
  });
  afterAll(async () => {
    await farm?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('answers a full RMCP+ session on every BMC, each with its own GUID', async () => {
    const targets = Array.from({ length: BMCS }, (_, i) => target(i));
    const r = await sweep(targets, { user: USER, password: PASSWORD, concurrency: 32 });
    expect(r.failures.slice(0, 5)).toEqual([]);
    expect(r.answered).toBe(BMCS);
    expect(new Set(r.guids).size).toBe(BMCS);
  });

  it('names each BMC in its log lines', () => {
    const sessions = farm!.lines().filter((l) => l.msg === 'session activated');
    expect(new Set(sessions.map((l) => l.bmc)).size).toBe(BMCS);
    expect(sessions.find((l) => l.bmc === 'farm-7')).toMatchObject({ endpoint: `${addIpv4(FIRST, 7)}:623`, suite: 17 });
    // A BMC woken by its first datagram is no news at info level: the farm logged its range once.
    expect(farm!.lines().filter((l) => l.msg === 'BMC listening')).toEqual([]);
  });

  it('keeps sessions, users, boot flags and SEL of each BMC its own, changed on many BMCs at once', async () => {
    const many = Array.from({ length: ISOLATION_BMCS }, (_, i) => i * Math.floor(BMCS / ISOLATION_BMCS));
    // Every BMC of the sample: its own user name; boot flags on every other one; one SEL marker.
    await forEachBmc(many, 32, (i) => withSession(i, async (c) => {
      await setUserName(c, `u${i}`);
      if (i % 2 === 0) await setPxe(c);
      await c.requestOk(NetFn.Storage, StorageCmd.AddSelEntry, markerRecord(i));
    }));
    await forEachBmc(many, 32, (i) => withSession(i, async (c) => {
      expect(await getUserName(c)).toBe(`u${i}`);
      expect(await bootDeviceBits(c)).toBe(i % 2 === 0 ? 0x1 : 0x0);
      expect(markersIn(await selRecords(c))).toEqual([i]);
    }));
    // Sessions: three held on one BMC are not counted by its neighbour.
    const held = await Promise.all([0, 1, 2].map(() => IpmiClient.connect({ host: target(many[1]!).address, port: 623, user: USER, password: PASSWORD })));
    try {
      expect(await activeSessions(held[0]!)).toBe(3);
      expect(await withSession(many[1]! + 1, activeSessions)).toBe(1);
    } finally {
      await Promise.all(held.map((c) => c.close()));
    }
  });

  const describeIpmitool = describeWithTools(['ipmitool']);
  describeIpmitool('with ipmitool -I lanplus', () => {
    const ipmitool = (i: number, args: string[]) => runAsync('ipmitool', ['-I', 'lanplus', '-H', target(i).address, '-U', USER, '-P', PASSWORD, ...args], { timeoutMs: 30_000 });
    const field = (out: string, key: string): string | undefined => out.split('\n').map((l) => l.split(/\s+:\s+/)).find(([k]) => k?.trim() === key)?.[1]?.trim();
    const sample = [1, Math.floor(BMCS / 3), BMCS - 1];

    it('shows each sampled BMC its own GUID, IP and MAC, power and boot device', async () => {
      const guids = new Set<string>();
      const macs = new Set<string>();
      for (const i of sample) {
        const guid = await ipmitool(i, ['mc', 'guid']);
        expect(guid.status).toBe(0);
        guids.add(field(guid.stdout, 'System GUID')!);
        const lan = await ipmitool(i, ['lan', 'print']);
        expect(lan.status).toBe(0);
        expect(field(lan.stdout, 'IP Address')).toBe(target(i).address);
        macs.add(field(lan.stdout, 'MAC Address')!);
        expect((await ipmitool(i, ['chassis', 'bootdev', 'cdrom'])).stdout).toMatch(/Set Boot Device to cdrom/);
        expect((await ipmitool(i, ['chassis', 'bootparam', 'get', '5'])).stdout).toMatch(/Force Boot from CD\/DVD/);
        expect((await ipmitool(i, ['chassis', 'power', 'on'])).status).toBe(0);
        expect((await ipmitool(i, ['sel', 'list'])).status).toBe(0);
      }
      expect(guids.size).toBe(sample.length);
      expect(macs.size).toBe(sample.length);
      // Neither the power-on nor the boot device reached the BMC next to a sampled one.
      expect((await ipmitool(2, ['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is off');
      expect((await ipmitool(2, ['chassis', 'bootparam', 'get', '5'])).stdout).not.toMatch(/Force Boot from CD\/DVD/);
      const sel = await ipmitool(1, ['sel', 'list']);
      expect(sel.stdout).toMatch(/Power Unit|System Boot|power/i);
    });
  });

  it('comes back from its saved state after a restart', async () => {
    const before = await withSession(many0(), async (c) => ({ user: await getUserName(c), guid: (await c.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toString('hex') }));
    await farm!.stop();
    farm = await startFarm({ FARM_BMCS: String(BMCS), FARM_ADDRESSES: FIRST, IPMI_USER: USER, IPMI_PASS: PASSWORD }, { stateDir });
    expect(farm.lines().find((l) => l.msg === 'farm listening')).toMatchObject({ restoredState: BMCS });
    const after = await withSession(many0(), async (c) => ({ user: await getUserName(c), guid: (await c.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toString('hex') }));
    expect(after).toEqual(before);
    expect(after.user).toBe(`u${many0()}`);
    expect(await withSession(many0(), bootDeviceBits)).toBe(0x1);
  });
});

/** The second BMC the isolation test changed (an even index, so its boot flags were set too). */
function many0(): number { return 2 * Math.floor(BMCS / ISOLATION_BMCS); }

describe('a farm spread over worker processes', () => {
  let farm: RunningFarm | undefined;
  afterAll(() => farm?.stop());

  it('starts a killed worker again with its BMCs\' state, and every BMC answers', async () => {
    ensureBuilt();
    const count = 600; // shards of 256: workers host 0–511 and 512–599
    const first = '127.78.0.1';
    farm = await startFarm({ FARM_BMCS: String(count), FARM_ADDRESSES: first, FARM_WORKERS: '2', IPMI_USER: USER, IPMI_PASS: PASSWORD });
    const ready = farm.lines().filter((l) => l.msg === 'farm worker ready').sort((a, b) => (a.worker as number) - (b.worker as number));
    expect(ready.map((l) => [l.from, l.to])).toEqual([[0, 511], [512, 599]]);
    const victim = ready.find((l) => l.worker === 1)!;
    const bmc = { host: addIpv4(first, 550), port: 623, user: USER, password: PASSWORD };
    const c = await IpmiClient.connect(bmc);
    await c.requestOk(NetFn.App, AppCmd.SetUserName, Buffer.concat([Buffer.from([USER_SLOT]), padName('survivor')]));
    await c.close();

    const mark = farm.lines().length;
    process.kill(victim.pid as number, 'SIGKILL');
    await farm.waitFor((l) => l.msg === 'farm worker died; starting it again with its BMCs\' state' && l.worker === 1, { fromLine: mark, timeoutMs: 30_000 });
    const again = await farm.waitFor((l) => l.msg === 'farm worker ready' && l.worker === 1, { fromLine: mark, timeoutMs: 60_000 });
    expect(again.pid).not.toBe(victim.pid);

    const c2 = await IpmiClient.connect(bmc);
    try {
      expect((await c2.requestOk(NetFn.App, AppCmd.GetUserName, Buffer.from([USER_SLOT]))).toString('latin1').replace(/\0+$/, '')).toBe('survivor');
    } finally {
      await c2.close();
    }
    const r = await sweep(Array.from({ length: count }, (_, i) => ({ address: addIpv4(first, i), port: 623 })), { user: USER, password: PASSWORD, concurrency: 32 });
    expect(r.failures).toEqual([]);
  });
});

describe('a farm in port mode with Redfish per BMC', () => {
  let farm: RunningFarm | undefined;
  afterAll(() => farm?.stop());

  it('serves each BMC its own Redfish service next to its own IPMI port', async () => {
    ensureBuilt();
    const ipmiBase = 20_000 + Math.floor(Math.random() * 10_000);
    const redfishBase = await freeTcpPort();
    farm = await startFarm({ FARM_BMCS: '3', FARM_PORTS: String(ipmiBase), IPMI_ADDRESS: '127.0.0.1', REDFISH_PORT: String(redfishBase), IPMI_USER: USER, IPMI_PASS: PASSWORD });
    const ca = readFileSync(join(farm.stateDir, 'redfish-tls', 'redfish-cert.pem'), 'utf8');
    const auth = { user: USER, password: PASSWORD };
    const rf = (i: number): RedfishAgent => ({ redfishPort: redfishBase + i, ca } as RedfishAgent);
    const systems = await Promise.all([0, 1, 2].map((i) => redfishCall(rf(i), 'GET', '/redfish/v1/Systems/1', { auth })));
    expect(systems.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(new Set(systems.map((s) => s.body.UUID)).size).toBe(3);

    expect((await redfishCall(rf(1), 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { auth, body: { ResetType: 'On' } })).status).toBe(204);
    const power = async (i: number): Promise<string> => {
      const c = await IpmiClient.connect({ host: '127.0.0.1', port: ipmiBase + i, user: USER, password: PASSWORD });
      try { return await c.powerStatus(); } finally { await c.close(); }
    };
    expect(await pollUntil(() => power(1), (p) => p === 'on', { attempts: 50, timeoutMs: 15_000, intervalMs: 100 })).toBe('on');
    expect(await power(0)).toBe('off');
    expect(await power(2)).toBe('off');
  });
});
