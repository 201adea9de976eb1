/**
 * Pure translations between the DockerAdapter's terms and the Engine API's (as dockerode types it):
 * a NodeContainerSpec → create options, inspect and list answers → InspectedContainer /
 * ManagedContainer / NetworkInfo, and a dockerode failure → DockerAdapterError. No I/O here, so
 * every rule is unit-tested (dockerode-mapping.spec.ts); dockerode-adapter.ts does the calls.
 */
import type Dockerode from 'dockerode';
import {
  ContainerState,
  DockerAdapterError,
  DockerAdapterErrorKind,
  ContainerExit,
  InspectedContainer,
  LABELS,
  ManagedContainer,
  NetworkInfo,
  NodeContainerSpec,
  PublishedPort,
} from './docker-adapter';

/** Where the node's named volume is mounted (disk, NVRAM, BMC state: design.md section 1). */
export const VM_MOUNT_PATH = '/vm';
/** Restarted with the engine, unless someone stopped it on purpose. */
export const RESTART_POLICY = 'unless-stopped';

export const NANO_CPUS_PER_CPU = 1e9;
/** The log driver `docker logs` reads everywhere; rotated by size (ContainerLimits). */
export const LOG_DRIVER = 'json-file';

const CONTAINER_STATES: readonly ContainerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];
const PORT_IN_USE = /port is already allocated|address already in use/i;
const NO_SUCH_IMAGE = /no such image/i;
const HTTP_NOT_FOUND = 404;
const HTTP_CONFLICT = 409;
/** docker-modem's message prefix: "(HTTP code 409) unexpected - ". */
const MODEM_PREFIX = /^\(HTTP code \d+\) [^-]*- /;

/** `<port>/udp` and `<port>/tcp`: the keys the Engine API uses for container ports. */
export function udpPortKey(port: number): string {
  return `${port}/udp`;
}

export function tcpPortKey(port: number): string {
  return `${port}/tcp`;
}

/**
 * Create options of a node container. Each port is published from its container port to its host
 * port (the agent listens on IPMI_PORT/VNC_PORT/REDFISH_PORT inside; node specs make them the same). The volume goes through
 * Binds; read-only binds (an ISO) through Mounts, which refuses a missing source instead of creating
 * an empty directory at that path on the host as Binds would.
 */
export function containerCreateOptions(spec: NodeContainerSpec, engineCpus: number): Dockerode.ContainerCreateOptions {
  const published: Array<[string, PublishedPort]> = [];
  if (spec.ipmi !== null) published.push([udpPortKey(spec.ipmi.containerPort), spec.ipmi]);
  if (spec.vnc !== null) published.push([tcpPortKey(spec.vnc.containerPort), spec.vnc]);
  if (spec.redfish !== null) published.push([tcpPortKey(spec.redfish.containerPort), spec.redfish]);
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: [...spec.entrypoint], Cmd: [] } : {}),
    ...(spec.hostNetwork ? { Healthcheck: { Test: ['NONE'] } } : {}),
    Labels: { ...spec.labels },
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    ExposedPorts: Object.fromEntries(published.map(([key]) => [key, {}])),
    HostConfig: {
      PortBindings: Object.fromEntries(published.map(([key, port]) => [key, [{ HostIp: port.hostIp, HostPort: String(port.port) }]])),
      Binds: [`${spec.volumeName}:${VM_MOUNT_PATH}`],
      Mounts: spec.readOnlyBinds.map((bind) => ({
        Type: 'bind' as const,
        Source: bind.hostPath,
        Target: bind.containerPath,
        ReadOnly: true,
      })),
      Devices: spec.devices.map((device) => ({ PathOnHost: device, PathInContainer: device, CgroupPermissions: 'rwm' })),
      CapDrop: [...spec.capDrop],
      CapAdd: [...spec.capAdd],
      SecurityOpt: [...spec.securityOpt],
      Memory: spec.limits.memoryBytes,
      MemorySwap: spec.limits.memoryBytes,
      // The engine refuses more than it has ("Range of CPUs is from 0.01 to N").
      NanoCpus: Math.min(spec.limits.nanoCpus, Math.max(1, engineCpus) * NANO_CPUS_PER_CPU),
      PidsLimit: spec.limits.pids,
      LogConfig: { Type: LOG_DRIVER, Config: { 'max-size': spec.limits.logMaxSize, 'max-file': String(spec.limits.logMaxFiles) } },
      RestartPolicy: { Name: RESTART_POLICY },
      ...(spec.hostNetwork ? { NetworkMode: 'host' } : {}),
    },
  };
}

/** Create options of the node's volume: its name and the node's labels. */
export function volumeCreateOptions(spec: NodeContainerSpec): { Name: string; Labels: Record<string, string> } {
  return { Name: spec.volumeName, Labels: { ...spec.labels } };
}

/**
 * Whether an existing object's labels say it is the node `spec` describes: same fleet and same node
 * id. A spec without a node id matches nothing (it could not tell a stranger from itself).
 */
export function isSameNode(existing: Readonly<Record<string, string>>, spec: Readonly<Record<string, string>>): boolean {
  const nodeId = spec[LABELS.nodeId];
  return nodeId !== undefined && existing[LABELS.nodeId] === nodeId && existing[LABELS.fleet] === spec[LABELS.fleet];
}

/** Who an object belongs to, as its labels say, for error messages. */
export function ownerText(labels: Readonly<Record<string, string>>): string {
  const nodeId = labels[LABELS.nodeId];
  const fleet = labels[LABELS.fleet];
  if (nodeId === undefined) return 'not a bmcfleet node';
  return `node ${labels[LABELS.node] ?? '?'} (id ${nodeId}) of fleet ${fleet ?? '?'}`;
}

