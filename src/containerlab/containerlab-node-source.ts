/**
 * Where the containerlab renderer reads the fleet from (the nodes module provides it). The abstract
 * class is the DI token.
 */
import type { NodeSpec } from '../runtime/node-runtime';
import type { NodeView } from '../nodes/node.model';

export interface ContainerlabNodeRecord {
  /** toNodeView(row, publishAddress): name, container name, IPMI/VNC endpoints, labInterfaces, … */
  readonly view: NodeView;
  /**
   * nodeSpec(row, context): what the runtime runs for this node, rendered as a `kind: linux` node in
   * linux mode. Its env holds IPMI_PASS: the renderer never copies it out.
   */
  readonly spec: NodeSpec;
}

export abstract class ContainerlabNodeSource {
  /** Every node row of the fleet (any state, any order). */
  abstract list(): Promise<ContainerlabNodeRecord[]>;
}
