/**
 * Farm BMCs that serve Redfish rest like the others: their HTTPS server stays up while the BMC
 * rests, a request wakes it with its state as it was, and an open Redfish session keeps it awake.
 */
import { request } from 'node:https';
import { Farm } from './farm';
import { FarmDocuments } from './farm-state-store';
import { loadFarmConfig } from './farm-config';
import { generateSelfSigned } from '../redfish/self-signed-certificate';
import { silentLogger as quiet } from '../util/logger';
import { until } from '../test-support/loopback-bmc';
import { freePortRun } from '../test-support/free-ports';

jest.setTimeout(60_000);

const USER = 'admin';
const PASSWORD = 'farm-redfish-secret';

interface Answer { readonly status: number; readonly headers: Record<string, string | string[] | undefined>; readonly body: Record<string, unknown> }

function redfish(port: number, method: string, path: string, o: { body?: unknown; token?: string } = {}): Promise<Answer> {
  const data = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const auth = o.token ? { 'X-Auth-Token': o.token } : { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method, path, rejectUnauthorized: false, agent: false,
      headers: { ...auth, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) as Record<string, unknown> : {} });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('Farm BMCs with Redfish rest and wake on a request', () => {
  // IPMI at base, base + 1; Redfish at base + 20, base + 21.
  let base = 0;
  let redfishBase = 0;
  let farm: Farm;

  beforeAll(async () => {
    base = await freePortRun(22, { tcp: true });
    redfishBase = base + 20;
    const config = loadFarmConfig({
      FARM_BMCS: '2', FARM_PORTS: String(base), IPMI_ADDRESS: '127.0.0.1', IPMI_USER: USER, IPMI_PASS: PASSWORD,
      BMC_STATE_DIR: '/nonexistent-farm-state', REDFISH_PORT: String(redfishBase),
    });
    const tls = { ...(await generateSelfSigned(['127.0.0.1'], new Date())), source: 'generated' as const };
    const documents = new FarmDocuments();
    farm = await Farm.start({ config, from: 0, to: 2, store: (i) => documents.forBmc(i), tls, farmTag: 7, log: quiet, restAfterMs: 300, restCheckMs: 50 });
  });
  afterAll(() => farm.stop());

  it('starts every BMC to open its Redfish server, then lets the quiet ones rest', async () => {
    await until(() => farm.awakeCount === 0, 'every BMC resting');
    expect(farm.bmcs.every((b) => b.agent === null && b.redfish !== undefined)).toBe(true);
  });

  it('wakes a resting BMC for a request and keeps what a PATCH set across its next rest', async () => {
    await until(() => farm.awakeCount === 0, 'every BMC resting');
    const patched = await redfish(redfishBase, 'PATCH', '/redfish/v1/Systems/1', { body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } } });
    expect(patched.status).toBeLessThan(300);
    expect(farm.bmcs[0]!.agent).not.toBeNull();
    expect(farm.bmcs[1]!.agent).toBeNull();
    await until(() => farm.awakeCount === 0, 'every BMC resting');
    const system = await redfish(redfishBase, 'GET', '/redfish/v1/Systems/1');
    expect(system.status).toBe(200);
    expect(system.body.Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
    // The other BMC's state is its own.
    const other = await redfish(redfishBase + 1, 'GET', '/redfish/v1/Systems/1');
    expect(other.body.Boot).toMatchObject({ BootSourceOverrideEnabled: 'Disabled' });
  });

  it('stays awake while a Redfish session is open, and rests once it is deleted', async () => {
    const login = await redfish(redfishBase + 1, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: USER, Password: PASSWORD } });
    expect(login.status).toBe(201);
    const token = String(login.headers['x-auth-token']);
    await new Promise((r) => setTimeout(r, 800));
    expect(farm.bmcs[1]!.agent).not.toBeNull();
    expect((await redfish(redfishBase + 1, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    const location = String(login.headers.location);
    expect((await redfish(redfishBase + 1, 'DELETE', new URL(location, 'https://x').pathname, { token })).status).toBeLessThan(300);
    await until(() => farm.bmcs[1]!.agent === null, 'BMC 1 resting once its session is deleted');
  });
});
