/**
 * Why a topology cannot be rendered. Thrown by the pure renderer and link parser before anything is
 * rendered; the controller maps each code to an HTTP status (containerlab-http.ts).
 */

export const ContainerlabErrorCode = {
  /** The lab name is one containerlab's schema refuses. */
  InvalidLabName: 'CONTAINERLAB_INVALID_LAB_NAME',
  /** The links text or a link's endpoints are malformed. */
  InvalidLink: 'CONTAINERLAB_INVALID_LINK',
  /** A node name containerlab would refuse. */
  InvalidNodeName: 'CONTAINERLAB_INVALID_NODE_NAME',
  /** An interface name Linux (and so containerlab's veth) would refuse. */
  InvalidInterfaceName: 'CONTAINERLAB_INVALID_INTERFACE_NAME',
  /** A link uses an interface of a fleet node that the node did not declare in labInterfaces. */
  InterfaceNotDeclared: 'CONTAINERLAB_INTERFACE_NOT_DECLARED',
  /** The same node:interface appears twice. */
  DuplicateEndpoint: 'CONTAINERLAB_DUPLICATE_ENDPOINT',
  /** A link names a fleet node that the selection leaves out. */
  NodeNotSelected: 'CONTAINERLAB_NODE_NOT_SELECTED',
  /** The selection names nodes the fleet does not have. */
  UnknownNode: 'CONTAINERLAB_UNKNOWN_NODE',
  /** The selection names a node that is being deleted. */
  NodeDeleting: 'CONTAINERLAB_NODE_DELETING',
  /** A node that `kind: linux` cannot express (Docker networks, an IPv6 publish address, …). */
  NotRenderable: 'CONTAINERLAB_NOT_RENDERABLE',
} as const;
export type ContainerlabErrorCode = (typeof ContainerlabErrorCode)[keyof typeof ContainerlabErrorCode];

export class ContainerlabError extends Error {
  constructor(
    readonly code: ContainerlabErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerlabError';
  }
}
