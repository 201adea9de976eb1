/**
 * The fleet's live feed for browsers: while anyone listens, it compares the fleet's rows every
 * SCAN_INTERVAL_MS (and at once when poked) and the node event table, and tells every listener what
 * changed. Reading the database, not hooking each writer, catches every change whoever made it
 * (requests, the reconciler, the power watch, another process). Nothing runs while nobody listens.
 */
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { messageOf } from '../common/errors/message-of';
import { PrismaService } from '../database/prisma.service';
import { NodesService } from '../nodes/nodes.service';
import { toNodeView, type NodeView, type NodeWithLeases } from '../nodes/node.model';
import { diffFleet, type FleetMessage } from './fleet-message';
import { HostAddresses } from '../nodes/host-addresses.service';

export const SCAN_INTERVAL_MS = 250;
/** Node events sent per scan at most; the rest follow in the next scans. */
const EVENTS_PER_SCAN = 500;

export type FleetListener = (message: FleetMessage) => void;

@Injectable()
export class FleetWatch implements BeforeApplicationShutdown {
  private readonly logger = new Logger('FleetWatch');
  private readonly listeners = new Set<FleetListener>();
  private keys = new Map<string, string>();
  private views: NodeView[] = [];
  private rowsSeen: NodeWithLeases[] = [];
  private lastEventId = 0;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private again = false;
  private readonly watchers = new Set<(running: boolean) => void>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly nodes: NodesService,
    private readonly addresses: HostAddresses,
  ) {}

  /** Adds a listener; resolves with the fleet as it is now (send it first) and the way to leave. */
  async subscribe(listener: FleetListener): Promise<{ snapshot: readonly NodeView[]; unsubscribe: () => void }> {
    if (this.listeners.size === 0 && this.timer === null) await this.begin();
    else await this.scan();
    this.listeners.add(listener);
    return {
      snapshot: this.views,
      unsubscribe: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.end();
      },
    };
  }

  /** Scans now (a writer that knows it changed something need not wait for the next interval). */
  poke(): void {
    void this.scan();
  }

  /** Rows of the last scan (the power watch reads which nodes run). */
  get rows(): readonly NodeWithLeases[] {
    return this.rowsSeen;
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  /** Called with true when the first listener comes and false when the last leaves. */
  onListening(watcher: (running: boolean) => void): void {
    this.watchers.add(watcher);
  }

  beforeApplicationShutdown(): void {
    this.listeners.clear();
    this.end();
  }

  private async begin(): Promise<void> {
    const last = await this.prisma.nodeEvent.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
    this.lastEventId = last?.id ?? 0;
    this.keys = new Map();
    await this.scan();
    this.timer = setInterval(() => void this.scan(), SCAN_INTERVAL_MS);
    this.timer.unref();
    for (const watcher of this.watchers) watcher(true);
  }

  private end(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    for (const watcher of this.watchers) watcher(false);
  }

  /** One scan at a time; a scan asked for during one runs right after it. */
  private scan(): Promise<void> {
    if (this.scanning !== null) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((error: unknown) => this.logger.warn(`fleet scan failed: ${messageOf(error)}`))
      .finally(() => {
        this.scanning = null;
        if (this.again) {
          this.again = false;
          void this.scan();
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const [rows, addressOf] = await Promise.all([this.nodes.rows(), this.addresses.resolver()]);
    const views = rows.map((row) => toNodeView(row, addressOf(row.host)));
    const { changed, removed, keys } = diffFleet(this.keys, views);
    this.rowsSeen = rows;
    this.views = views;
    this.keys = keys;
    for (const node of changed) this.send({ kind: 'node', node });
    for (const name of removed) this.send({ kind: 'node-removed', name });
    const events = await this.prisma.nodeEvent.findMany({
      where: { id: { gt: this.lastEventId } },
      orderBy: { id: 'asc' },
      take: EVENTS_PER_SCAN,
      include: { node: { select: { name: true } } },
    });
    for (const event of events) {
      this.lastEventId = event.id;
      this.send({ kind: 'node-event', event: { id: event.id, name: event.node.name, at: event.at.toISOString(), type: event.type, message: event.message } });
    }
  }

  private send(message: FleetMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}
