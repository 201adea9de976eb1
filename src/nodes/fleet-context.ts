/** What the nodes service, the runtime and the reconciler share about the fleet: its id and the nodes' event history. */

/** The fleet's id (Fleet row), read or created once at start; runtime objects carry it as their owner mark. */
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
  | 'error';
