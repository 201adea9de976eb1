/**
 * Live power states while the fleet is watched: the reconciler reads every node's power only every
 * RECONCILE_INTERVAL_S, too slow for a page where a change made with ipmitool must show within
 * seconds. While the fleet feed has listeners, this keeps one USER-privilege IPMI session per running
 * node and reads Get Chassis Status every POWER_POLL_MS; a state that differs from the row is stored
 * (as the reconciler would) and the feed is poked. Polling stops when the last listener leaves; the
 * sessions close LINGER_MS later, so a page reloaded (or a browser moving from page to page) does not
 * open every session again.
 * A session that fails is dropped and opened again at a later tick; marking a BMC unreachable stays
 * the reconciler's decision.
 */
import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BmcPowerSession, NodeBmc } from '../bmc/node-bmc';
import { messageOf } from '../common/errors/message-of';
import { PrismaService } from '../database/prisma.service';
import { bmcTargetOf, type NodeWithLeases } from '../nodes/node.model';
import { FleetWatch } from './fleet-watch.service';
import { HostAddresses } from '../nodes/host-addresses.service';

export const POWER_POLL_MS = 700;
/** How long the sessions stay open after the last listener left. */
export const LINGER_MS = 30_000;
/** A session that failed is tried again after this long. */
const REOPEN_AFTER_MS = 5_000;
const PATIENCE = { timeoutMs: 1000, retries: 1 };

interface Watched {
  session: BmcPowerSession | null;
  busy: boolean;
  failedAt: number;
  /** The session's target, so a node whose port or password changed gets a new one. */
  key: string;
}

@Injectable()
export class PowerWatch implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('PowerWatch');
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private lingering: NodeJS.Timeout | null = null;

  constructor(
    private readonly prisma: PrismaService,
    private readonly bmc: NodeBmc,
    private readonly fleet: FleetWatch,
    private readonly addresses: HostAddresses,
  ) {}

  onModuleInit(): void {
    this.fleet.onListening((listening) => (listening ? this.start() : this.stopLater()));
  }

  /** Stops polling now (nobody watches the rows); the sessions close after LINGER_MS unless wanted again. */
  private stopLater(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.lingering !== null) return;
    this.lingering = setTimeout(() => {
      this.lingering = null;
      void this.stop();
    }, LINGER_MS);
    this.lingering.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private start(): void {
    if (this.lingering !== null) clearTimeout(this.lingering);
    this.lingering = null;
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), POWER_POLL_MS);
    this.timer.unref();
    this.tick();
  }

  private async stop(): Promise<void> {
    if (this.lingering !== null) clearTimeout(this.lingering);
    this.lingering = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const sessions = [...this.watched.values()].map((entry) => entry.session);
    this.watched.clear();
    await Promise.all(sessions.map((session) => session?.close()));
  }

  private tick(): void {
    const running = this.fleet.rows.filter((row) => row.state === 'running');
    const ids = new Set(running.map((row) => row.id));
    for (const [id, entry] of this.watched) {
      if (!ids.has(id)) {
        this.watched.delete(id);
        void entry.session?.close();
      }
    }
    for (const row of running) void this.check(row);
  }

  private async check(row: NodeWithLeases): Promise<void> {
    const target = bmcTargetOf(row, await this.addresses.of(row.host));
    const key = `${target.host}:${target.port}:${target.user}:${target.password}`;
    let entry = this.watched.get(row.id);
    if (entry !== undefined && entry.key !== key) {
      void entry.session?.close();
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { session: null, busy: false, failedAt: 0, key };
      this.watched.set(row.id, entry);
    }
    if (entry.busy || Date.now() - entry.failedAt < REOPEN_AFTER_MS) return;
    entry.busy = true;
    try {
      entry.session ??= await this.bmc.openPowerSession(target, PATIENCE);
      const state = await entry.session.powerStatus();
      if (state !== row.powerState && this.timer !== null) {
        await this.prisma.node.updateMany({ where: { id: row.id, state: 'running' }, data: { powerState: state, powerObservedAt: new Date(), bmcReachable: true } });
        this.fleet.poke();
      }
    } catch (error) {
      this.logger.debug(`power watch of ${row.name}: ${messageOf(error)}`);
      void entry.session?.close();
      entry.session = null;
      entry.failedAt = Date.now();
    } finally {
      entry.busy = false;
    }
  }
}
