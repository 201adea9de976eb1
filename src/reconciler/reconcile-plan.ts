/**
 * What one reconciler run must do (pure): a diff of the database (node rows, port leases) against
 * what Docker runs (the fleet's containers), as a plan of actions the ReconcilerService carries out.
 *
 * Rows in "creating" or "deleting" are in the hands of an API request while it runs; the reconciler
 * takes them over only when they are left over from an earlier process or have not moved for a while
 * (`settledBefore`), so it never races a create that is still choosing ports.
 */
import type { PortRange } from '../config/app-config';
import { LABELS, type ContainerState, type ManagedContainer } from '../docker/docker-adapter';
import { isLeaseKind, LEASE_KIND_INFO, leaseRange } from '../nodes/lease-kinds';
import type { NodeState, NodeWithLeases } from '../nodes/node.model';

export interface LeaseRow {
  readonly id: number;
  readonly kind: string;
  readonly port: number;
  readonly nodeId: string;
}

export interface PlanInput {
  readonly nodes: readonly NodeWithLeases[];
  /** Every lease row (leases of missing nodes included, which node.leases cannot show). */
  readonly leases: readonly LeaseRow[];
  /** The fleet's containers (listed before the rows were read, see ReconcilerService). */
  readonly containers: readonly ManagedContainer[];
  readonly ipmiPortRange: PortRange;
  readonly vncPortRange: PortRange;
  readonly redfishPortRange: PortRange;
  /** A "creating" or "deleting" row last updated before this is no longer in a request's hands. */
  readonly settledBefore: Date;
}

/** recreate: container missing; restart: container stopped; resume: running, but the row says it never came up. */
export type ContainerRepair = 'recreate' | 'restart' | 'resume' | 'unpause';

export interface ReconcilePlan {
  /** Rows in "deleting": remove the container (purge as the row says), then the row. */
  readonly finishDeletes: readonly NodeWithLeases[];
  /**
   * Rows in "creating" no request holds any more (its process died before it answered): undo them,
   * as a failed create would. The caller never saw a 201, so never saw a generated password; the
   * same create again then succeeds and shows it.
   */
  readonly rollbacks: readonly NodeWithLeases[];
  /** Containers that are ours but belong to no row's current container: remove (no inspection needed). */
  readonly removals: readonly { readonly container: ManagedContainer; readonly nodeId: string | null; readonly reason: string }[];
  /** Containers whose node id has no row: inspect, then adopt or remove. */
  readonly orphans: readonly ManagedContainer[];
  /** Rows whose container is missing, not running, or running under a failed row: ensureRunning. */
  readonly repairs: readonly { readonly node: NodeWithLeases; readonly repair: ContainerRepair; readonly why: string }[];
  /** Leases to delete. */
  readonly freeLeases: readonly { readonly lease: LeaseRow; readonly reason: string }[];
  /** Problems the reconciler reports but does not repair (repairing would break a working node). */
  readonly warnings: readonly string[];
  /** Running nodes whose power state to read from their BMC. */
  readonly powerChecks: readonly NodeWithLeases[];
}

/** Docker is busy with these containers itself; look again next run. */
const TRANSIENT_STATES: ReadonlySet<ContainerState> = new Set(['restarting', 'removing']);
/** States from which `docker start` cannot bring a container back: remove it and create anew. */
const BROKEN_STATES: ReadonlySet<ContainerState> = new Set(['dead']);

function isSettled(node: NodeWithLeases, settledBefore: Date): boolean {
  return node.updatedAt.getTime() < settledBefore.getTime();
}

