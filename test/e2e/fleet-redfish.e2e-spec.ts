/**
 * The fleet Redfish endpoint end to end: the orchestrator as users run it (`node dist/src/main.js`,
 * FLEET_REDFISH_PORT set), four MACHINE=sim nodes in the real Docker engine (three sharing one set of
 * BMC credentials, one with its own), and real clients: sushy (Debian's python3-sushy under
 * /usr/bin/python3 without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE, TLS verified against the fleet
 * endpoint's generated certificate) with Basic and session auth on each of the three nodes, addressed
 * as Metal3 does (/redfish/v1/Systems/<node id>); the schema-validating crawler over the three at
 * once; ipmitool and Redfish on a node's leased ports reaching the same node.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, run } from '../../node-image/test/support/tools';
import { freeTcpPort, redfishCall, type CallOptions, type RedfishEndpoint } from '../../node-image/test/support/redfish-http';
import { crawlRedfish } from '../../node-image/test/support/redfish-crawl';
import { expectRedfishValid } from '../../node-image/test/support/redfish-schema';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody {
  id: string;
  name: string;
  ipmi: { host: string; port: number; user: string };
  redfish: { host: string; port: number } | null;
  container: { name: string };
}

const SHARED = { user: 'admin', password: 'fleet-rf-shared' };
const OWN = { user: 'admin', password: 'fleet-rf-lonely' };
const SUSHY_DRIVER = join(__dirname, '..', '..', 'node-image', 'test', 'integration', 'redfish-sushy-driver.py');

jest.setTimeout(600_000);

/** python3-sushy as Debian ships it; missing → skipped loudly, or failed under CI=true. */
function describeWithSushy(): jest.Describe {
  if (run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0) return describeWithTools(['docker', 'ipmitool']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): fleet Redfish e2e tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithSushy()('fleet Redfish endpoint (FLEET_REDFISH_PORT) over four sim nodes', () => {
  let fleetPort = 0;
  const fleet = new OrchestratorProcess(newFleetSettings(10, { RECONCILE_INTERVAL_S: '0', NODE_DEFAULTS_MACHINE: 'sim', SIM_PLACEMENT: 'container' }));
  let endpoint: RedfishEndpoint;
  let caFile = '';
  const nodes: NodeBody[] = [];
  const call = (method: string, path: string, opts: CallOptions = {}) => redfishCall(endpoint, method, path, { auth: SHARED, ...opts });
  const shared = () => nodes.slice(0, 3);

  beforeAll(async () => {
    buildOrchestrator();
    fleetPort = await freeTcpPort();
    Object.assign(fleet.settings.env, { FLEET_REDFISH_PORT: String(fleetPort) });
    await fleet.start();
    for (const [name, credentials] of [['rf1', SHARED], ['rf2', SHARED], ['rf3', SHARED], ['rf4', OWN]] as const) {
      const created = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name, machine: 'sim', ipmiUser: credentials.user, ipmiPassword: credentials.password });
      if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      nodes.push(created.body);
    }
    caFile = join(fleet.settings.dataDir, 'fleet-redfish', 'redfish-cert.pem');
    endpoint = { redfishPort: fleetPort, ca: readFileSync(caFile, 'utf8') };
  });
  afterAll(() => fleet.cleanup());

  it('gives every node a Redfish port from REDFISH_PORT_RANGE, published same port', () => {
    const range = fleet.settings.redfishRange;
    for (const node of nodes) {
      expect(node.redfish).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
      expect(node.redfish!.port).toBeGreaterThanOrEqual(range.first);
      expect(node.redfish!.port).toBeLessThanOrEqual(range.last);
      const published = spawnSync('docker', ['port', node.container.name, `${node.redfish!.port}/tcp`], { encoding: 'utf8' }).stdout.trim();
      expect(published).toBe(`127.0.0.1:${node.redfish!.port}`);
    }
    expect(new Set(nodes.map((n) => n.redfish!.port)).size).toBe(nodes.length);
  });

  it('answers the service root openly, and lists only the nodes whose BMC credentials the caller holds', async () => {
    const root = await redfishCall(endpoint, 'GET', '/redfish/v1/');
    expect(root.status).toBe(200);
    expect(root.body.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions');
    await expectRedfishValid(root.body);
    expect((await redfishCall(endpoint, 'GET', '/redfish/v1/Systems')).status).toBe(401);
    expect((await call('GET', '/redfish/v1/Systems', { auth: { user: 'admin', password: 'not-any-node' } })).status).toBe(401);
    const ids = (body: { Members: Array<{ '@odata.id': string }> }) => body.Members.map((m) => m['@odata.id']);
    expect(ids((await call('GET', '/redfish/v1/Systems')).body)).toEqual(shared().map((n) => `/redfish/v1/Systems/${n.id}`).sort());
    expect(ids((await call('GET', '/redfish/v1/Managers', { auth: OWN })).body)).toEqual([`/redfish/v1/Managers/${nodes[3]!.id}`]);
    // Another node's credentials reach nothing of this one; an unknown node is a 404.
    const foreign = await call('GET', `/redfish/v1/Systems/${nodes[3]!.id}`);
    expect([foreign.status, foreign.body.error.code]).toEqual([401, 'Base.1.16.0.ResourceAtUriUnauthorized']);
    const unknown = await call('GET', '/redfish/v1/Systems/00000000-0000-0000-0000-000000000000');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'Base.1.16.0.ResourceMissingAtURI']);
    await expectRedfishValid(unknown.body);
  });

  it('every resource of the three nodes reachable from /redfish/v1 answers 200 and matches DMTF JSON Schema, with no dangling links', async () => {
    const { seen, problems } = await crawlRedfish((path) => call('GET', path), '/redfish/v1', 400);
    expect(problems).toEqual([]);
    for (const node of shared()) {
      expect(seen).toEqual(expect.arrayContaining([`/redfish/v1/Systems/${node.id}`, `/redfish/v1/Managers/${node.id}`, `/redfish/v1/Chassis/${node.id}`, `/redfish/v1/Managers/${node.id}/LogServices/SEL/Entries`]));
    }
    expect(seen.some((path) => /\/(Systems|Managers|Chassis)\/1(\/|$)/.test(path))).toBe(false);
    expect(seen.some((path) => path.includes(nodes[3]!.id))).toBe(false);
  });

  it.each(['basic', 'session'])('sushy (%s auth) powers each of the three nodes off and on and sets a boot device once, addressed as /redfish/v1/Systems/<node id>', async (mode) => {
    for (const node of shared()) {
      const system = `/redfish/v1/Systems/${node.id}`;
      const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_DRIVER, `https://127.0.0.1:${fleetPort}`, caFile, SHARED.user, SHARED.password, mode, system], { timeoutMs: 120_000 });
      if (r.status !== 0) throw new Error(`sushy driver on ${node.name} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out).toMatchObject({
        system, managers: [node.id], name: node.name, off: true, on: true, cycled_on: true, nmi: 'accepted',
        pxe_once: ['Pxe', 'Once', 'Legacy'],
        cd_continuous: ['Cd', 'Continuous', 'Legacy'],
        hdd_once: ['Hdd', 'Once', 'Legacy'],
      });
      expect([...out.members].sort()).toEqual(shared().map((n) => `/redfish/v1/Systems/${n.id}`).sort());
      if (mode === 'session') expect(out).toMatchObject({ deleted_status: 204, relogin: true, power_after_relogin: 'On' });
    }
  });

  it('passes ETags and If-Match through: a stale tag is refused by the node, the current one accepted', async () => {
    const system = `/redfish/v1/Systems/${nodes[0]!.id}`;
    const current = await call('GET', system);
    expect(current.headers.etag).toBe(current.body['@odata.etag']);
    const stale = await call('PATCH', system, { headers: { 'If-Match': 'W/"0000000000000000"' }, body: { Boot: { BootSourceOverrideTarget: 'Pxe' } } });
    expect([stale.status, stale.body.error.code]).toEqual([412, 'Base.1.16.0.PreconditionFailed']);
    const fresh = await call('PATCH', system, { headers: { 'If-Match': current.headers.etag as string }, body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } } });
    expect(fresh.status).toBe(200);
    expect(fresh.body['@odata.id']).toBe(system);
  });

  it('ipmitool on a node\'s leased IPMI port and Redfish on its leased Redfish port reach the same node as the fleet endpoint', async () => {
    const node = nodes[1]!;
    const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-rf-cert-'));
    try {
      const certFile = join(dir, 'node-cert.pem');
      const copied = spawnSync('docker', ['cp', `${node.container.name}:/vm/bmc/redfish-cert.pem`, certFile], { encoding: 'utf8' });
      expect([copied.status, copied.stderr]).toEqual([0, '']);
      const own: RedfishEndpoint = { redfishPort: node.redfish!.port, ca: readFileSync(certFile, 'utf8') };
      expect((await ipmitool(node.ipmi.port, ['-C', '17', 'chassis', 'bootdev', 'cdrom'], { password: SHARED.password })).status).toBe(0);
      const direct = await redfishCall(own, 'GET', '/redfish/v1/Systems/1', { auth: SHARED });
      const viaFleet = await call('GET', `/redfish/v1/Systems/${node.id}`);
      expect(direct.status).toBe(200);
      expect([direct.body.Boot.BootSourceOverrideTarget, direct.body.Boot.BootSourceOverrideEnabled]).toEqual(['Cd', 'Once']);
      expect(viaFleet.body.Boot.BootSourceOverrideTarget).toBe('Cd');
      expect(viaFleet.body.UUID).toBe(direct.body.UUID);
      const guid = (await ipmitool(node.ipmi.port, ['-C', '17', 'mc', 'guid'], { password: SHARED.password })).stdout;
      expect(guid.toLowerCase()).toContain(String(direct.body.UUID).toLowerCase());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 with the reason when a node\'s agent does not answer, and serves the others meanwhile', async () => {
    const node = nodes[2]!;
    expect(spawnSync('docker', ['stop', '-t', '1', node.container.name]).status).toBe(0);
    try {
      const down = await call('GET', `/redfish/v1/Systems/${node.id}`);
      expect([down.status, down.body.error.code]).toEqual([503, 'Base.1.16.0.ServiceTemporarilyUnavailable']);
      expect(down.body.error.message).toContain(`node ${node.name}`);
      expect(down.headers['retry-after']).toBe('5');
      expect((await call('GET', `/redfish/v1/Systems/${nodes[0]!.id}`)).status).toBe(200);
    } finally {
      spawnSync('docker', ['start', node.container.name]);
    }
  });

  // Last: it locks the user name out of the fleet endpoint from this address for a minute.
  it('locks a user name out of the fleet endpoint after five wrong passwords in a row, while the node itself still answers', async () => {
    for (let i = 0; i < 5; i += 1) expect((await call('GET', '/redfish/v1/Systems', { auth: { user: SHARED.user, password: `wrong-${i}` } })).status).toBe(401);
    expect((await call('GET', '/redfish/v1/Systems')).status).toBe(401);
    const login = await redfishCall(endpoint, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: SHARED.user, Password: SHARED.password } });
    expect(login.status).toBe(401);
    // The fleet's lockout is its own: nothing reached the nodes, whose BMCs still take their credentials.
    expect((await ipmitool(nodes[0]!.ipmi.port, ['-C', '17', 'power', 'status'], { password: SHARED.password })).status).toBe(0);
  });
});
