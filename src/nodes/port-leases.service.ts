/**
 * Port leases in the database, per host: a node's row, its host and its leases (IPMI, VNC, Redfish)
 * on that host are written in one transaction; the unique (host, kind, port) constraint, not the
 * chooser, makes a lease exclusive, so a transaction that lost a race to a concurrent one is run
 * again. A lease of host "" (its node had no host when leases became per host) holds its port on
 * every host until the node's host is known (claimHost).
 */
import { ConflictException, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { Prisma } from '../generated/prisma/client';
import { LEASE_KIND_INFO, LEASE_KINDS, leaseRange, type LeaseKind } from './lease-kinds';
import type { NodeWithLeases } from './node.model';
import { pickFreePort, rangeText } from './port-allocation';
import { VM_MAC_ID_MAX, VM_MAC_ID_MIN } from '../../node-image/src/machine/vm-nics';

/** Lease transactions retried when concurrent creates pick the same port. */
const MAX_LEASE_ATTEMPTS = 20;
const includeLeases = { leases: true } as const;

/** Ports of each kind known to be busy outside the fleet on the node's host (a create's port-in-use retries). */
export type BusyPorts = Readonly<Record<LeaseKind, ReadonlySet<number>>>;

/** The lease host of a port held on every host (a lease made before leases were per host). */
export const ANY_HOST = '';

/** The host a node's new leases go on: its own, or every host while it has none. */
export function leaseHostOf(node: Pick<NodeWithLeases, 'host'>): string {
  return node.host ?? ANY_HOST;
}

export function noBusyPorts(): Record<LeaseKind, Set<number>> {
  return { ipmi: new Set(), vnc: new Set(), redfish: new Set() };
}

function isUniqueViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** The columns of the unique constraint a P2002 names (driver adapters put them under meta.driverAdapterError). */
function uniqueFields(error: Prisma.PrismaClientKnownRequestError): string[] {
  const meta = error.meta as { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: unknown } } } } | undefined;
  const fields = meta?.driverAdapterError?.cause?.constraint?.fields ?? meta?.target;
  return Array.isArray(fields) ? fields.filter((field): field is string => typeof field === 'string') : [];
}

/**
 * The block after the highest one in use (blocks are never handed out twice while their node exists;
 * a deleted node's block may come back only if it was the highest). Past VM_MAC_ID_MAX: the lowest free one.
 */
export async function nextMacId(tx: Prisma.TransactionClient): Promise<number> {
  return (await nextMacIds(tx, 1))[0] as number;
}

/** `count` free blocks as nextMacId picks one: after the highest in use, else the lowest free ones. */
export async function nextMacIds(tx: Prisma.TransactionClient, count: number): Promise<number[]> {
  if (count === 0) return [];
  const { _max } = await tx.node.aggregate({ _max: { macId: true } });
  const next = (_max.macId ?? 0) + 1;
  if (next + count - 1 <= VM_MAC_ID_MAX) return Array.from({ length: count }, (_, i) => next + i);
  const used = new Set((await tx.node.findMany({ where: { macId: { not: null } }, select: { macId: true } })).map((row) => row.macId));
  const free: number[] = [];
  for (let candidate = VM_MAC_ID_MIN; candidate <= VM_MAC_ID_MAX && free.length < count; candidate += 1) {
    if (!used.has(candidate)) free.push(candidate);
  }
  if (free.length < count) throw new ServiceUnavailableException(`${count} node(s) need as many VM MAC blocks and only ${free.length} of ${VM_MAC_ID_MAX} are free; delete nodes first`);
  return free;
}

