/**
 * Fault rules on a farm node outlive restarts, end to end with the real Docker engine and the node
 * image: a sim node in a farm (SIM_PLACEMENT=farm) gets "busy (0xC0) on Get Chassis Status" through
 * POST /api/v1/nodes/:name/faults, and the real ipmitool meets `Node busy`. The orchestrator is
 * SIGKILLed and started again: its start sweep finds the rule through the farm's control in one call
 * (bmcfleet_node_fault_rules in /metrics before any request about the node), GET still lists it and
 * ipmitool still meets it. The farm container is then removed and re-made by the reconciler on its
 * volume: the BMC takes its rule back from its saved state. DELETE removes it and ipmitool reads the
 * power again. A node container (SIM_PLACEMENT=container) restarted by Docker has its rule back from
 * the BMC state on its volume. The node image is BMCFLEET_NODE_IMAGE when set, else bmcfleet/node:latest.
 */
import { spawnSync } from 'node:child_process';
import { NODE_IMAGE } from '../../node-image/test/e2e/node-container';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody { name: string; farm: string | null; ipmi: { host: string; port: number; user: string } }
interface RuleBody { id: string; matches: number; applied: number; status: string }
interface FaultsBody { name: string; rules: RuleBody[] }

const PASSWORD = 'farm-faults-pass';
const ALWAYS_BUSY = { match: { protocol: 'ipmi', netFn: '0x00', cmd: '0x01' }, action: { kind: 'completion-code', code: '0xC0' } };

jest.setTimeout(300_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeWithTools(['docker', 'ipmitool'])('fault rules on a farm node across restarts', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(6, { RECONCILE_INTERVAL_S: '0', SIM_PLACEMENT: 'farm', NODE_IMAGE }));
  let node: NodeBody;
  const path = (suffix = '') => `/api/v1/nodes/${node.name}/faults${suffix}`;
  const powerStatus = () => ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
  /** The start sweep's view of the node's rules, from /metrics (bounded wait). */
  const ruleGauge = async (): Promise<string | undefined> => {
    for (let i = 0; i < 60; i++) {
      const metrics = (await fleet.request<string>('GET', '/metrics')).body;
      const line = metrics.split('\n').find((l) => l.startsWith(`bmcfleet_node_fault_rules{node="${node.name}"}`));
      if (line !== undefined) return line;
      await sleep(500);
    }
    return undefined;
  };

  beforeAll(async () => {
    buildOrchestrator();
    await fleet.start();
    const created = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'farmfaulty1', machine: 'sim', ipmiPassword: PASSWORD });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    node = created.body;
    // A second BMC in the same farm, without rules: the farm's bulk answer leaves it out.
    expect((await fleet.request('POST', '/api/v1/nodes', { name: 'farmquiet1', machine: 'sim', ipmiPassword: PASSWORD })).status).toBe(201);
  });
  afterAll(() => fleet.cleanup());

  it('a rule added through the API acts on ipmitool', async () => {
    expect(node.farm).toBe('farm-1');
    const added = await fleet.request<FaultsBody>('POST', path(), ALWAYS_BUSY);
    expect(added.status).toBe(201);
    expect(added.body.rules).toEqual([expect.objectContaining({ id: 'f1', status: 'active' })]);
    const r = await powerStatus();
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('Node busy') as unknown]);
  });

  it('outlives an orchestrator restart: found by the start sweep, listed, still acting', async () => {
    await fleet.stop('SIGKILL');
    await fleet.start();
    // Read by the start sweep through the farm's control: nothing asked about the node yet.
    expect(await ruleGauge()).toBe(`bmcfleet_node_fault_rules{node="${node.name}"} 1`);
    const listed = await fleet.request<FaultsBody>('GET', path());
    expect(listed.status).toBe(200);
    expect(listed.body.rules).toEqual([expect.objectContaining({ id: 'f1', status: 'active', applied: expect.any(Number) as unknown })]);
    expect(listed.body.rules[0]!.applied).toBeGreaterThanOrEqual(1);
    const r = await powerStatus();
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('Node busy') as unknown]);
    const quiet = await fleet.request<FaultsBody>('GET', '/api/v1/nodes/farmquiet1/faults');
    expect(quiet.body.rules).toEqual([]);
  });

  it('outlives its farm container: removed, re-made by the reconciler on its volume, the rule acts again', async () => {
    const farm = `${fleet.settings.fleetName}_farm-1`;
    const before = (await fleet.request<FaultsBody>('GET', path())).body.rules[0]!.applied;
    expect(spawnSync('docker', ['rm', '-f', farm], { encoding: 'utf8' }).status).toBe(0);
    const repaired = await fleet.request<{ repairs: { kind: string; node: string }[]; errors: unknown[] }>('POST', '/api/v1/reconcile');
    expect(repaired.body.errors).toEqual([]);
    expect(repaired.body.repairs).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'recreated', node: 'farm-1' })]));
    const r = await powerStatus();
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('Node busy') as unknown]);
    const listed = await fleet.request<FaultsBody>('GET', path());
    expect(listed.body.rules).toEqual([expect.objectContaining({ id: 'f1', status: 'active' })]);
    // Counts kept in the farm's volume (the last flushed), and this restart's busy answer on top.
    expect(listed.body.rules[0]!.applied).toBeGreaterThan(0);
    expect(listed.body.rules[0]!.applied).toBeLessThanOrEqual(before + 1);
  });

  it('DELETE removes it: ipmitool reads the power, and the farm keeps no rule', async () => {
    const removed = await fleet.request('DELETE', path());
    expect([removed.status, removed.body]).toEqual([200, { name: node.name, removed: 1 }]);
    expect((await fleet.request<FaultsBody>('GET', path())).body.rules).toEqual([]);
    const r = await powerStatus();
    expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/^Chassis Power is off$/m) as unknown]);
    const farm = `${fleet.settings.fleetName}_farm-1`;
    const all = spawnSync('docker', ['exec', farm, 'node', '/opt/bmcfleet/agent/farm/farm-ctl.js', 'faults-all'], { encoding: 'utf8' });
    expect(JSON.parse(all.stdout)).toEqual({ bmcs: {} });
  });
});

