/**
 * Why a NodeRuntime call failed, in no engine's terms. Callers react to the class (lease another
 * port, answer 409 or 503); the message names the operation, the object and the engine's own text.
 */

export abstract class RuntimeError extends Error {
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A published port is held by something outside the fleet: lease another and try again. */
export class PortInUseError extends RuntimeError {
  constructor(
    /** The port, when the engine named it (null: one of the spec's ports). */
    readonly port: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** The node (or the object asked for) does not exist (any more). */
export class NodeNotFoundError extends RuntimeError {
  constructor(readonly ref: string, message: string) {
    super(message);
  }
}

/** The node's name is held by something that is not this node (another fleet's, a stranger's). */
export class NameTakenError extends RuntimeError {
  constructor(readonly ref: string, message: string) {
    super(message);
  }
}

/** The node image is not there to run (build it, or fix NODE_IMAGE). */
export class ImageMissingError extends RuntimeError {
  constructor(readonly image: string, message: string) {
    super(message);
  }
}

/** The runtime cannot run the node as specified (e.g. KVM asked for where no task can have it). */
export class NodeSpecRefusedError extends RuntimeError {
  constructor(message: string) {
    super(message);
  }
}

/** A network a node cannot use: missing, or one that would cut off its published ports. */
export class NetworkRefusedError extends RuntimeError {
  constructor(readonly network: string, message: string) {
    super(message);
  }
}

/** The engine does not answer, or failed in a way the caller cannot act on. */
export class RuntimeUnavailableError extends RuntimeError {
  constructor(message: string) {
    super(message);
  }
}
