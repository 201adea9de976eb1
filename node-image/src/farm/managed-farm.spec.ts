/**
 * A managed farm in this process on loopback UDP, driven through its control socket (farm-control)
 * and the project's own IPMI client: BMCs added with their own ports and credentials answer at once,
 * report their own power in one listing, leave with or without their state, and come back with the
 * roster when the farm starts again on the same directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpmiClient } from '../client/ipmi-client';
import { AppCmd, NetFn, TransportCmd } from '../protocol/netfn';
import type { AddOutcome, BmcStatus } from './managed-farm';
import { freePortRun } from '../test-support/free-ports';
import { farmCtl, startManagedFarm, stopManagedFarm, type RunningManagedFarm } from '../test-support/managed-farm-harness';

jest.setTimeout(60_000);

/** The first of the BMCs' ports (sim-0 … sim-15), free when the tests start. */
let base = 0;

type Running = RunningManagedFarm;
const startIn = (dir: string): Promise<Running> => startManagedFarm(dir, { farmTag: 9 });
const stop = stopManagedFarm;
const ctl = farmCtl;

const bmc = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  nodeId: `node-${i}`, name: `sim-${i}`, address: '127.0.0.1', port: base + i, redfishPort: null, user: 'admin', password: `secret-${i}`, ...extra,
});
const connect = (i: number, password = `secret-${i}`): Promise<IpmiClient> => IpmiClient.connect({ host: '127.0.0.1', port: base + i, user: 'admin', password, timeoutMs: 1_000, retries: 2 });

