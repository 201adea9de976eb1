/**
 * Where the containerlab renderer reads the fleet from (the nodes module provides it). The abstract
 * class is the DI token.
 */
import type { NodeContainerSpec } from '../docker/docker-adapter';
import type { NodeView } from '../nodes/node.model';

export interface ContainerlabNodeRecord {
  /** toNodeView(row, publishAddress): name, container name, IPMI/VNC endpoints, labInterfaces, … */
  readonly view: NodeView;
  /**
   * nodeContainerSpec(row, context): the container the orchestrator runs for this node, rendered as
   * a `kind: linux` node in linux mode. Its env holds IPMI_PASS: the renderer never copies it out.
   */
  readonly spec: NodeContainerSpec;
}

export abstract class ContainerlabNodeSource {
  /** Every node row of the fleet (any state, any order). */
  abstract list(): Promise<ContainerlabNodeRecord[]>;
}
