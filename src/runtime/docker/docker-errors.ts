/** Docker's answers in the runtime's terms (pure): container states and DockerAdapterError kinds. */
import type { ContainerState, DockerAdapterError } from '../../docker/docker-adapter';
import type { NodeSpec, RuntimeNodeState } from '../node-runtime';
import {
  ImageMissingError, NameTakenError, NodeNotFoundError, PortInUseError, RuntimeError, RuntimeUnavailableError,
} from '../runtime-errors';

const STATES: Readonly<Record<ContainerState, RuntimeNodeState>> = {
  created: 'stopped',
  exited: 'stopped',
  running: 'running',
  paused: 'paused',
  restarting: 'changing',
  removing: 'changing',
  dead: 'broken',
};

export function runtimeStateOf(state: ContainerState): RuntimeNodeState {
  return STATES[state];
}

/** The host port Docker names in a bind failure ("Bind for 127.0.0.1:16230 failed", "listen udp4 127.0.0.1:16230: bind"). */
export function portOfBindFailure(message: string): number | null {
  const match = /:(\d{1,5})(?: failed|: bind)/.exec(message);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * The runtime error for a failed Engine API call: port-in-use → PortInUseError (with the port when
 * Docker names it), image-missing → ImageMissingError, conflict → NameTakenError, not-found →
 * NodeNotFoundError, the rest → RuntimeUnavailableError ("Docker engine: …").
 */
export function runtimeErrorOf(error: DockerAdapterError, what: string, spec?: NodeSpec): RuntimeError {
  switch (error.kind) {
    case 'port-in-use':
      return new PortInUseError(portOfBindFailure(error.message), error.message);
    case 'image-missing':
      return new ImageMissingError(spec?.image ?? '', error.message);
    case 'conflict':
      return new NameTakenError(spec?.ref ?? what, error.message);
    case 'not-found':
      return new NodeNotFoundError(spec?.ref ?? what, error.message);
    case 'engine':
      return new RuntimeUnavailableError(`Docker engine: ${error.message}`);
  }
}
