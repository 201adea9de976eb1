/**
 * What one reconciler run must do (pure): a diff of the database (node rows, port leases) against
 * what the runtime runs (the fleet's runtime nodes, NodeRuntime.list), as a plan of actions the
 * ReconcilerService carries out.
 *
 * Rows in "creating" or "deleting" are in the hands of an API request while it runs; the reconciler
 * takes them over only when they are left over from an earlier process or have not moved for a while
 * (`settledBefore`), so it never races a create that is still choosing ports.
 */
import type { PortRange } from '../config/app-config';
import type { OwnedNode, RuntimeNodeState } from '../runtime/node-runtime';
import { isLeaseKind, LEASE_KIND_INFO, leaseRange } from '../nodes/lease-kinds';
import type { NodeState, NodeWithLeases } from '../nodes/node.model';

export interface LeaseRow {
  readonly id: number;
  /** The host the port is leased on ("" : every host). */
  readonly host: string;
  readonly kind: string;
  readonly port: number;
  readonly nodeId: string;
}

export interface PlanInput {
  readonly nodes: readonly NodeWithLeases[];
  /** Every lease row (leases of missing nodes included, which node.leases cannot show). */
  readonly leases: readonly LeaseRow[];
  /** The fleet's runtime nodes (listed before the rows were read, see ReconcilerService). */
  readonly instances: readonly OwnedNode[];
  readonly ipmiPortRange: PortRange;
  readonly vncPortRange: PortRange;
  readonly redfishPortRange: PortRange;
  /** A "creating" or "deleting" row last updated before this is no longer in a request's hands. */
  readonly settledBefore: Date;
}

/** recreate: runtime node missing; restart: stopped; resume: running, but the row says it never came up; unpause: paused. */
export type ContainerRepair = 'recreate' | 'restart' | 'resume' | 'unpause';

export interface ReconcilePlan {
  /** Rows in "deleting": remove the runtime node (purge as the row says), then the row. */
  readonly finishDeletes: readonly NodeWithLeases[];
  /**
   * Rows in "creating" no request holds any more (its process died before it answered): undo them,
   * as a failed create would. The caller never saw a 201, so never saw a generated password; the
   * same create again then succeeds and shows it.
   */
  readonly rollbacks: readonly NodeWithLeases[];
  /** Runtime nodes that are ours but belong to no row's current one: remove (no observation needed). */
  readonly removals: readonly { readonly instance: OwnedNode; readonly nodeId: string | null; readonly reason: string }[];
  /** Runtime nodes whose node id has no row: observe, then adopt or remove. */
  readonly orphans: readonly OwnedNode[];
  /** Rows whose runtime node is missing, not running, or running under a failed row: ensureRunning. */
  readonly repairs: readonly { readonly node: NodeWithLeases; readonly repair: ContainerRepair; readonly why: string }[];
  /** Leases to delete. */
  readonly freeLeases: readonly { readonly lease: LeaseRow; readonly reason: string }[];
  /** Problems the reconciler reports but does not repair (repairing would break a working node). */
  readonly warnings: readonly string[];
  /** Running nodes whose power state to read from their BMC. */
  readonly powerChecks: readonly NodeWithLeases[];
}


/**
 * What a running row's runtime node in that state needs: null nothing; wait: the runtime is busy with
 * it (look again next run); unreachable: its host does not answer (leave it); the rest a repair.
 */
function repairOf(state: RuntimeNodeState): Exclude<ContainerRepair, 'resume'> | 'wait' | 'unreachable' | null {
  switch (state) {
    case 'running':
      return null;
    case 'changing':
      return 'wait';
    case 'unreachable':
      return 'unreachable';
    case 'broken':
      return 'recreate';
    case 'paused':
      return 'unpause';
    case 'stopped':
      return 'restart';
  }
}

function isSettled(node: NodeWithLeases, settledBefore: Date): boolean {
  return node.updatedAt.getTime() < settledBefore.getTime();
}

export function planReconcile(input: PlanInput): ReconcilePlan {
  const finishDeletes: NodeWithLeases[] = [];
  const rollbacks: NodeWithLeases[] = [];
  const removals: { instance: OwnedNode; nodeId: string | null; reason: string }[] = [];
  const repairs: { node: NodeWithLeases; repair: ContainerRepair; why: string }[] = [];
  const powerChecks: NodeWithLeases[] = [];

  const instancesByRef = new Map(input.instances.map((instance) => [instance.ref, instance]));
  const rowsById = new Map(input.nodes.map((node) => [node.id, node]));
  /** Refs some row accounts for (its own runtime node, repaired or not). */
  const claimed = new Set<string>();
  const warnings: string[] = [];

  for (const node of input.nodes) {
    claimed.add(node.runtimeRef);
    const state = node.state as NodeState;
    const instance = instancesByRef.get(node.runtimeRef);
    if (state === 'deleting') {
      if (isSettled(node, input.settledBefore)) finishDeletes.push(node);
      continue;
    }
    if (state === 'creating') {
      if (isSettled(node, input.settledBefore)) rollbacks.push(node);
      continue;
    }

    const ref = node.runtimeRef;
    if (instance === undefined) {
      repairs.push({ node, repair: 'recreate', why: `${ref} is missing` });
      continue;
    }
    if (instance.nodeId !== node.id) {
      // An old runtime node of a node of the same name: it must go before this node's is made.
      removals.push({ instance, nodeId: node.id, reason: `it was left by an earlier node named ${node.name} (node id ${instance.nodeId ?? 'none'})` });
      repairs.push({ node, repair: 'recreate', why: `${ref} belonged to an earlier node of that name` });
      continue;
    }
    const repair = repairOf(instance.state);
    if (repair === 'wait') continue;
    if (repair === 'unreachable') {
      // Its disk may still be on that host: never re-created elsewhere; the operator decides.
      warnings.push(`node ${node.name}: its host ${instance.host} does not answer; it is left as it is until the host is back or the node is deleted`);
      continue;
    }
    if (repair === 'recreate') {
      removals.push({ instance, nodeId: node.id, reason: `it is ${instance.state} and cannot be started again` });
      repairs.push({ node, repair, why: `${ref} was ${instance.state}` });
      continue;
    }
    if (repair !== null) {
      repairs.push({ node, repair, why: `${ref} was ${instance.state}` });
      continue;
    }
    if (state !== 'running') {
      // A failed node may have stopped between start and its networks: finish it.
      repairs.push({ node, repair: 'resume', why: `${ref} runs but the node is ${state}` });
    } else {
      powerChecks.push(node);
    }
  }

  const orphans: OwnedNode[] = [];
  for (const instance of input.instances) {
    if (claimed.has(instance.ref)) continue;
    const owner = instance.nodeId === null ? undefined : rowsById.get(instance.nodeId);
    if (owner !== undefined) {
      removals.push({ instance, nodeId: owner.id, reason: `node ${owner.name} runs as ${owner.runtimeRef}; this is a stray copy` });
    } else {
      orphans.push(instance);
    }
  }

  const freeLeases: { lease: LeaseRow; reason: string }[] = [];
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
