/**
 * A fleet on the in-memory runtime, for fast tests of the nodes service and the reconciler: the
 * orchestrator's own modules (NodesService, NodeDeployer, ReconcilerService, PortLeases, a real
 * SQLite file through Prisma) in a Nest testing module, with NodeRuntime = MemoryNodeRuntime and
 * NodeBmc = MemoryNodeBmc. No Docker engine is called; the reconciler runs only when a test asks.
 */
import 'reflect-metadata';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeBmc } from '../../src/bmc/node-bmc';
import { AppConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/app-config.module';
import { parseAppConfig } from '../../src/config/env.schema';
import { DatabaseModule } from '../../src/database/database.module';
import { PrismaService } from '../../src/database/prisma.service';
import { DockerModule } from '../../src/docker/docker.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import type { NodeWithLeases } from '../../src/nodes/node.model';
import { NodesModule } from '../../src/nodes/nodes.module';
import { NodesService } from '../../src/nodes/nodes.service';
import { ReconcilerModule } from '../../src/reconciler/reconciler.module';
import { ReconcilerService } from '../../src/reconciler/reconciler.service';
import { MemoryNodeBmc } from '../../src/runtime/memory/memory-node-bmc';
import { MemoryNodeRuntime, type MemoryHostSpec } from '../../src/runtime/memory/memory-node-runtime';
import { NodeRuntime } from '../../src/runtime/node-runtime';

export const MEMORY_FLEET_NAME = 'mem';
export const IPMI_FIRST = 16230;
export const VNC_FIRST = 15900;
export const REDFISH_FIRST = 17000;
const RANGE_WIDTH = 20;

export class MemoryFleet {
  readonly runtime: MemoryNodeRuntime;
  readonly bmc: MemoryNodeBmc;
  dataDir = '';
  config!: AppConfig;
  app!: INestApplication;
  prisma!: PrismaService;
  nodes!: NodesService;
  reconciler!: ReconcilerService;

  constructor(hosts?: readonly MemoryHostSpec[]) {
    this.runtime = new MemoryNodeRuntime(hosts);
    this.bmc = new MemoryNodeBmc(this.runtime);
  }

  async start(): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-mem-'));
    this.config = parseAppConfig(
      {
        LOG_LEVEL: 'warn',
        DATA_DIR: this.dataDir,
        ISO_DIR: join(this.dataDir, 'iso'),
        FLEET_NAME: MEMORY_FLEET_NAME,
        IPMI_PORT_RANGE: `${IPMI_FIRST}-${IPMI_FIRST + RANGE_WIDTH - 1}`,
        VNC_PORT_RANGE: `${VNC_FIRST}-${VNC_FIRST + RANGE_WIDTH - 1}`,
        REDFISH_PORT_RANGE: `${REDFISH_FIRST}-${REDFISH_FIRST + RANGE_WIDTH - 1}`,
        NODE_IMAGE: 'bmcfleet/node:memory',
        // Sim nodes as one runtime node each: these fleets test nodes' own containers (farms: test/e2e/farm-nodes).
        SIM_PLACEMENT: 'container',
        RECONCILE_INTERVAL_S: '0',
      },
      { cwd: process.cwd() },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(this.config), ScheduleModule.forRoot(), DatabaseModule, DockerModule, NodesModule, MetricsModule, ReconcilerModule],
    })
      .overrideProvider(NodeRuntime).useValue(this.runtime)
      .overrideProvider(NodeBmc).useValue(this.bmc)
      .compile();
    this.app = moduleRef.createNestApplication({ logger: false });
    await this.app.init();
    this.prisma = this.app.get(PrismaService);
    this.nodes = this.app.get(NodesService);
    this.reconciler = this.app.get(ReconcilerService);
    // The run at start (an empty fleet): joined here so no test's run is that one.
    await this.reconciler.reconcileNow();
  }

  async close(): Promise<void> {
    await this.app?.close();
    if (this.dataDir !== '') rmSync(this.dataDir, { recursive: true, force: true });
  }

  async row(name: string): Promise<NodeWithLeases | null> {
    return this.prisma.node.findUnique({ where: { name }, include: { leases: true } });
  }

  async events(name: string): Promise<string[]> {
    const node = await this.prisma.node.findUnique({ where: { name } });
    if (node === null) return [];
    return (await this.prisma.nodeEvent.findMany({ where: { nodeId: node.id }, orderBy: { id: 'asc' } })).map((event) => `${event.type}: ${event.message}`);
  }

  /** The runtime ref of a node of this fleet. */
  ref(name: string): string {
    return `${MEMORY_FLEET_NAME}-${name}`;
  }
}
