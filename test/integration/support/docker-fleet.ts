/**
 * A fleet for integration tests on the real Docker engine and a real SQLite file: the orchestrator's
 * modules (NodesService, DockerNodeRuntime, DockerodeAdapter, ReconcilerService) in a Nest testing
 * module with its own DATA_DIR, FLEET_NAME and port ranges, the reconciler run only when a test asks.
 *
 * Ownership: everything the fleet makes carries this run's fleet label; close() removes the
 * containers and volumes with that label, and the extra objects a test registers with track().
 * Docker or the node image missing: skipped loudly locally, failing under CI=true.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeBmc } from '../../../src/bmc/node-bmc';
import { AppConfig } from '../../../src/config/app-config';
import { AppConfigModule } from '../../../src/config/app-config.module';
import { parseAppConfig } from '../../../src/config/env.schema';
import { DatabaseModule } from '../../../src/database/database.module';
import { PrismaService } from '../../../src/database/prisma.service';
import { DockerAdapter, LABELS } from '../../../src/docker/docker-adapter';
import { DockerModule } from '../../../src/docker/docker.module';
import { MetricsModule } from '../../../src/metrics/metrics.module';
import { FleetIdentity } from '../../../src/nodes/fleet-context';
import { leasePort, NodeWithLeases } from '../../../src/nodes/node.model';
import { NodesModule } from '../../../src/nodes/nodes.module';
import { NodesService } from '../../../src/nodes/nodes.service';
import { ReconcilerModule } from '../../../src/reconciler/reconciler.module';
import { ReconcilerService } from '../../../src/reconciler/reconciler.service';
import { docker } from '../../../node-image/test/e2e/node-container';
import { pollUntil } from '../../../node-image/test/support/ipmitool-runner';

export const NODE_IMAGE = 'bmcfleet/node:latest';
const RANGE_WIDTH = 40;
const BMC_WAIT_MS = 60_000;

/** describe when the engine answers and the node image is there; skips loudly, or fails under CI=true. */
export function describeWithDocker(what: string): jest.Describe {
  const engine = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE], { encoding: 'utf8', timeout: 20_000 });
  if (engine.status === 0) return describe;
  const message = `DOCKER ENGINE OR ${NODE_IMAGE} MISSING (${(engine.stderr ?? '').trim() || (engine.error?.message ?? 'no docker')}): the ${what} integration tests are SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${message}\n\n`);
  return describe.skip;
}

export class DockerFleet {
  readonly fleetName = `it${randomBytes(3).toString('hex')}`;
  readonly ipmiFirst = 20_000 + randomInt(0, 200) * RANGE_WIDTH;
  readonly vncFirst = 30_000 + randomInt(0, 200) * RANGE_WIDTH;
  readonly redfishFirst = 10_000 + randomInt(0, 100) * RANGE_WIDTH;
  dataDir = '';
  config!: AppConfig;
  app!: NestExpressApplication;
  prisma!: PrismaService;
  nodes!: NodesService;
  reconciler!: ReconcilerService;
  adapter!: DockerAdapter;
  bmc!: NodeBmc;
  fleetId!: string;
  private readonly tracked = { containers: new Set<string>(), volumes: new Set<string>() };

  async start(): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-it-'));
    this.config = parseAppConfig(
      {
        LOG_LEVEL: 'warn',
        DATA_DIR: this.dataDir,
        FLEET_NAME: this.fleetName,
        IPMI_PORT_RANGE: `${this.ipmiFirst}-${this.ipmiFirst + RANGE_WIDTH - 1}`,
        VNC_PORT_RANGE: `${this.vncFirst}-${this.vncFirst + RANGE_WIDTH - 1}`,
        REDFISH_PORT_RANGE: `${this.redfishFirst}-${this.redfishFirst + RANGE_WIDTH - 1}`,
        NODE_IMAGE,
        // Sim nodes as one runtime node each: these fleets test nodes' own containers (farms: test/e2e/farm-nodes).
        SIM_PLACEMENT: 'container',
        NODE_DEFAULTS_ENABLE_KVM: 'false',
        RECONCILE_INTERVAL_S: '0',
      },
      { cwd: process.cwd() },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(this.config), ScheduleModule.forRoot(), DatabaseModule, DockerModule, NodesModule, MetricsModule, ReconcilerModule],
    }).compile();
    this.app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'] });
    await this.app.init();
    this.prisma = this.app.get(PrismaService);
    this.nodes = this.app.get(NodesService);
    this.reconciler = this.app.get(ReconcilerService);
    this.adapter = this.app.get(DockerAdapter);
    this.bmc = this.app.get(NodeBmc);
    this.fleetId = this.app.get(FleetIdentity).fleetId;
    // The run at start (an empty fleet): joined here so no test's run is that one.
    await this.reconciler.reconcileNow();
  }

  /** A Docker object a test made outside the fleet (a stranger): removed by close(). */
  track(kind: 'container' | 'volume', name: string): void {
    (kind === 'container' ? this.tracked.containers : this.tracked.volumes).add(name);
  }

  async close(): Promise<void> {
    await this.app?.close();
    if (this.fleetId !== undefined) {
      const listed = await docker(['ps', '-aq', '--filter', `label=${LABELS.fleet}=${this.fleetId}`]);
      const ids = [...listed.stdout.split('\n').filter((id) => id.trim() !== ''), ...this.tracked.containers];
      if (ids.length > 0) await docker(['rm', '-f', ...ids]);
      const volumes = await docker(['volume', 'ls', '-q', '--filter', `label=${LABELS.fleet}=${this.fleetId}`]);
      const names = [...volumes.stdout.split('\n').filter((name) => name.trim() !== ''), ...this.tracked.volumes];
      if (names.length > 0) await docker(['volume', 'rm', '-f', ...names]);
    }
    if (this.dataDir !== '') rmSync(this.dataDir, { recursive: true, force: true });
  }

  async row(name: string): Promise<NodeWithLeases | null> {
    return this.prisma.node.findUnique({ where: { name }, include: { leases: true } });
  }

  /** Power status through the node's BMC, polled (bounded) while a fresh agent starts. */
  async bmcAnswers(node: NodeWithLeases, password = node.ipmiPassword): Promise<'on' | 'off' | undefined> {
    const target = { host: this.config.publishAddress, port: leasePort(node, 'ipmi'), user: node.ipmiUser, password };
    return pollUntil(
      () => this.bmc.powerStatus(target).catch(() => undefined),
      (state) => state !== undefined,
      { attempts: 60, timeoutMs: BMC_WAIT_MS, intervalMs: 500 },
    );
  }

  async eventTypes(nodeId: string): Promise<string[]> {
    return (await this.prisma.nodeEvent.findMany({ where: { nodeId }, orderBy: { id: 'asc' } })).map((event) => event.type);
  }
}
