/**
 * Sim nodes in farms end to end (SIM_PLACEMENT=farm), with the real Docker engine and the node image:
 * a batch becomes BMCs in two farm containers (FARM_CAPACITY=200), not one container per node; every
 * BMC answers the project's IPMI client at the address the batch answered, each with its own MAC in
 * its LAN settings; power through the API and through ipmitool shows in the reconciler's bulk read;
 * deletes take BMCs out of their farm; a killed farm container comes back with every BMC; an
 * orchestrator SIGKILLed in the middle of a batch leaves, after its restart, no node half made and no
 * BMC that is not a node's.
 */
import { spawnSync } from 'node:child_process';
import { IpmiClient } from '../../node-image/src/client/ipmi-client';
import { NetFn, TransportCmd } from '../../node-image/src/protocol/netfn';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface BatchNode { id: string; name: string; ipmi: { host: string; port: number; user: string }; redfish: { host: string; port: number } | null }
interface BatchBody { nodes: BatchNode[] }
interface NodeBody { name: string; powerState: string; farm: string | null; vnc: unknown; state: string }

const BATCH = 300;
const PASSWORD = 'farm-e2e-pass';
const IMAGE = process.env['BMCFLEET_NODE_IMAGE'] ?? 'bmcfleet/node:latest';

function farmContainers(fleetName: string): { name: string; state: string }[] {
  const out = spawnSync('docker', ['ps', '-a', '--filter', `name=^/${fleetName}_`, '--format', '{{.Names}} {{.State}}'], { encoding: 'utf8' }).stdout;
  return out.trim().split('\n').filter(Boolean).map((line) => ({ name: line.split(' ')[0] ?? '', state: line.split(' ')[1] ?? '' })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The BMCs a farm hosts, from its own control (docker exec, as the orchestrator reads it). */
function farmBmcs(container: string): string[] {
  const r = spawnSync('docker', ['exec', container, 'node', '/opt/bmcfleet/agent/farm/farm-ctl.js', 'ls'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`farm-ctl ls in ${container}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { bmcs: { name: string }[] }).bmcs.map((b) => b.name);
}

async function powerOf(port: number): Promise<'on' | 'off'> {
  const client = await IpmiClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD, timeoutMs: 2_000, retries: 3 });
  try {
    return await client.powerStatus();
  } finally {
    await client.close();
  }
}

async function macOf(port: number): Promise<string> {
  const client = await IpmiClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD, timeoutMs: 2_000, retries: 3 });
  try {
    // Get LAN Configuration Parameters, channel 1, parameter 5 (MAC address), IPMI v2.0 table 23-4.
    return (await client.requestOk(NetFn.Transport, TransportCmd.GetLanConfigParameters, Buffer.from([0x01, 0x05, 0x00, 0x00]))).subarray(1).toString('hex');
  } finally {
    await client.close();
  }
}

describeWithTools(['docker', 'ipmitool'])('sim nodes in farms end to end', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(BATCH + 30, { RECONCILE_INTERVAL_S: '0', FARM_CAPACITY: '200', NODE_IMAGE: IMAGE }));
  beforeAll(() => buildOrchestrator());
  afterAll(() => fleet.cleanup());

  it('places a batch in farms, drives, deletes, survives a killed farm and a killed orchestrator', async () => {
    await fleet.start();
    const created = await fleet.request<BatchBody>('POST', '/api/v1/node-batches', { namePrefix: 'rack', count: BATCH, machine: 'sim', ipmiPassword: PASSWORD });
    expect(created.status).toBe(201);
    const nodes = created.body.nodes;
    expect(nodes).toHaveLength(BATCH);
    expect(new Set(nodes.map((n) => n.ipmi.port)).size).toBe(BATCH);
    for (const node of nodes) expect(node.redfish).toEqual({ host: '127.0.0.1', port: expect.any(Number) as unknown });

    // Two farm containers, no node container.
    const name = fleet.settings.fleetName;
    expect(farmContainers(name)).toEqual([{ name: `${name}_farm-1`, state: 'running' }, { name: `${name}_farm-2`, state: 'running' }]);
    expect(spawnSync('docker', ['ps', '-aq', '--filter', `name=^/${name}-`], { encoding: 'utf8' }).stdout.trim()).toBe('');
    const one = await fleet.request<NodeBody>('GET', `/api/v1/nodes/${nodes[0]!.name}`);
    expect(one.body).toMatchObject({ farm: 'farm-1', vnc: null, state: 'running', powerState: 'off' });

    // Every BMC answers the project's client at its own port; two of them have different MACs.
    for (const node of nodes) expect(await powerOf(node.ipmi.port)).toBe('off');
    expect(await macOf(nodes[0]!.ipmi.port)).not.toBe(await macOf(nodes[235]!.ipmi.port));

    // Power through the API, and through ipmitool; the reconciler reads both back in bulk.
    const on = await fleet.request('POST', `/api/v1/nodes/${nodes[1]!.name}/power`, { action: 'on' });
    expect(on).toEqual({ status: 200, body: { name: nodes[1]!.name, action: 'on', powerState: 'on' } });
    const viaIpmitool = await ipmitool(nodes[232]!.ipmi.port, ['-C', '17', 'power', 'on'], { password: PASSWORD });
    expect(viaIpmitool.status).toBe(0);
    expect((await fleet.request<{ errors: unknown[] }>('POST', '/api/v1/reconcile')).body.errors).toEqual([]);
    const powered = await fleet.request<{ items: { name: string }[] }>('GET', '/api/v1/nodes?limit=100&powerState=on');
    expect(powered.body.items.map((n) => n.name).sort()).toEqual([nodes[1]!.name, nodes[232]!.name].sort());

    // Deletes take BMCs out of their farm.
    for (const node of nodes.slice(2, 5)) expect((await fleet.request('DELETE', `/api/v1/nodes/${node.name}${node === nodes[2] ? '?purge=true' : ''}`)).status).toBe(204);
    await expect(powerOf(nodes[3]!.ipmi.port)).rejects.toThrow();
    expect(farmBmcs(`${name}_farm-1`)).toHaveLength(197);

    // A killed farm comes back (re-created on its volume) with every BMC of its nodes.
    spawnSync('docker', ['rm', '-f', `${name}_farm-2`], { encoding: 'utf8' });
    const repaired = await fleet.request<{ repairs: { kind: string; node: string }[]; errors: unknown[] }>('POST', '/api/v1/reconcile');
    expect(repaired.body.errors).toEqual([]);
    expect(repaired.body.repairs).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'recreated', node: 'farm-2' })]));
    expect(farmBmcs(`${name}_farm-2`)).toHaveLength(100);
    expect(await powerOf(nodes[299]!.ipmi.port)).toBe('off');

    // An orchestrator killed in the middle of a batch: after its restart, the batch is whole or gone.
    const pending = fleet.request('POST', '/api/v1/node-batches', { namePrefix: 'late', count: 20, machine: 'sim', ipmiPassword: PASSWORD }).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await fleet.stop('SIGKILL');
    await pending;
    await fleet.start();
    expect((await fleet.request<{ errors: unknown[] }>('POST', '/api/v1/reconcile')).body.errors).toEqual([]);
    const listed = await fleet.request<NodeBody[]>('GET', '/api/v1/nodes');
    const late = listed.body.filter((n) => n.name.startsWith('late-'));
    expect([0, 20]).toContain(late.length);
    expect(listed.body.every((n) => n.state === 'running')).toBe(true);
    const inFarms = farmContainers(name).flatMap((farm) => farmBmcs(farm.name)).sort();
    expect(inFarms).toEqual(listed.body.map((n) => n.name).sort());
  });
});
