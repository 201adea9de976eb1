/**
 * Node batches end to end, with the real Docker engine and the node image: POST /api/v1/node-batches
 * makes every sim node of a batch, each answering `ipmitool` at the address the batch's answer gives;
 * power through the API shows in ipmitool; some are deleted; after a SIGKILLed orchestrator starts
 * again the fleet is the same and pages through GET /api/v1/nodes?limit= give every node once; a batch
 * whose third node cannot be made (a stranger's container holds its name) is undone, leaving the
 * stranger's container alone.
 */
import { spawnSync } from 'node:child_process';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { buildOrchestrator, fleetContainers, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface BatchBody {
  namePrefix: string;
  count: number;
  nodes: { id: string; name: string; ipmi: { host: string; port: number; user: string }; redfish: { host: string; port: number } | null }[];
  generatedIpmiPassword?: string;
}
interface Page { items: { name: string; machine: string; powerState: string }[]; nextCursor: string | null }

const BATCH = 8;
const PASSWORD = 'batch-e2e-pass';

async function powerStatus(port: number): Promise<string> {
  const r = await ipmitool(port, ['-C', '17', 'power', 'status'], { password: PASSWORD });
  if (r.status !== 0) throw new Error(`ipmitool power status on ${port}: ${r.stderr}`);
  return r.stdout.trim();
}

describeWithTools(['docker', 'ipmitool'])('node batches end to end', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(BATCH + 4, { RECONCILE_INTERVAL_S: '0', SIM_PLACEMENT: 'container' }));
  beforeAll(() => buildOrchestrator());
  afterAll(() => fleet.cleanup());

  it('creates a batch, drives it, deletes some, survives a kill, pages through it, and undoes a batch that fails', async () => {
    await fleet.start();
    const created = await fleet.request<BatchBody>('POST', '/api/v1/node-batches', { namePrefix: 'rack1', count: BATCH, machine: 'sim', ipmiPassword: PASSWORD });
    expect(created.status).toBe(201);
    const batch = created.body;
    expect(batch.generatedIpmiPassword).toBeUndefined();
    expect(batch.nodes.map((node) => node.name)).toEqual(Array.from({ length: BATCH }, (_, i) => `rack1-${i + 1}`));
    expect(new Set(batch.nodes.map((node) => node.ipmi.port)).size).toBe(BATCH);
    for (const node of batch.nodes) {
      expect(node.ipmi).toEqual({ host: '127.0.0.1', port: expect.any(Number) as unknown, user: 'admin' });
      expect(node.redfish).toEqual({ host: '127.0.0.1', port: expect.any(Number) as unknown });
    }
    expect(JSON.stringify(batch)).not.toContain(PASSWORD);

    // ipmitool against the first and the last, at the addresses the batch answered.
    const first = batch.nodes[0]!;
    const last = batch.nodes[BATCH - 1]!;
    expect(await powerStatus(first.ipmi.port)).toBe('Chassis Power is off');
    expect(await powerStatus(last.ipmi.port)).toBe('Chassis Power is off');
    const on = await fleet.request<{ powerState: string }>('POST', `/api/v1/nodes/${last.name}/power`, { action: 'on' });
    expect(on).toEqual({ status: 200, body: { name: last.name, action: 'on', powerState: 'on' } });
    expect(await powerStatus(last.ipmi.port)).toBe('Chassis Power is on');

    // A second batch over taken names is refused whole.
    const again = await fleet.request<{ message: string }>('POST', '/api/v1/node-batches', { namePrefix: 'rack1', count: 2, firstIndex: BATCH, machine: 'sim' });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/1 of the batch's names are taken: rack1-8/);

    for (const name of ['rack1-2', 'rack1-3', 'rack1-5']) expect((await fleet.request('DELETE', `/api/v1/nodes/${name}?purge=true`)).status).toBe(204);
    const kept = batch.nodes.filter((node) => !['rack1-2', 'rack1-3', 'rack1-5'].includes(node.name)).map((node) => node.name);

    // Killed and started again: the same nodes, the same ports, one container each.
    await fleet.stop('SIGKILL');
    await fleet.start();
    const names: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page: { status: number; body: Page } = await fleet.request<Page>('GET', `/api/v1/nodes?limit=2&machine=sim&name=rack1${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      names.push(...page.body.items.map((item) => item.name));
      cursor = page.body.nextCursor;
      if (cursor === null) break;
    }
    expect(names).toEqual(kept);
    const onPage = await fleet.request<Page>('GET', '/api/v1/nodes?limit=10&powerState=on');
    expect(onPage.body.items.map((item) => item.name)).toEqual([last.name]);
    expect(fleetContainers(fleet.settings.fleetName).map((container) => container.name).sort()).toEqual(kept.map((name) => `${fleet.settings.fleetName}-${name}`).sort());
    expect(await powerStatus(last.ipmi.port)).toBe('Chassis Power is on');

    // A stranger's container holds the third name of the next batch: the batch is undone, the stranger stays.
    const stranger = `${fleet.settings.fleetName}-rack2-3`;
    expect(spawnSync('docker', ['create', '--name', stranger, 'bmcfleet/node:latest']).status).toBe(0);
    const failed = await fleet.request<{ message: string }>('POST', '/api/v1/node-batches', { namePrefix: 'rack2', count: 4, machine: 'sim', ipmiPassword: PASSWORD });
    expect(failed.status).toBe(409);
    expect(failed.body.message).toMatch(/^batch of 4 not created \(\d node\(s\) made before it were undone\): node rack2-3: /);
    const listed = await fleet.request<{ name: string }[]>('GET', '/api/v1/nodes?name=rack2');
    expect(listed.body).toEqual([]);
    expect(fleetContainers(fleet.settings.fleetName).map((container) => container.name).sort()).toEqual([...kept.map((name) => `${fleet.settings.fleetName}-${name}`), stranger].sort());
  });
});