/** "NAME=value" lines → record; a line without "=" is a variable with an empty value. */
export function parseEnv(lines: readonly string[] | null | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines ?? []) {
    const equals = line.indexOf('=');
    if (equals < 0) env[line] = '';
    else env[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return env;
}

export function toContainerState(status: string): ContainerState {
  const state = CONTAINER_STATES.find((candidate) => candidate === status);
  // The Engine documents exactly these; anything else would be a newer engine's word for a dead one.
  return state ?? 'dead';
}

type PortBindings = Readonly<Record<string, readonly Dockerode.PortBinding[] | null | undefined>> | null | undefined;

/** The first binding with a numeric host port of each container port. */
function hostPorts(bindings: PortBindings): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [key, list] of Object.entries(bindings ?? {})) {
    for (const binding of list ?? []) {
      const port = Number(binding.HostPort);
      if (binding.HostPort !== undefined && binding.HostPort !== '' && Number.isInteger(port) && port > 0) {
        ports[key] = port;
        break;
      }
    }
  }
  return ports;
}

/**
 * An inspect answer in the adapter's terms. Published ports come from the configured bindings
 * (HostConfig.PortBindings, present whatever the state), overridden by the live ones
 * (NetworkSettings.Ports, only while running) where Docker chose the port itself.
 */
export function toInspectedContainer(info: Dockerode.ContainerInspectInfo): InspectedContainer {
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    state: toContainerState(info.State.Status),
    labels: { ...(info.Config.Labels ?? {}) },
    env: parseEnv(info.Config.Env),
    image: info.Config.Image,
    publishedPorts: { ...hostPorts(info.HostConfig.PortBindings as PortBindings), ...hostPorts(info.NetworkSettings.Ports) },
    networks: Object.keys(info.NetworkSettings.Networks ?? {}),
    addresses: Object.fromEntries(Object.entries(info.NetworkSettings.Networks ?? {}).filter(([, n]) => Boolean(n.IPAddress)).map(([name, n]) => [name, n.IPAddress])),
    exit: exitOf(info.State),
  };
}

/** Docker's zero time: a container that never finished. */
const NEVER = '0001-01-01T00:00:00Z';

function exitOf(state: Dockerode.ContainerInspectInfo['State']): ContainerExit | null {
  if (state.Running || state.FinishedAt === undefined || state.FinishedAt === '' || state.FinishedAt === NEVER) return null;
  return { code: state.ExitCode, at: state.FinishedAt, outOfMemory: state.OOMKilled };
}

/** A list entry in the adapter's terms (Docker lists names with a leading slash). */
export function toManagedContainer(info: Dockerode.ContainerInfo): ManagedContainer {
  const name = info.Names[0] ?? info.Id;
  return {
    id: info.Id,
    name: name.replace(/^\//, ''),
    state: toContainerState(info.State),
    labels: { ...(info.Labels ?? {}) },
  };
}

export function toNetworkInfo(info: Dockerode.NetworkInspectInfo): NetworkInfo {
  return { name: info.Name, id: info.Id, internal: info.Internal === true, ipv6: info.EnableIPv6 === true };
}

/** The label filter of a fleet's containers (Engine API `filters`). */
export function fleetContainerFilters(fleetId: string): { label: string[] } {
  return { label: [`${LABELS.managed}=true`, `${LABELS.fleet}=${fleetId}`] };
}

/** What a dockerode failure says: Docker's own text, the HTTP status when there was an answer. */
export interface DockerFailure {
  readonly kind: DockerAdapterErrorKind;
  readonly statusCode: number | undefined;
  /** Docker's message, or the socket error when the engine did not answer. */
  readonly text: string;
}

interface ModemError {
  readonly message?: unknown;
  readonly statusCode?: unknown;
  readonly json?: unknown;
  readonly code?: unknown;
  readonly address?: unknown;
}

/** Docker's text of a dockerode failure: the Engine's `message` when it sent one. */
export function dockerMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const modem = error as ModemError;
  const json = modem.json as { message?: unknown } | null | undefined;
  if (json !== null && typeof json === 'object' && typeof json.message === 'string' && json.message !== '') {
    return json.message.trim();
  }
  const message = typeof modem.message === 'string' ? modem.message.replace(MODEM_PREFIX, '').trim() : String(error);
  // A socket error (engine down): say which socket.
  if (typeof modem.code === 'string' && typeof modem.address === 'string' && !message.includes(modem.address)) {
    return `${message} (Docker engine at ${modem.address})`;
  }
  return message;
}

export function classifyDockerError(error: unknown): DockerFailure {
  const text = dockerMessage(error);
  const raw = typeof error === 'object' && error !== null ? (error as ModemError).statusCode : undefined;
  const statusCode = typeof raw === 'number' ? raw : undefined;
  let kind: DockerAdapterErrorKind = 'engine';
  if (PORT_IN_USE.test(text)) kind = 'port-in-use';
  else if (statusCode === HTTP_NOT_FOUND && NO_SUCH_IMAGE.test(text)) kind = 'image-missing';
  else if (statusCode === HTTP_NOT_FOUND) kind = 'not-found';
  else if (statusCode === HTTP_CONFLICT) kind = 'conflict';
  return { kind, statusCode, text };
}

/** "`operation` failed: Docker's text", keeping the kind and status. */
export function toAdapterError(operation: string, error: unknown): DockerAdapterError {
  if (error instanceof DockerAdapterError) return error;
  const failure = classifyDockerError(error);
  return new DockerAdapterError(failure.kind, `${operation} failed: ${failure.text}`, failure.statusCode);
}
