/**
 * The reconciler against a real SQLite file and the real Docker engine, with MACHINE=sim node
 * containers made the way the API makes them (NodesService, NodeDeployer, DockerNodeRuntime, DockerodeAdapter):
 * drift made by hand (a container removed or stopped, a row lost, a stale lease, a delete cut short)
 * and what one run does about it, checked in Docker, in the database and through the node's BMC.
 *
 * Ownership: every Docker object here carries the label of this run's fleet (a fresh fleet id per
 * data directory) and a FLEET_NAME of its own; afterAll removes the containers and volumes with that
 * label, never anything else. Docker missing: skipped loudly locally, failing under CI=true.
 */
import 'reflect-metadata';
import Database from 'better-sqlite3';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PREFIX, UNPREFIXED_ROUTES } from '../../src/app.factory';
import { NodeBmc } from '../../src/bmc/node-bmc';
import { AppConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/app-config.module';
import { parseAppConfig } from '../../src/config/env.schema';
import { DatabaseModule } from '../../src/database/database.module';
import { DATABASE_FILE_NAME, PrismaService } from '../../src/database/prisma.service';
import { DockerAdapter, LABELS } from '../../src/docker/docker-adapter';
import { DockerModule } from '../../src/docker/docker.module';
import { FleetMetrics } from '../../src/metrics/fleet-metrics.service';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { nodeSpec } from '../../src/nodes/node-spec';
import { FleetIdentity } from '../../src/nodes/fleet-context';
import { containerSpecOf } from '../../src/runtime/docker/container-spec';
import { leasePort, NodeWithLeases } from '../../src/nodes/node.model';
import { NodesModule } from '../../src/nodes/nodes.module';
import { NodesService } from '../../src/nodes/nodes.service';
import { ReconcilerModule } from '../../src/reconciler/reconciler.module';
import { ReconcileReport, ReconcilerService } from '../../src/reconciler/reconciler.service';
import { docker, dockerOk } from '../../node-image/test/e2e/node-container';
import { pollUntil } from '../../node-image/test/support/ipmitool-runner';

const NODE_IMAGE = 'bmcfleet/node:latest';
/** Creates wait for the BMC (sim machines answer in a second or two); runs do Docker work. */
const TEST_TIMEOUT_MS = 180_000;
const BMC_WAIT_MS = 60_000;
/** Ranges of 40 ports at a random place, so parallel runs of this file rarely meet. */
const RANGE_WIDTH = 40;

/** Whether the engine answers and the node image is there; skips loudly, or fails under CI=true. */
function describeWithDocker(): jest.Describe {
  const engine = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE], { encoding: 'utf8', timeout: 20_000 });
  if (engine.status === 0) return describe;
  const message = `DOCKER ENGINE OR ${NODE_IMAGE} MISSING (${(engine.stderr ?? '').trim() || (engine.error?.message ?? 'no docker')}): the reconciler integration tests are SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${message}\n\n`);
  return describe.skip;
}

function repairsOf(report: ReconcileReport): [string, string][] {
  return report.repairs.map((repair) => [repair.kind, repair.node]);
}

