/**
 * The orchestrator with RUNTIME=swarm, driven through its HTTP API the way users drive it, on a real
 * three-host Docker Swarm made of Docker-in-Docker hosts (test/support/swarm-harness.ts), the
 * orchestrator talking to the manager's engine (DOCKER_HOST):
 *
 * - sim nodes created with POST /api/v1/nodes spread one per host, each leasing the same ports on its
 *   own host (leases are per host), the API reporting each node's host and its host's address, where
 *   ipmitool answers;
 * - `host` in the create body (a swarm node id) places the node there, on the next port of that
 *   host; an unknown host and a KVM node are refused with 400 saying why;
 * - DELETE ?purge=true removes the node's volume on its own host; without purge it stays;
 * - the orchestrator restarted on its data directory finds the same fleet, nothing to repair.
 *
 * Everything lives inside the harness's hosts, removed in afterAll (also after a failure). Waits are
 * bounded; no duration is asserted. sim nodes keep the file short (the swarm itself takes about 2 min).
 */
import { runAsync } from '../../node-image/test/support/ipmitool-runner';
import { checkPrerequisites, describeE2eWith, NODE_IMAGE } from '../../node-image/test/e2e/node-container';
import { SwarmHarness, type SwarmHost } from '../support/swarm-harness';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

const PASSWORD = 'swarm-api-pass';
/** Three hosts spread, one more pinned, two to delete: ports for at most two nodes per host suffice. */
const RANGE = 8;

interface View {
  name: string;
  state: string;
  host: string | null;
  ipmi: { host: string; port: number; user: string };
  vnc: { host: string; port: number };
  redfish: { host: string; port: number } | null;
}