export function planReconcile(input: PlanInput): ReconcilePlan {
  const finishDeletes: NodeWithLeases[] = [];
  const rollbacks: NodeWithLeases[] = [];
  const removals: { container: ManagedContainer; nodeId: string | null; reason: string }[] = [];
  const repairs: { node: NodeWithLeases; repair: ContainerRepair; why: string }[] = [];
  const powerChecks: NodeWithLeases[] = [];

  const containersByName = new Map(input.containers.map((container) => [container.name, container]));
  const rowsById = new Map(input.nodes.map((node) => [node.id, node]));
  /** Container names some row accounts for (its own container, repaired or not). */
  const claimed = new Set<string>();

  for (const node of input.nodes) {
    claimed.add(node.containerName);
    const state = node.state as NodeState;
    const container = containersByName.get(node.containerName);
    if (state === 'deleting') {
      if (isSettled(node, input.settledBefore)) finishDeletes.push(node);
      continue;
    }
    if (state === 'creating') {
      if (isSettled(node, input.settledBefore)) rollbacks.push(node);
      continue;
    }

    if (container === undefined) {
      repairs.push({ node, repair: 'recreate', why: `container ${node.containerName} is missing` });
      continue;
    }
    if (container.labels[LABELS.nodeId] !== node.id) {
      // An old container of a node of the same name: it must go before this node's is created.
      removals.push({ container, nodeId: node.id, reason: `it was left by an earlier node named ${node.name} (node id ${container.labels[LABELS.nodeId] ?? 'none'})` });
      repairs.push({ node, repair: 'recreate', why: `container ${node.containerName} belonged to an earlier node of that name` });
      continue;
    }
    if (TRANSIENT_STATES.has(container.state)) continue;
    if (BROKEN_STATES.has(container.state)) {
      removals.push({ container, nodeId: node.id, reason: `it is ${container.state} and cannot be started again` });
      repairs.push({ node, repair: 'recreate', why: `container ${node.containerName} was ${container.state}` });
      continue;
    }
    if (container.state === 'paused') {
      repairs.push({ node, repair: 'unpause', why: `container ${node.containerName} was paused` });
      continue;
    }
    if (container.state !== 'running') {
      repairs.push({ node, repair: 'restart', why: `container ${node.containerName} was ${container.state}` });
      continue;
    }
    if (state !== 'running') {
      // A failed node's container may have stopped between start and its networks: finish it.
      repairs.push({ node, repair: 'resume', why: `container ${node.containerName} runs but the node is ${state}` });
    } else {
      powerChecks.push(node);
    }
  }

  const orphans: ManagedContainer[] = [];
  for (const container of input.containers) {
    if (claimed.has(container.name)) continue;
    const nodeId = container.labels[LABELS.nodeId] ?? null;
    const owner = nodeId === null ? undefined : rowsById.get(nodeId);
    if (owner !== undefined) {
      removals.push({ container, nodeId: owner.id, reason: `node ${owner.name} runs as ${owner.containerName}; this is a stray copy` });
    } else {
      orphans.push(container);
    }
  }

  const freeLeases: { lease: LeaseRow; reason: string }[] = [];
  const warnings: string[] = [];
  for (const lease of input.leases) {
    const owner = rowsById.get(lease.nodeId);
    if (owner === undefined) {
      freeLeases.push({ lease, reason: `${lease.kind} port ${lease.port} was leased to node id ${lease.nodeId}, which no longer exists` });
      continue;
    }
    if (!isLeaseKind(lease.kind)) {
      freeLeases.push({ lease, reason: `node ${owner.name} held a lease of unknown kind ${JSON.stringify(lease.kind)} on port ${lease.port}` });
      continue;
    }
    const range = leaseRange(input, lease.kind);
    if (lease.port < range.first || lease.port > range.last) {
      // Freeing it would leave the node without its published port; the operator decides.
      warnings.push(
        `node ${owner.name} holds ${lease.kind} port ${lease.port}, outside ${LEASE_KIND_INFO[lease.kind].rangeVariable} ` +
          `${range.first}-${range.last}; it keeps the port until it is deleted and created again`,
      );
    }
  }

  return { finishDeletes, rollbacks, removals, orphans, repairs, freeLeases, warnings, powerChecks };
}