describeWithDocker()('reconciler on Docker and SQLite', () => {
  const fleetName = `rt${randomBytes(3).toString('hex')}`;
  const ipmiFirst = 20_000 + randomInt(0, 200) * RANGE_WIDTH;
  const vncFirst = 30_000 + randomInt(0, 200) * RANGE_WIDTH;
  const redfishFirst = 10_000 + randomInt(0, 100) * RANGE_WIDTH;
  let dataDir: string;
  let config: AppConfig;
  let app: NestExpressApplication;
  let baseUrl: string;
  let prisma: PrismaService;
  let sut: ReconcilerService;
  let nodes: NodesService;
  let adapter: DockerAdapter;
  let bmc: NodeBmc;
  let metrics: FleetMetrics;
  let fleetId: string;

  jest.setTimeout(TEST_TIMEOUT_MS);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-reconciler-'));
    config = parseAppConfig(
      {
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        FLEET_NAME: fleetName,
        IPMI_PORT_RANGE: `${ipmiFirst}-${ipmiFirst + RANGE_WIDTH - 1}`,
        VNC_PORT_RANGE: `${vncFirst}-${vncFirst + RANGE_WIDTH - 1}`,
        REDFISH_PORT_RANGE: `${redfishFirst}-${redfishFirst + RANGE_WIDTH - 1}`,
        NODE_IMAGE,
        NODE_DEFAULTS_ENABLE_KVM: 'false',
        // Drift of nodes' own containers (farm nodes: test/e2e/farm-nodes).
        SIM_PLACEMENT: 'container',
        // Runs only at start and when the tests ask.
        RECONCILE_INTERVAL_S: '0',
      },
      { cwd: process.cwd() },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(config), ScheduleModule.forRoot(), DatabaseModule, DockerModule, NodesModule, MetricsModule, ReconcilerModule],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'] });
    app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    prisma = app.get(PrismaService);
    sut = app.get(ReconcilerService);
    nodes = app.get(NodesService);
    adapter = app.get(DockerAdapter);
    bmc = app.get(NodeBmc);
    metrics = app.get(FleetMetrics);
    fleetId = app.get(FleetIdentity).fleetId;
    // The run at start (an empty fleet): joined here so no test's run is that one.
    expect((await sut.reconcileNow()).errors).toEqual([]);
  });

  afterAll(async () => {
    await app?.close();
    if (fleetId !== undefined) {
      const listed = await docker(['ps', '-aq', '--filter', `label=${LABELS.fleet}=${fleetId}`]);
      const ids = listed.stdout.split('\n').filter((id) => id.trim() !== '');
      if (ids.length > 0) await docker(['rm', '-f', ...ids]);
      const volumes = await docker(['volume', 'ls', '-q', '--filter', `label=${LABELS.fleet}=${fleetId}`]);
      const names = volumes.stdout.split('\n').filter((name) => name.trim() !== '');
      if (names.length > 0) await docker(['volume', 'rm', '-f', ...names]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function createNode(name: string): Promise<NodeWithLeases> {
    await nodes.create({ name, machine: 'sim', memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: `pw-${name}` });
    return nodes.row(name);
  }

  async function row(name: string): Promise<NodeWithLeases | null> {
    return prisma.node.findUnique({ where: { name }, include: { leases: true } });
  }

  /** Power status through the node's BMC, polled (bounded) while a fresh agent starts. */
  async function bmcAnswers(node: NodeWithLeases): Promise<'on' | 'off' | undefined> {
    const target = { host: config.publishAddress, port: leasePort(node, 'ipmi'), user: node.ipmiUser, password: node.ipmiPassword };
    return pollUntil(
      () => bmc.powerStatus(target).catch(() => undefined),
      (state) => state !== undefined,
      { attempts: 60, timeoutMs: BMC_WAIT_MS, intervalMs: 500 },
    );
  }

  async function containerState(name: string): Promise<string | null> {
    return (await adapter.inspectContainer(name))?.state ?? null;
  }

  async function eventTypes(nodeId: string): Promise<string[]> {
    return (await prisma.nodeEvent.findMany({ where: { nodeId }, orderBy: { id: 'asc' } })).map((event) => event.type);
  }

  async function runsCounted(): Promise<number> {
    const json = await metrics.registry.getSingleMetric('bmcfleet_reconcile_runs_total')?.get();
    return (json?.values ?? []).reduce((sum, value) => sum + value.value, 0);
  }

  it('re-creates a container removed by hand; its BMC answers again on the same port', async () => {
    const before = await createNode('gone');
    await dockerOk(['rm', '-f', before.runtimeRef]);

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['recreated', 'gone']]);
    const after = (await row('gone'))!;
    expect(after.state).toBe('running');
    expect(after.lastError).toBeNull();
    expect(leasePort(after, 'ipmi')).toBe(leasePort(before, 'ipmi'));
    expect(after.runtimeId).not.toBe(before.runtimeId);
    expect(await containerState(before.runtimeRef)).toBe('running');
    expect(await bmcAnswers(after)).toBe('off');
    expect(await eventTypes(after.id)).toContain('repaired');
  });

  it('restarts a stopped container', async () => {
    const node = await createNode('stopped');
    await dockerOk(['stop', '-t', '1', node.runtimeRef]);
    expect(await containerState(node.runtimeRef)).toBe('exited');

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['restarted', 'stopped']]);
    expect(await containerState(node.runtimeRef)).toBe('running');
    expect(await bmcAnswers(node)).toBe('off');
  });

  it('adopts an orphan container with our labels and its ports; its BMC answers through NodeBmc', async () => {
    const lost = await createNode('lost');
    // The row goes (its leases and events with it); the container stays.
    await prisma.node.delete({ where: { id: lost.id } });
    expect(await prisma.portLease.count({ where: { nodeId: lost.id } })).toBe(0);

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['adopted', 'lost']]);
    const adopted = (await row('lost'))!;
    expect(adopted).toMatchObject({
      id: lost.id,
      state: 'running',
      machine: 'sim',
      memoryMiB: 256,
      cpus: 1,
      diskSizeGiB: 1,
      ipmiUser: lost.ipmiUser,
      ipmiPassword: 'pw-lost',
      runtimeRef: lost.runtimeRef,
      host: expect.any(String),
      networks: '[]',
    });
    expect(leasePort(adopted, 'ipmi')).toBe(leasePort(lost, 'ipmi'));
    expect(leasePort(adopted, 'vnc')).toBe(leasePort(lost, 'vnc'));
    expect(await eventTypes(adopted.id)).toEqual(['adopted']);
    expect(await bmcAnswers(adopted)).toBe('off');

    // The next run reads its power state and finds nothing to repair.
    const next = await sut.reconcileNow();
    expect(next.repairs).toEqual([]);
    expect((await row('lost'))!.powerState).toBe('off');
  });

  it('removes an orphan container it cannot adopt (IPMI port outside the range), saying why', async () => {
    const outside = ipmiFirst + RANGE_WIDTH + 5;
    const now = new Date();
    const phantom: NodeWithLeases = {
      ...(await createNode('template')),
      id: `phantom-${randomBytes(4).toString('hex')}`,
      name: 'phantom',
      runtimeRef: `${fleetName}-phantom`,
      runtimeId: null,
      createdAt: now,
      updatedAt: now,
      leases: [
        { id: -1, host: '', kind: 'ipmi', port: outside, nodeId: 'phantom', createdAt: now },
        { id: -2, host: '', kind: 'vnc', port: vncFirst + RANGE_WIDTH - 1, nodeId: 'phantom', createdAt: now },
      ],
    };
    // Made but not started: Docker lists it with our labels all the same.
    await adapter.createNodeContainer(
      containerSpecOf(nodeSpec(phantom, { image: NODE_IMAGE, publishAddress: config.publishAddress, isoDir: config.isoDir, nodeDefaults: config.nodeDefaults, kvmAvailable: false }), fleetId),
    );
    expect(await containerState(phantom.runtimeRef)).toBe('created');

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['removed-orphan', 'phantom']]);
    expect(report.repairs[0]?.message).toMatch(new RegExp(`cannot be adopted: IPMI port ${outside} lies outside IPMI_PORT_RANGE`));
    expect(report.repairs[0]?.message).not.toContain(phantom.ipmiPassword);
    expect(await containerState(phantom.runtimeRef)).toBeNull();
    expect(await row('phantom')).toBeNull();
  });

  it('frees a lease whose node no longer exists', async () => {
    const port = ipmiFirst + RANGE_WIDTH - 1;
    // Only a database edited by hand (or restored from elsewhere) has one: foreign keys are off here.
    const db = new Database(join(dataDir, DATABASE_FILE_NAME));
    db.pragma('foreign_keys = OFF');
    db.prepare('INSERT INTO PortLease (kind, port, nodeId, createdAt) VALUES (?, ?, ?, ?)').run('ipmi', port, 'ghost-node', Date.now());
    db.close();
    expect(await prisma.portLease.count({ where: { port } })).toBe(1);

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['lease-freed', `port ${port}`]]);
    expect(report.repairs[0]?.message).toMatch(/ipmi port \d+ was leased to node id ghost-node, which no longer exists/);
    expect(await prisma.portLease.count({ where: { port } })).toBe(0);
  });

  it('joins two concurrent reconcileNow() calls into one run', async () => {
    const node = await createNode('twice');
    await dockerOk(['rm', '-f', node.runtimeRef]);
    const runsBefore = await runsCounted();

    const first = sut.reconcileNow();
    const second = sut.reconcileNow();
    expect(sut.isRunning).toBe(true);
    const [a, b] = await Promise.all([first, second]);

    expect(b).toBe(a);
    expect(repairsOf(a)).toEqual([['recreated', 'twice']]);
    expect(await runsCounted()).toBe(runsBefore + 1);
    expect(sut.isRunning).toBe(false);
    expect(await containerState(node.runtimeRef)).toBe('running');
  });

  it('finishes a delete a crash cut short: container, disk volume (purge) and row go', async () => {
    const node = await createNode('halfway');
    // As NodesService.remove leaves it when the process dies after marking the row.
    await prisma.node.update({ where: { id: node.id }, data: { state: 'deleting', purgeOnDelete: true, updatedAt: new Date(Date.now() - 3_600_000) } });

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['finished-delete', 'halfway']]);
    expect(await row('halfway')).toBeNull();
    expect(await prisma.portLease.count({ where: { nodeId: node.id } })).toBe(0);
    expect(await containerState(node.runtimeRef)).toBeNull();
    expect((await docker(['volume', 'inspect', `${node.runtimeRef}-vm`])).status).not.toBe(0);
  });

  it('leaves a delete that a request is doing right now alone', async () => {
    const node = await createNode('busy');
    await prisma.node.update({ where: { id: node.id }, data: { state: 'deleting' } });

    const report = await sut.reconcileNow();

    expect(repairsOf(report)).toEqual([]);
    expect((await row('busy'))?.state).toBe('deleting');
    expect(await containerState(node.runtimeRef)).toBe('running');
    await nodes.remove('busy', true);
  });

  it('marks a node failed with the reason when its container cannot be made, once per distinct error', async () => {
    const node = await createNode('broken');
    await prisma.node.update({ where: { id: node.id }, data: { networks: JSON.stringify(['bmcfleet-no-such-network']) } });
    await dockerOk(['rm', '-f', node.runtimeRef]);

    const report = await sut.reconcileNow();
    const again = await sut.reconcileNow();

    expect(report.repairs).toEqual([]);
    expect(report.errors).toEqual([{ node: 'broken', message: expect.stringMatching(/^could not run \S+-broken: .*bmcfleet-no-such-network/) }]);
    // The second run finds the container running without its network: it tries to complete it.
    expect(again.errors).toEqual(report.errors);
    const failed = (await row('broken'))!;
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toBe(report.errors[0]?.message);
    expect((await eventTypes(node.id)).filter((type) => type === 'error')).toHaveLength(1);
    await nodes.remove('broken', true);
  });

  it('completes a failed node whose container runs, and marks it running', async () => {
    const node = await createNode('revived');
    await prisma.node.update({ where: { id: node.id }, data: { state: 'failed', lastError: 'an earlier failure' } });

    const report = await sut.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['resumed', 'revived']]);
    expect(await row('revived')).toMatchObject({ state: 'running', lastError: null });
  });

  it('refreshes power states; a BMC that refuses the login makes it unknown and counts an IPMI error', async () => {
    const node = await createNode('watched');
    await prisma.node.update({ where: { id: node.id }, data: { powerState: 'unknown', powerObservedAt: null } });
    await sut.reconcileNow();
    const observed = (await row('watched'))!;
    expect(observed.powerState).toBe('off');
    expect(observed.powerObservedAt).not.toBeNull();

    await prisma.node.update({ where: { id: node.id }, data: { ipmiPassword: 'not-the-password' } });
    const errorsBefore = (await metrics.registry.getSingleMetric('bmcfleet_ipmi_errors_total')?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
    await sut.reconcileNow();
    expect((await row('watched'))!.powerState).toBe('unknown');
    const errors = (await metrics.registry.getSingleMetric('bmcfleet_ipmi_errors_total')?.get())?.values ?? [];
    expect(errors.reduce((sum, v) => sum + v.value, 0)).toBeGreaterThan(errorsBefore);
    expect(errors.every((v) => v.labels['operation'] === 'power-status')).toBe(true);
  });

  it('POST /api/v1/reconcile runs it and answers the report', async () => {
    const response = await fetch(`${baseUrl}/api/v1/reconcile`, { method: 'POST' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ReconcileReport;
    expect(body).toEqual({ startedAt: expect.any(String), durationMs: expect.any(Number), repairs: [], errors: [], warnings: [] });
  });
});