describe('ManagedFarm through its control socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'managed-farm-'));
  let running: Running;

  beforeAll(async () => { base = await freePortRun(16); running = await startIn(dir); });
  afterAll(async () => { await stop(running); rmSync(dir, { recursive: true, force: true }); });

  it('adds BMCs that answer at their own port with their own password', async () => {
    const added = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(0), bmc(1), bmc(2)] })]);
    expect(added).toEqual({ status: 200, body: { added: expect.arrayContaining(['sim-0', 'sim-1', 'sim-2']), present: [], failed: [] } });
    const c = await connect(1);
    try {
      await c.chassisControl('on');
      expect(await c.powerStatus()).toBe('on');
    } finally {
      await c.close();
    }
    await expect(connect(2, 'secret-1')).rejects.toThrow();
  });

  it('gives each BMC its own IP and MAC in its LAN settings', async () => {
    const macs: string[] = [];
    for (const i of [0, 2]) {
      const c = await connect(i);
      try {
        // Get LAN Configuration Parameters, channel 1, parameter 5 (MAC address), IPMI v2.0 table 23-4.
        macs.push((await c.requestOk(NetFn.Transport, TransportCmd.GetLanConfigParameters, Buffer.from([0x01, 0x05, 0x00, 0x00]))).subarray(1).toString('hex'));
      } finally {
        await c.close();
      }
    }
    expect(macs[0]).not.toBe(macs[1]);
  });

  it('lists every BMC with its power in one answer', async () => {
    const listed = await ctl(dir, ['ls']);
    expect(listed.status).toBe(200);
    const bmcs = (listed.body as { bmcs: BmcStatus[] }).bmcs;
    expect(bmcs.map((b) => [b.name, b.nodeId, b.port, b.power])).toEqual([
      ['sim-0', 'node-0', base, 'off'], ['sim-1', 'node-1', base + 1, 'on'], ['sim-2', 'node-2', base + 2, 'off'],
    ]);
  });

  it('answers a repeated add as present and refuses a taken name or port, naming it', async () => {
    const again = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(0), bmc(9, { name: 'sim-1' }), bmc(8, { port: base + 2 })] })]);
    const body = again.body as AddOutcome;
    expect(body.present).toEqual(['sim-0']);
    expect(body.added).toEqual([]);
    expect(body.failed.map((f) => f.name).sort()).toEqual(['sim-1', 'sim-8']);
    expect(body.failed.find((f) => f.name === 'sim-8')?.error).toContain(`port ${base + 2}`);
    const bad = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(3, { port: 70000 })] })]);
    expect(bad).toEqual({ status: 400, body: { error: 'bmcs[0].port must be a port number from 1 to 65535' } });
  });

  it('takes fault rules per BMC, never through IPMI', async () => {
    const added = await ctl(dir, ['faults', 'sim-2', 'add', JSON.stringify({ match: { protocol: 'ipmi', netFn: NetFn.App, cmd: AppCmd.GetDeviceId }, action: { kind: 'completion-code', code: 0xc0 } })]);
    expect(added.status).toBe(201);
    const c = await connect(2);
    try {
      await expect(c.getDeviceId()).rejects.toThrow(/0xc0/i);
    } finally {
      await c.close();
    }
    const other = await connect(0);
    try {
      await other.getDeviceId();
    } finally {
      await other.close();
    }
    expect((await ctl(dir, ['faults', 'sim-2', 'clear'])).body).toEqual({ removed: 1 });
    expect((await ctl(dir, ['faults', 'nope', 'ls'])).status).toBe(404);
  });

  it('removes a BMC only for its node id; its port is free again', async () => {
    expect((await ctl(dir, ['rm', JSON.stringify({ bmcs: [{ name: 'sim-0', nodeId: 'someone-else' }] })])).body).toEqual({ removed: [], absent: ['sim-0'] });
    expect((await ctl(dir, ['rm', JSON.stringify({ bmcs: [{ name: 'sim-0', nodeId: 'node-0' }] })])).body).toEqual({ removed: ['sim-0'], absent: [] });
    await expect(connect(0)).rejects.toThrow();
    const readded = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(0)] })]);
    expect((readded.body as AddOutcome).added).toEqual(['sim-0']);
  });

  it('comes back with every BMC and its state after a restart on the same directory', async () => {
    const c = await connect(2);
    let guid: Buffer;
    try {
      guid = await c.requestOk(NetFn.App, AppCmd.GetSystemGuid);
    } finally {
      await c.close();
    }
    await stop(running);
    running = await startIn(dir);
    const listed = (await ctl(dir, ['ls'])).body as { bmcs: BmcStatus[] };
    expect(listed.bmcs.map((b) => b.name)).toEqual(['sim-0', 'sim-1', 'sim-2']);
    const again = await connect(2);
    try {
      expect(await again.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toEqual(guid);
    } finally {
      await again.close();
    }
  });

  it('lists the rules of every BMC with some in one answer, and keeps them with their counts across a restart', async () => {
    const busy = { match: { protocol: 'ipmi', netFn: NetFn.App, cmd: AppCmd.GetDeviceId }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 3 } };
    expect((await ctl(dir, ['faults', 'sim-1', 'add', JSON.stringify(busy)])).status).toBe(201);
    const deviceId = async (): Promise<string> => {
      const c = await connect(1);
      try {
        await c.getDeviceId();
        return 'ok';
      } catch (err) {
        return /0xc0/i.test(String(err)) ? 'busy' : String(err);
      } finally {
        await c.close();
      }
    };
    expect(await deviceId()).toBe('busy');
    const before = (await ctl(dir, ['faults-all'])).body as { bmcs: Record<string, { rules: Array<{ id: string; applied: number }> }> };
    expect(Object.keys(before.bmcs)).toEqual(['sim-1']);
    expect(before.bmcs['sim-1']!.rules.map((r) => [r.id, r.applied])).toEqual([['f1', 1]]);

    await stop(running);
    running = await startIn(dir);
    const after = (await ctl(dir, ['faults-all'])).body as { bmcs: Record<string, { rules: Array<{ id: string; applied: number }> }> };
    expect(after.bmcs['sim-1']!.rules.map((r) => [r.id, r.applied])).toEqual([['f1', 1]]);
    // Two more times, then spent: maxTimes counts across the restart.
    expect([await deviceId(), await deviceId(), await deviceId()]).toEqual(['busy', 'busy', 'ok']);
    expect((await ctl(dir, ['faults', 'sim-1', 'add', JSON.stringify(busy)])).body).toMatchObject({ id: 'f2' });
    expect((await ctl(dir, ['faults', 'sim-1', 'clear'])).body).toEqual({ removed: 2 });

    await stop(running);
    running = await startIn(dir);
    expect(((await ctl(dir, ['faults-all'])).body as { bmcs: object }).bmcs).toEqual({});
    expect(await deviceId()).toBe('ok');
  });

  it('forgets a purged BMC\'s state: a new BMC of that name starts fresh', async () => {
    const c = await connect(2);
    const guid = await c.requestOk(NetFn.App, AppCmd.GetSystemGuid);
    await c.close();
    await ctl(dir, ['rm', JSON.stringify({ bmcs: [{ name: 'sim-2', nodeId: 'node-2' }], purge: true })]);
    await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(2)] })]);
    const fresh = await connect(2);
    try {
      expect(await fresh.requestOk(NetFn.App, AppCmd.GetSystemGuid)).not.toEqual(guid);
    } finally {
      await fresh.close();
    }
  });
});