describeE2eWith(['ipmitool'])('the orchestrator with RUNTIME=swarm, through its API, on a three-host swarm', () => {
  let swarm: SwarmHarness;
  let fleet: OrchestratorProcess;
  const settings = newFleetSettings(RANGE, { RECONCILE_INTERVAL_S: '0', NODE_IMAGE, RUNTIME: 'swarm' });
  let spread: View[] = [];

  const hostNamed = (name: string | null): SwarmHost => {
    const host = swarm.hosts.find((h) => h.name === name);
    if (host === undefined) throw new Error(`no swarm host ${String(name)}`);
    return host;
  };
  const create = async (name: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: View & { message?: unknown } }> =>
    fleet.request<View & { message?: unknown }>('POST', '/api/v1/nodes', { name, machine: 'sim', ipmiPassword: PASSWORD, ...extra });
  const created = async (name: string, extra: Record<string, unknown> = {}): Promise<View> => {
    const answer = await create(name, extra);
    if (answer.status !== 201) throw new Error(`create ${name}: ${answer.status} ${JSON.stringify(answer.body)}\n${fleet.log.slice(-3000)}`);
    return answer.body;
  };
  const ipmitool = (view: View, args: string[]) =>
    runAsync('ipmitool', ['-I', 'lanplus', '-C', '17', '-H', view.ipmi.host, '-p', String(view.ipmi.port), '-U', view.ipmi.user, '-P', PASSWORD, ...args], { timeoutMs: 30_000 });
  const volumesOn = async (host: SwarmHost): Promise<string[]> => (await swarm.dockerOk(host, ['volume', 'ls', '-q'])).split('\n').filter((v) => v.length > 0);
  const volumeOf = (name: string): string => `${settings.fleetName}-${name}-vm`;

  beforeAll(async () => {
    await checkPrerequisites();
    buildOrchestrator();
    swarm = await SwarmHarness.start({ images: [NODE_IMAGE] });
    process.stderr.write(`swarm harness up: ${JSON.stringify(swarm.timings)} ms\n`);
    fleet = new OrchestratorProcess({ ...settings, env: { ...settings.env, DOCKER_HOST: `unix://${swarm.manager.socketPath}` } });
    await fleet.start();
  });

  afterAll(async () => {
    await fleet?.cleanup();
    await swarm?.stop();
  });

  it('spreads three sim nodes one per host on the same ports, each answering ipmitool at the host address the API reports', async () => {
    spread = await Promise.all(['s1', 's2', 's3'].map((name) => created(name)));
    expect(spread.map((view) => view.host).sort()).toEqual(swarm.hosts.map((h) => h.name).sort());
    for (const view of spread) {
      expect(view.state).toBe('running');
      expect(view.ipmi).toMatchObject({ host: hostNamed(view.host).address, port: settings.ipmiRange.first });
      expect(view.redfish).toEqual({ host: hostNamed(view.host).address, port: settings.redfishRange.first });
      expect(view.vnc.host).toBe(hostNamed(view.host).address);
      const answer = await ipmitool(view, ['power', 'status']);
      expect(answer.stderr).toBe('');
      expect(answer.stdout.trim()).toBe('Chassis Power is off');
    }
    const listed = (await fleet.request<View[]>('GET', '/api/v1/nodes')).body;
    expect(listed.map((view) => [view.name, view.host, view.ipmi.host])).toEqual(spread.map((view) => [view.name, view.host, view.ipmi.host]));
  });

  it('places a node on the host its body names (a swarm node id), on that host\'s next port; refuses an unknown host and KVM', async () => {
    const target = hostNamed(spread[1]!.host);
    const pinned = await created('p1', { host: target.nodeId });
    expect(pinned).toMatchObject({ host: target.name, ipmi: { host: target.address, port: settings.ipmiRange.first + 1 } });
    expect((await ipmitool(pinned, ['power', 'on'])).stdout.trim()).toBe('Chassis Power Control: Up/On');
    expect((await ipmitool(pinned, ['power', 'status'])).stdout.trim()).toBe('Chassis Power is on');

    const unknown = await create('x1', { host: 'no-such-host' });
    expect(unknown.status).toBe(400);
    const refusal = JSON.stringify(unknown.body.message);
    expect(refusal).toContain('host must be one of the runtime\'s hosts: ');
    for (const h of swarm.hosts) expect(refusal).toContain(h.name);
    const kvm = await create('x2', { enableKvm: 'true' });
    expect(kvm.status).toBe(400);
    expect(JSON.stringify(kvm.body.message)).toContain('moby/swarmkit#1244');
    expect((await fleet.request('GET', '/api/v1/nodes/x1')).status).toBe(404);
  });

  it('deletes with purge removing the volume on the node\'s own host; without purge the volume stays', async () => {
    const [purged, kept] = [spread[0]!, spread[2]!];
    expect(await volumesOn(hostNamed(purged.host))).toContain(volumeOf(purged.name));
    expect((await fleet.request('DELETE', `/api/v1/nodes/${purged.name}?purge=true`)).status).toBe(204);
    expect((await fleet.request('DELETE', `/api/v1/nodes/${kept.name}`)).status).toBe(204);
    expect(await volumesOn(hostNamed(purged.host))).not.toContain(volumeOf(purged.name));
    expect(await volumesOn(hostNamed(kept.host))).toContain(volumeOf(kept.name));
    // The freed port is leased again on that host.
    const again = await created('s4', { host: purged.host });
    expect(again.ipmi).toMatchObject({ host: hostNamed(purged.host).address, port: settings.ipmiRange.first });
    spread = [again, spread[1]!];
  });

  it('finds the same fleet after a restart: the same hosts and addresses, nothing to repair, every BMC answering', async () => {
    const before = (await fleet.request<View[]>('GET', '/api/v1/nodes')).body;
    await fleet.stop();
    await fleet.start();
    const report = await fleet.request<{ repairs: unknown[]; errors: unknown[] }>('POST', '/api/v1/reconcile');
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ repairs: [], errors: [] });
    const after = (await fleet.request<View[]>('GET', '/api/v1/nodes')).body;
    expect(after.map((view) => [view.name, view.state, view.host, view.ipmi])).toEqual(before.map((view) => [view.name, 'running', view.host, view.ipmi]));
    for (const view of after) expect((await ipmitool(view, ['power', 'status'])).status).toBe(0);
    const services = (await swarm.dockerOk(swarm.manager, ['service', 'ls', '--format', '{{.Name}}'])).split('\n').filter((s) => s.startsWith(`${settings.fleetName}-`)).sort();
    expect(services).toEqual(after.map((view) => `${settings.fleetName}-${view.name}`).sort());
  });
});
