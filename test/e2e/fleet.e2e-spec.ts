/**
 * The fleet end to end, with the real Docker engine, the node image and real clients: nodes created
 * over HTTP answer `ipmitool` on their leased ports, power through the API shows in `ipmitool power
 * status`, a restarted (or killed) orchestrator finds the same fleet, a container removed by hand comes
 * back, a delete leaves no container, volume nor lease, and 50 concurrent creates get 50 distinct port
 * pairs with every BMC answering. The orchestrator runs as `node dist/src/main.js`, as users run it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { IpmiClient } from '../../node-image/src/client';
import { ipmitool, sleep } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { buildOrchestrator, fleetContainers, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody {
  name: string;
  state: string;
  powerState: string;
  ipmi: { host: string; port: number; user: string };
  vnc: { host: string; port: number };
  redfish: { host: string; port: number } | null;
  container: { name: string };
  generatedIpmiPassword?: string;
}

const PASSWORD = 'fleet-e2e-pass';
const WAIT_MS = 120_000;

function leaseRows(dataDir: string): { kind: string; port: number; nodeId: string }[] {
  const db = new Database(join(dataDir, 'bmcfleet.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT kind, port, nodeId FROM PortLease').all() as { kind: string; port: number; nodeId: string }[];
  } finally {
    db.close();
  }
}

function volumes(prefix: string): string[] {
  return spawnSync('docker', ['volume', 'ls', '-q', '--filter', `name=^${prefix}-`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
}

async function powerStatusWithIpmitool(port: number): Promise<string> {
  const r = await ipmitool(port, ['-C', '17', 'power', 'status'], { password: PASSWORD });
  if (r.status !== 0) throw new Error(`ipmitool power status on ${port}: ${r.stderr}`);
  return r.stdout.trim();
}

async function bmcAnswers(port: number, password: string): Promise<'on' | 'off'> {
  const client = await IpmiClient.connect({ host: '127.0.0.1', port, user: 'admin', password, timeoutMs: 2000, retries: 2 });
  try {
    return await client.powerStatus();
  } finally {
    await client.close();
  }
}

describeWithTools(['docker', 'ipmitool'])('fleet end to end', () => {
  beforeAll(() => buildOrchestrator());

  describe('three QEMU nodes', () => {
    const fleet = new OrchestratorProcess(newFleetSettings(20, { RECONCILE_INTERVAL_S: '2', SIM_PLACEMENT: 'container' }));
    afterAll(() => fleet.cleanup());

    it('creates, drives, survives restarts and hand removal, and deletes without leftovers', async () => {
      await fleet.start();
      const names = ['alpha', 'bravo', 'charlie'];
      const created = await Promise.all(
        names.map((name) => fleet.request<NodeBody>('POST', '/api/v1/nodes', { name, machine: 'qemu', memoryMiB: 128, cpus: 1, diskSizeGiB: 1, ipmiPassword: PASSWORD })),
      );
      for (const response of created) expect(response.status).toBe(201);
      const nodes = created.map((response) => response.body);
      expect(new Set(nodes.map((node) => node.ipmi.port)).size).toBe(3);
      expect(new Set(nodes.map((node) => node.vnc.port)).size).toBe(3);
      for (const node of nodes) {
        expect(node.ipmi.port).toBeGreaterThanOrEqual(fleet.settings.ipmiRange.first);
        expect(node.ipmi.port).toBeLessThanOrEqual(fleet.settings.ipmiRange.last);
        expect(node.state).toBe('running');
        expect(node.generatedIpmiPassword).toBeUndefined();
      }

      const duplicate = await fleet.request<{ message: string }>('POST', '/api/v1/nodes', { name: 'alpha', machine: 'sim' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.message).toMatch(/alpha already exists/);

      // Every BMC answers ipmitool on its leased port, powered off as a real server waits.
      for (const node of nodes) expect(await powerStatusWithIpmitool(node.ipmi.port)).toBe('Chassis Power is off');

      // Power through the API (the orchestrator speaks IPMI to the node) and see it in ipmitool.
      const [alpha, bravo, charlie] = nodes as [NodeBody, NodeBody, NodeBody];
      const on = await fleet.request<{ powerState: string }>('POST', '/api/v1/nodes/alpha/power', { action: 'on' });
      expect(on.status).toBe(200);
      expect(on.body.powerState).toBe('on');
      expect(await powerStatusWithIpmitool(alpha.ipmi.port)).toBe('Chassis Power is on');
      expect((await fleet.request('POST', '/api/v1/nodes/bravo/power', { action: 'on' })).status).toBe(200);
      expect((await fleet.request('POST', '/api/v1/nodes/bravo/power', { action: 'off' })).status).toBe(200);
      expect(await powerStatusWithIpmitool(bravo.ipmi.port)).toBe('Chassis Power is off');
      expect((await fleet.request('POST', '/api/v1/nodes/bravo/power', { action: 'warp' })).status).toBe(400);
      expect((await fleet.request('POST', '/api/v1/nodes/nobody/power', { action: 'on' })).status).toBe(404);

      // The password never comes back.
      const listed = await fleet.request<NodeBody[]>('GET', '/api/v1/nodes');
      expect(JSON.stringify(listed.body)).not.toContain(PASSWORD);
      expect(fleet.log).not.toContain(PASSWORD);

      // Restart: same fleet, same ports, no duplicate container; the powered-on VM kept running.
      await fleet.stop('SIGTERM');
      await fleet.start();
      const after = await fleet.request<NodeBody[]>('GET', '/api/v1/nodes');
      expect(after.body.map((node) => [node.name, node.ipmi.port, node.vnc.port])).toEqual(nodes.map((node) => [node.name, node.ipmi.port, node.vnc.port]));
      expect(fleetContainers(fleet.settings.fleetName)).toHaveLength(3);
      expect(await powerStatusWithIpmitool(alpha.ipmi.port)).toBe('Chassis Power is on');

      // Remove a container by hand: the reconciler brings it back on the same port.
      expect(spawnSync('docker', ['rm', '-f', charlie.container.name]).status).toBe(0);
      await until('charlie to come back', async () => ((await powerStatusWithIpmitool(charlie.ipmi.port)) === 'Chassis Power is off' ? true : undefined));
      const events = await fleet.request<{ type: string; message: string }[]>('GET', '/api/v1/nodes/charlie/events');
      expect(events.body.map((event) => event.type)).toContain('repaired');

      // Delete with purge: container, volume and leases gone.
      expect((await fleet.request('DELETE', '/api/v1/nodes/charlie?purge=true')).status).toBe(204);
      expect((await fleet.request('GET', '/api/v1/nodes/charlie')).status).toBe(404);
      expect(fleetContainers(fleet.settings.fleetName).map((container) => container.name).sort()).toEqual([alpha.container.name, bravo.container.name].sort());
      expect(volumes(charlie.container.name)).toEqual([]);
      expect(leaseRows(fleet.settings.dataDir).filter((lease) => lease.port === charlie.ipmi.port || lease.port === charlie.vnc.port || lease.port === charlie.redfish?.port)).toEqual([]);
      // Two nodes left, three leases each (IPMI, VNC, Redfish).
      expect(leaseRows(fleet.settings.dataDir)).toHaveLength(6);

      // Delete without purge keeps the disk volume.
      expect((await fleet.request('DELETE', '/api/v1/nodes/bravo')).status).toBe(204);
      expect(volumes(bravo.container.name)).toHaveLength(1);
    });
  });

  describe('crash safety', () => {
    const fleet = new OrchestratorProcess(newFleetSettings(40, { RECONCILE_INTERVAL_S: '2', SIM_PLACEMENT: 'container' }));
    afterAll(() => fleet.cleanup());

    it('a SIGKILL in the middle of 12 creates leaves a fleet the restart settles: every node answered its create, nothing leaked, nothing duplicated', async () => {
      await fleet.start();
      const names = Array.from({ length: 12 }, (_, index) => `crash${index}`);
      // Generated passwords: a node whose create never answered would be a node nobody can log in to.
      const inFlight = names.map((name) => fleet.request<NodeBody>('POST', '/api/v1/nodes', { name, machine: 'sim' }).catch(() => null));
      // Kill once the first container exists: some creates are done, some half way, some not begun.
      await until('a first container', () => (fleetContainers(fleet.settings.fleetName).length > 0 ? true : undefined), 60_000);
      await fleet.stop('SIGKILL');
      const passwords = new Map<string, string>();
      for (const answer of await Promise.all(inFlight)) {
        if (answer?.status === 201 && answer.body.generatedIpmiPassword !== undefined) passwords.set(answer.body.name, answer.body.generatedIpmiPassword);
      }

      await fleet.start();
      const settled = await until('the reconciler to settle the fleet', async () => {
        const nodes = (await fleet.request<NodeBody[]>('GET', '/api/v1/nodes')).body;
        const containers = fleetContainers(fleet.settings.fleetName);
        const running = containers.filter((container) => container.state === 'running');
        return nodes.every((node) => node.state === 'running') && containers.length === nodes.length && running.length === nodes.length ? nodes : undefined;
      });
      // Every row has exactly its container and its three leases (IPMI, VNC, Redfish); every container has its row.
      expect(fleetContainers(fleet.settings.fleetName).map((container) => container.name).sort()).toEqual(settled.map((node) => node.container.name).sort());
      const leases = leaseRows(fleet.settings.dataDir);
      expect(leases).toHaveLength(3 * settled.length);
      expect(new Set(leases.map((lease) => `${lease.kind}:${lease.port}`)).size).toBe(leases.length);
      // Only nodes whose create answered 201 (with the password) are left; the others were rolled back.
      expect(settled.map((node) => node.name).sort()).toEqual([...passwords.keys()].sort());
      for (const node of settled) {
        expect(await until(`BMC of ${node.name}`, () => bmcAnswers(node.ipmi.port, passwords.get(node.name) ?? ''))).toBe('off');
      }
      // The names not created before the kill can be created now, and show their password; none is taken twice.
      for (const name of names.filter((candidate) => !passwords.has(candidate))) {
        const retry = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name, machine: 'sim' });
        expect(retry.status).toBe(201);
        expect(await until(`BMC of ${name}`, () => bmcAnswers(retry.body.ipmi.port, retry.body.generatedIpmiPassword ?? ''))).toBe('off');
      }
      expect(fleetContainers(fleet.settings.fleetName)).toHaveLength(names.length);
    });
  });

  describe('fifty concurrent creates', () => {
    const fleet = new OrchestratorProcess(newFleetSettings(60, { RECONCILE_INTERVAL_S: '0', SIM_PLACEMENT: 'container' }));
    afterAll(() => fleet.cleanup());

    it('gives 50 distinct IPMI and VNC ports, every BMC answers, and deleting them all leaves nothing', async () => {
      await fleet.start();
      const names = Array.from({ length: 50 }, (_, index) => `sim${String(index).padStart(2, '0')}`);
      const responses = await Promise.all(names.map((name) => fleet.request<NodeBody>('POST', '/api/v1/nodes', { name, machine: 'sim', ipmiPassword: PASSWORD })));
      expect(responses.map((response) => response.status)).toEqual(names.map(() => 201));
      const nodes = responses.map((response) => response.body);
      expect(new Set(nodes.map((node) => node.ipmi.port)).size).toBe(50);
      expect(new Set(nodes.map((node) => node.vnc.port)).size).toBe(50);
      for (const node of nodes) expect(await bmcAnswers(node.ipmi.port, PASSWORD)).toBe('off');
      expect(fleetContainers(fleet.settings.fleetName)).toHaveLength(50);
      expect(leaseRows(fleet.settings.dataDir)).toHaveLength(150);

      const deletes = await Promise.all(names.map((name) => fleet.request('DELETE', `/api/v1/nodes/${name}?purge=true`)));
      expect(deletes.map((response) => response.status)).toEqual(names.map(() => 204));
      expect(fleetContainers(fleet.settings.fleetName)).toEqual([]);
      expect(volumes(fleet.settings.fleetName)).toEqual([]);
      expect(leaseRows(fleet.settings.dataDir)).toEqual([]);
    });
  });
});
