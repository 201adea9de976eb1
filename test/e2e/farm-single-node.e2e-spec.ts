/**
 * A single sim node in a farm end to end (SIM_PLACEMENT=farm, the default on plain Docker), with the
 * real Docker engine and the node image: `POST /api/v1/nodes` with machine sim places the node's BMC
 * in a farm container (no container of its own) with the create contract of a container node (201
 * with its addresses, 409 for a taken name, a 400 naming a field a farm cannot honour, a generated
 * password shown once, created/started events); the fleet Redfish endpoint serves it to sushy with
 * the farm's certificate, and the power sushy set reads back over IPMI with ipmitool; deleting the
 * farm's last node removes the farm's container and disk.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { freeTcpPort } from '../../node-image/test/support/redfish-http';
import { describeWithTools, run } from '../../node-image/test/support/tools';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody {
  id: string;
  name: string;
  state: string;
  farm: string | null;
  vnc: unknown;
  ipmi: { host: string; port: number; user: string };
  redfish: { host: string; port: number } | null;
  generatedIpmiPassword?: string;
}

const PASSWORD = 'farm-solo-pass';
const IMAGE = process.env['BMCFLEET_NODE_IMAGE'] ?? 'bmcfleet/node:latest';
const SUSHY_DRIVER = join(__dirname, '..', '..', 'node-image', 'test', 'integration', 'redfish-sushy-driver.py');

jest.setTimeout(600_000);

/** python3-sushy as Debian ships it; missing → skipped loudly, or failed under CI=true. */
function describeWithSushy(): jest.Describe {
  if (run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0) return describeWithTools(['docker', 'ipmitool']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): the farm node e2e test is SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

function namesOf(kind: 'ps' | 'volume', prefix: string): string[] {
  const args = kind === 'ps' ? ['ps', '-a', '--filter', `name=^/${prefix}`, '--format', '{{.Names}}'] : ['volume', 'ls', '-q', '--filter', `name=^${prefix}`];
  return spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
}

describeWithSushy()('a single sim node in a farm', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(6, { RECONCILE_INTERVAL_S: '0', NODE_IMAGE: IMAGE }));
  beforeAll(() => buildOrchestrator());
  afterAll(() => fleet.cleanup());

  it('is created in a farm, served by the fleet Redfish endpoint to sushy, and its farm goes with its last node', async () => {
    const fleetPort = await freeTcpPort();
    Object.assign(fleet.settings.env, { FLEET_REDFISH_PORT: String(fleetPort) });
    await fleet.start();
    const name = fleet.settings.fleetName;

    const created = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'solo', machine: 'sim', ipmiPassword: PASSWORD });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'solo', state: 'running', farm: 'farm-1', vnc: null, ipmi: { host: '127.0.0.1', user: 'admin' } });
    expect(created.body.generatedIpmiPassword).toBeUndefined();
    expect(namesOf('ps', `${name}_`)).toEqual([`${name}_farm-1`]);
    expect(namesOf('ps', `${name}-`)).toEqual([]);
    const events = await fleet.request<{ type: string; message: string }[]>('GET', '/api/v1/nodes/solo/events');
    expect(events.body.map((event) => event.type)).toEqual(['created', 'started']);
    expect(events.body[1]?.message).toBe('BMC running in farm-1');

    // The create contract: a taken name, a field a farm cannot honour, a generated password shown once.
    const taken = await fleet.request<{ message: string }>('POST', '/api/v1/nodes', { name: 'solo', machine: 'sim' });
    expect([taken.status, taken.body.message]).toEqual([409, 'node solo already exists']);
    const refused = await fleet.request<{ message: string[] }>('POST', '/api/v1/nodes', { name: 'wired', machine: 'sim', networks: ['lab-a'] });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toEqual([expect.stringMatching(/^networks must be empty: a sim node placed in a farm .* SIM_PLACEMENT=container/)]);
    const second = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'solo2', machine: 'sim' });
    expect(second.status).toBe(201);
    expect(second.body.farm).toBe('farm-1');
    expect(second.body.generatedIpmiPassword).toMatch(/\S{8,}/);
    expect((await fleet.request<NodeBody>('GET', '/api/v1/nodes/solo2')).body.generatedIpmiPassword).toBeUndefined();

    // The fleet Redfish endpoint reaches the farm BMC, pinning the farm's certificate.
    const caFile = join(fleet.settings.dataDir, 'fleet-redfish', 'redfish-cert.pem');
    const system = `/redfish/v1/Systems/${created.body.id}`;
    const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_DRIVER, `https://127.0.0.1:${fleetPort}`, caFile, 'admin', PASSWORD, 'basic', system], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`sushy driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ system, name: 'solo', off: true, on: true, cycled_on: true });
    const status = await ipmitool(created.body.ipmi.port, ['-C', '17', 'power', 'status'], { password: PASSWORD });
    expect([status.status, status.stdout.trim()]).toEqual([0, 'Chassis Power is on']);

    // The farm's last node deleted: its container and disk go, and its row.
    expect(namesOf('volume', `${name}_`)).toHaveLength(1);
    expect((await fleet.request('DELETE', '/api/v1/nodes/solo')).status).toBe(204);
    expect(namesOf('ps', `${name}_`)).toEqual([`${name}_farm-1`]);
    expect((await fleet.request('DELETE', '/api/v1/nodes/solo2')).status).toBe(204);
    expect(namesOf('ps', `${name}_`)).toEqual([]);
    expect(namesOf('volume', `${name}_`)).toEqual([]);
    expect((await fleet.request<{ errors: unknown[]; repairs: unknown[] }>('POST', '/api/v1/reconcile')).body).toMatchObject({ errors: [], repairs: [] });

    // A new sim node makes a new farm.
    const again = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'solo3', machine: 'sim', ipmiPassword: PASSWORD });
    expect([again.status, again.body.farm]).toEqual([201, 'farm-1']);
    expect(namesOf('ps', `${name}_`)).toEqual([`${name}_farm-1`]);
  });
});
