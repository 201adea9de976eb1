/**
 * A managed farm's BMCs report their node's VM NIC MACs: a BMC added with a macId (the node's
 * VM_MAC_ID block, machine/vm-nics.ts) shows 52:55:<macId>:00 in its Redfish EthernetInterfaces, as
 * a sim node's own container does, so what exports name is what the BMC reports; without one the MAC
 * is the one derived from its name. The roster keeps the macId: the MACs stay the same after the
 * farm starts again on the same directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vmNicMac } from '../machine/vm-nics';
import { generateSelfSigned } from '../redfish/self-signed-certificate';
import type { TlsMaterial } from '../redfish/tls-certificate';
import type { AddOutcome } from './managed-farm';
import { freePortRun } from '../test-support/free-ports';
import { farmCtl, startManagedFarm, stopManagedFarm, type RunningManagedFarm } from '../test-support/managed-farm-harness';

jest.setTimeout(60_000);

/** BMC i at IPMI port base + i and Redfish port base + 100 + i, free when the tests start. */
let base = 0;
const PASSWORD = 'farm-nic-secret';

type Running = RunningManagedFarm;
const startIn = (dir: string, tls: TlsMaterial): Promise<Running> => startManagedFarm(dir, { farmTag: 5, tls });
const stop = stopManagedFarm;
const ctl = farmCtl;

function redfishGet(port: number, path: string): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method: 'GET', path, rejectUnauthorized: false, agent: false,
      headers: { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error(`GET ${path}: ${res.statusCode}`)); return; }
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The MACs a Redfish client reads: every member of the system's EthernetInterfaces. */
async function redfishMacs(port: number): Promise<string[]> {
  const collection = await redfishGet(port, '/redfish/v1/Systems/1/EthernetInterfaces');
  const members = collection.Members as { '@odata.id': string }[];
  return Promise.all(members.map(async (m) => String((await redfishGet(port, m['@odata.id'])).MACAddress).toLowerCase()));
}

const bmc = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  nodeId: `node-${i}`, name: `nic-${i}`, address: '127.0.0.1', port: base + i, redfishPort: base + 100 + i, user: 'admin', password: PASSWORD, ...extra,
});

describe('managed farm BMCs report their node\'s NIC MACs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'managed-farm-nics-'));
  let tls: TlsMaterial;
  let running: Running;

  beforeAll(async () => {
    base = await freePortRun(110, { tcp: true });
    tls = { ...(await generateSelfSigned(['127.0.0.1'], new Date())), source: 'generated' as const };
    running = await startIn(dir, tls);
  });
  afterAll(async () => { await stop(running); rmSync(dir, { recursive: true, force: true }); });

  it('a BMC added with a macId reports 52:55:<macId>:00 over Redfish; one without reports the MAC derived from its name', async () => {
    const added = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(0, { macId: 0x0a0b0c }), bmc(1, { macId: 0xffffff }), bmc(2)] })]);
    expect(added).toEqual({ status: 200, body: { added: expect.arrayContaining(['nic-0', 'nic-1', 'nic-2']), present: [], failed: [] } });
    expect(await redfishMacs(base + 100)).toEqual(['52:55:0a:0b:0c:00']);
    expect(await redfishMacs(base + 101)).toEqual(['52:55:ff:ff:ff:00']);
    expect(await redfishMacs(base + 102)).toEqual([vmNicMac('nic-2', 'eth0')]);
  });

  it('a repeated add with the same macId is present; another macId for the same name is refused', async () => {
    const again = (await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(0, { macId: 0x0a0b0c }), bmc(1, { macId: 7 })] })])).body as AddOutcome;
    expect(again.present).toEqual(['nic-0']);
    expect(again.failed.map((f) => f.name)).toEqual(['nic-1']);
  });

  it('refuses a macId out of range, naming the field and the rule', async () => {
    for (const macId of [0, 0x1000000, 1.5, '5']) {
      const bad = await ctl(dir, ['add', JSON.stringify({ bmcs: [bmc(3, { macId })] })]);
      expect(bad).toEqual({ status: 400, body: { error: 'bmcs[0].macId must be a whole number from 1 to 16777215, or null' } });
    }
  });

  it('keeps every BMC\'s MACs after the farm starts again on the same directory', async () => {
    await stop(running);
    running = await startIn(dir, tls);
    expect(await redfishMacs(base + 100)).toEqual(['52:55:0a:0b:0c:00']);
    expect(await redfishMacs(base + 101)).toEqual(['52:55:ff:ff:ff:00']);
    expect(await redfishMacs(base + 102)).toEqual([vmNicMac('nic-2', 'eth0')]);
  });
});
