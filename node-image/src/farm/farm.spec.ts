/**
 * A farm slice in this process (Farm.start) on loopback UDP, driven by the project's own client:
 * a BMC is built at its first datagram, rests once quiet, and wakes again with everything its state
 * store keeps (users, boot flags, GUID, SEL); a BMC with an open session does not rest.
 */
import { Farm } from './farm';
import { FarmDocuments } from './farm-state-store';
import { loadFarmConfig } from './farm-config';
import { IpmiClient } from '../client/ipmi-client';
import { AppCmd, ChassisCmd, NetFn, StorageCmd } from '../protocol/netfn';
import type { Logger } from '../util/logger';
import { freePortRun } from '../test-support/free-ports';

jest.setTimeout(60_000);

const USER = 'admin';
const PASSWORD = 'farm-rest-secret';
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (!pred()) {
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const padName = (name: string): Buffer => { const b = Buffer.alloc(16); b.write(name, 'latin1'); return b; };

describe('Farm: BMCs built at their first datagram, resting once quiet', () => {
  let base = 0;
  let farm: Farm;
  const connect = (i: number): Promise<IpmiClient> => IpmiClient.connect({ host: '127.0.0.1', port: base + i, user: USER, password: PASSWORD, timeoutMs: 2_000, retries: 3 });

  beforeAll(async () => {
    base = await freePortRun(3);
    const config = loadFarmConfig({ FARM_BMCS: '3', FARM_PORTS: String(base), IPMI_ADDRESS: '127.0.0.1', IPMI_USER: USER, IPMI_PASS: PASSWORD, BMC_STATE_DIR: '/nonexistent-farm-state' });
    const documents = new FarmDocuments();
    farm = await Farm.start({ config, from: 0, to: 3, store: (i) => documents.forBmc(i), farmTag: 7, log: quiet, restAfterMs: 300, restCheckMs: 50 });
  });
  afterAll(() => farm.stop());

  it('binds every socket but builds no BMC before a datagram comes', () => {
    expect(farm.bmcs).toHaveLength(3);
    expect(farm.awakeCount).toBe(0);
  });

  it('wakes a rested BMC with its users, boot flags, GUID and SEL as they were', async () => {
    const c = await connect(1);
    await c.requestOk(NetFn.App, AppCmd.SetUserName, Buffer.concat([Buffer.from([3]), padName('rested')]));
    await c.requestOk(NetFn.Chassis, ChassisCmd.SetSystemBootOptions, Buffer.from([0x05, 0x80, 0x04, 0x00, 0x00, 0x00]));
    const guid = await c.requestOk(NetFn.App, AppCmd.GetSystemGuid);
    const selEntries = (await c.requestOk(NetFn.Storage, StorageCmd.GetSelInfo)).readUInt16LE(1);
    await c.close();
    expect(farm.awakeCount).toBe(1);

    expect(await until(() => farm.awakeCount === 0, 10_000)).toBe(true);
    expect(farm.bmcs[1]!.agent).toBeNull();

    const again = await connect(1);
    try {
      expect((await again.requestOk(NetFn.App, AppCmd.GetUserName, Buffer.from([3]))).toString('latin1').replace(/\0+$/, '')).toBe('rested');
      expect(((await again.requestOk(NetFn.Chassis, ChassisCmd.GetSystemBootOptions, Buffer.from([0x05, 0x00, 0x00])))[3]! >> 2) & 0x0f).toBe(0x1);
      expect(await again.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toEqual(guid);
      // Resting and waking is no BMC restart: no new SEL event.
      expect((await again.requestOk(NetFn.Storage, StorageCmd.GetSelInfo)).readUInt16LE(1)).toBe(selEntries);
    } finally {
      await again.close();
    }
  });

  it('keeps a BMC with an open session awake', async () => {
    const c = await connect(2);
    try {
      await new Promise((r) => setTimeout(r, 800));
      expect(farm.bmcs[2]!.agent).not.toBeNull();
      await c.getDeviceId();
    } finally {
      await c.close();
    }
  });

  it('leaves other BMCs asleep and unchanged', async () => {
    const c = await connect(0);
    try {
      expect((await c.requestOk(NetFn.App, AppCmd.GetUserName, Buffer.from([3]))).toString('latin1').replace(/\0+$/, '')).toBe('');
    } finally {
      await c.close();
    }
  });
});