@Injectable()
export class PortLeases {
  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
  ) {}

  /**
   * Inserts the row and one lease of every kind in one transaction: the host first (`place`, given the
   * fleet's nodes per host as the transaction sees them, so concurrent creates spread), then the
   * lowest free ports on it, with the next MAC block (macId: VM_MAC_ID); a concurrent create that
   * took the same block is a unique violation like a port race, and the transaction runs again.
   */
  insertWithLeases(data: Omit<Prisma.NodeUncheckedCreateInput, 'host'>, busy: BusyPorts, place: (nodesPerHost: ReadonlyMap<string, number>) => string): Promise<NodeWithLeases> {
    return this.retryOnPortRace(
      () =>
        this.prisma.$transaction(async (tx) => {
          const counts = await tx.node.groupBy({ by: ['host'], _count: { _all: true } });
          const host = place(new Map(counts.flatMap((row) => (row.host === null ? [] : [[row.host, row._count._all] as const]))));
          const create = await this.freePorts(tx, host, LEASE_KINDS, busy);
          const macId = await nextMacId(tx);
          return tx.node.create({ data: { ...data, host, macId, leases: { create } }, include: includeLeases });
        }),
      (fields) => {
        // The container name is derived from the node name: either constraint means the same thing.
        if (fields.includes('name') || fields.includes('runtimeRef')) throw new ConflictException(`node ${String(data.name)} already exists`);
      },
    );
  }

  /** Moves every lease to other free ports of the node's host (the old ones are busy outside the fleet there). */
  releaseLeases(node: NodeWithLeases, busy: BusyPorts): Promise<NodeWithLeases> {
    return this.retryOnPortRace(() =>
      this.prisma.$transaction(async (tx) => {
        const leases = await this.freePorts(tx, leaseHostOf(node), LEASE_KINDS, busy);
        await tx.portLease.deleteMany({ where: { nodeId: node.id } });
        await tx.portLease.createMany({ data: leases.map((lease) => ({ ...lease, nodeId: node.id })) });
        return tx.node.findUniqueOrThrow({ where: { id: node.id }, include: includeLeases });
      }),
    );
  }

  /** Leases the kinds a node made before they existed lacks (e.g. Redfish); the node as it is otherwise. */
  withAllLeases(node: NodeWithLeases): Promise<NodeWithLeases> {
    const missing = LEASE_KINDS.filter((kind) => !node.leases.some((lease) => lease.kind === kind));
    if (missing.length === 0) return Promise.resolve(node);
    return this.retryOnPortRace(() =>
      this.prisma.$transaction(async (tx) => {
        const leases = await this.freePorts(tx, leaseHostOf(node), missing, noBusyPorts());
        // A concurrent call that already leased the kind wins; the row then shows its port.
        for (const lease of leases) {
          const held = await tx.portLease.findFirst({ where: { nodeId: node.id, kind: lease.kind } });
          if (held === null) await tx.portLease.create({ data: { ...lease, nodeId: node.id } });
        }
        return tx.node.findUniqueOrThrow({ where: { id: node.id }, include: includeLeases });
      }),
    );
  }

  /**
   * Gives the node's leases of host "" (made before leases were per host) the host it now runs on.
   * Safe: while their host was "", no lease on any host could take their ports.
   */
  async claimHost(nodeId: string, host: string): Promise<void> {
    await this.prisma.portLease.updateMany({ where: { nodeId, host: ANY_HOST }, data: { host } });
  }

  private async freePorts(tx: Prisma.TransactionClient, host: string, kinds: readonly LeaseKind[], busy: BusyPorts): Promise<{ host: string; kind: LeaseKind; port: number }[]> {
    const leases: { host: string; kind: LeaseKind; port: number }[] = [];
    for (const kind of kinds) leases.push({ host, kind, port: await this.freePort(tx, host, kind, busy[kind]) });
    return leases;
  }

  private async freePort(tx: Prisma.TransactionClient, host: string, kind: LeaseKind, avoid: ReadonlySet<number>): Promise<number> {
    const range = leaseRange(this.config, kind);
    // On a host: its own leases and the ones held on every host; for "every host": all of them.
    const where = host === ANY_HOST ? { kind } : { kind, host: { in: [host, ANY_HOST] } };
    const leased = await tx.portLease.findMany({ where, select: { port: true } });
    const port = pickFreePort(range, new Set(leased.map((lease) => lease.port)), avoid);
    if (port === null) {
      const info = LEASE_KIND_INFO[kind];
      throw new ServiceUnavailableException(`no free ${info.title} port left in ${info.rangeVariable} ${rangeText(range)}${host === ANY_HOST ? '' : ` on host ${host}`}; delete nodes or widen the range`);
    }
    return port;
  }

  /**
   * Runs a lease-taking transaction again when a concurrent one took the same port (P2002 on
   * (host, kind, port)); onConflict may turn other unique violations into an answer first.
   */
  private async retryOnPortRace<T>(work: () => Promise<T>, onConflict: (fields: string[]) => void = () => undefined): Promise<T> {
    for (let attempt = 0; attempt < MAX_LEASE_ATTEMPTS; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        onConflict(uniqueFields(error));
      }
    }
    throw new ServiceUnavailableException(`could not lease ports after ${MAX_LEASE_ATTEMPTS} attempts; too many concurrent creates`);
  }
}