describeWithTools(['docker', 'ipmitool'])('fault rules on a node container across its restart', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(4, { RECONCILE_INTERVAL_S: '0', SIM_PLACEMENT: 'container', NODE_IMAGE }));
  let node: NodeBody & { container: { name: string } };

  beforeAll(async () => {
    buildOrchestrator();
    await fleet.start();
    const created = await fleet.request<typeof node>('POST', '/api/v1/nodes', { name: 'ctrfaulty1', machine: 'sim', ipmiPassword: PASSWORD });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    node = created.body;
  });
  afterAll(() => fleet.cleanup());

  it('a restarted node container has its rule back from the BMC state on its volume', async () => {
    expect(node.farm).toBeNull();
    expect((await fleet.request('POST', `/api/v1/nodes/${node.name}/faults`, ALWAYS_BUSY)).status).toBe(201);
    expect(spawnSync('docker', ['restart', '-t', '2', node.container.name], { encoding: 'utf8' }).status).toBe(0);
    // The agent starts again in the container: ipmitool times out until it listens (bounded), then meets the rule.
    let r = await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
    for (let i = 0; i < 30 && !r.stderr.includes('Node busy') && r.status !== 0; i++) {
      await sleep(1_000);
      r = await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
    }
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('Node busy') as unknown]);
    const listed = await fleet.request<FaultsBody>('GET', `/api/v1/nodes/${node.name}/faults`);
    expect(listed.body.rules).toEqual([expect.objectContaining({ id: 'f1', status: 'active' })]);
    expect((await fleet.request('DELETE', `/api/v1/nodes/${node.name}/faults`)).body).toEqual({ name: node.name, removed: 1 });
    const after = await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
    expect(after.status).toBe(0);
  });
});
