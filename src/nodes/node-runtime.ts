/**
 * Brings one node's Docker objects in line with its row (lead engineer implements it in
 * node-runtime.service.ts). The create path and the reconciler share it, so a node the reconciler
 * repairs is exactly the node a create makes.
 */
import type { NodeWithLeases } from './node.model';

export abstract class NodeRuntime {
  /**
   * Makes the node's volume and container exist and run, with its networks attached (idempotent);
   * stores the container id on the row; returns it. Throws with Docker's message when it cannot.
   */
  abstract ensureRunning(node: NodeWithLeases): Promise<string>;
  /**
   * Removes the node's container (and, with purge, its /vm volume); succeeds when they are already
   * gone. Touches only what its labels say is this node's (container: this fleet and node id) or this
   * fleet's (the volume, which may have served earlier nodes of that name); anything else holding the
   * name is left alone and logged.
   */
  abstract removeContainer(node: NodeRef, purge: boolean): Promise<void>;
  /**
   * Undoes a create that did not finish: the container if it is this node's, and the volume only when
   * this node made it (its node-id label is this node's id: a kept disk of an earlier node, or a
   * stranger's volume, stays).
   */
  abstract discard(node: NodeRef): Promise<void>;
}

/** What removal needs to know of a node. */
export type NodeRef = Pick<NodeWithLeases, 'id' | 'name' | 'containerName' | 'volumeName'>;

/** The fleet's id (Fleet row), read or created once at start; Docker objects carry it as a label. */
export abstract class FleetIdentity {
  abstract readonly fleetId: string;
}

/** Appends to a node's event history (NodeEvent rows); also logs the event. Never throws. */
export abstract class NodeEvents {
  abstract record(nodeId: string, type: NodeEventType, message: string): Promise<void>;
}

export type NodeEventType =
  | 'created'
  | 'started'
  | 'power'
  | 'repaired'
  | 'adopted'
  | 'removed-orphan'
  | 'lease-freed'
  | 'deleting'
  | 'bmc-unreachable'
  | 'bmc-reachable'
  /** A fault rule added, removed, or acting (rate-limited: src/faults/fault-report.ts). */
  | 'fault'
  | 'error';
