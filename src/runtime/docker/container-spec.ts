/**
 * A runtime-neutral NodeSpec as Docker's container (pure): the labels that mark it as the fleet's
 * and the node's, the /vm volume named after the container, the published ports, devices,
 * capabilities (all dropped, then the spec's added back), no-new-privileges, limits and log rotation.
 */
import type { ContainerLimits, NodeContainerSpec, PublishedPort } from '../../docker/docker-adapter';
import { LABELS } from '../../docker/docker-adapter';
import { VM_MOUNT_PATH } from '../../docker/dockerode-mapping';
import type { NodeDevice, NodeLimits, NodeSpec } from '../node-runtime';

/** Suffix of a node's /vm volume after its container name (`<FLEET_NAME>-<node>-vm`). */
export const VOLUME_SUFFIX = '-vm';
/** Docker's default network: every node container is on it (its ports are published there). */
export const DEFAULT_NETWORK = 'bridge';
/** Container log (the agent's JSON lines): at most 3 files of 10 MB. */
const LOG_MAX_SIZE = '10m';
const LOG_MAX_FILES = 3;
const NANO_CPUS_PER_CPU = 1e9;
/** Host device of each NodeDevice. */
export const DEVICE_PATHS: Readonly<Record<NodeDevice, string>> = { tun: '/dev/net/tun', kvm: '/dev/kvm' };

export function volumeNameOf(ref: string): string {
  return `${ref}${VOLUME_SUFFIX}`;
}

/** The labels of a node's container and volume. */
export function nodeLabels(fleetId: string, node: { readonly id: string; readonly name: string }): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.fleet]: fleetId,
    [LABELS.node]: node.name,
    [LABELS.nodeId]: node.id,
    [LABELS.role]: 'node',
  };
}

export function containerLimits(limits: NodeLimits): ContainerLimits {
  return {
    memoryBytes: limits.memoryBytes,
    nanoCpus: Math.round(limits.cpus * NANO_CPUS_PER_CPU),
    pids: limits.pids,
    logMaxSize: LOG_MAX_SIZE,
    logMaxFiles: LOG_MAX_FILES,
  };
}

function published(spec: NodeSpec, name: string): PublishedPort | null {
  const port = spec.ports.find((candidate) => candidate.name === name);
  return port === undefined ? null : { hostIp: port.address, port: port.outside, containerPort: port.inside };
}

/** Docker's container for the spec; the fleet id goes into its labels. */
export function containerSpecOf(spec: NodeSpec, fleetId: string): NodeContainerSpec {
  const ipmi = published(spec, 'ipmi');
  const vnc = published(spec, 'vnc');
  const hostNetwork = spec.hostNetwork === true;
  if (hostNetwork && (spec.ports.length > 0 || spec.networks.length > 0)) throw new Error(`node ${spec.name}: a node on the host network publishes no port and joins no network`);
  if (!hostNetwork && (ipmi === null || vnc === null)) throw new Error(`node ${spec.name}: a node spec publishes ipmi and vnc ports`);
  if (spec.diskPath !== VM_MOUNT_PATH) throw new Error(`node ${spec.name}: the Docker container mounts its disk at ${VM_MOUNT_PATH}, not ${spec.diskPath}`);
  const other = spec.ports.filter((port) => !['ipmi', 'vnc', 'redfish'].includes(port.name));
  if (other.length > 0) throw new Error(`node ${spec.name}: the Docker container spec has no place for port ${other.map((port) => port.name).join(', ')}`);
  return {
    name: spec.ref,
    image: spec.image,
    labels: nodeLabels(fleetId, { id: spec.nodeId, name: spec.name }),
    env: spec.env,
    ipmi,
    vnc,
    redfish: published(spec, 'redfish'),
    volumeName: volumeNameOf(spec.ref),
    readOnlyBinds: spec.files.map((file) => ({ hostPath: file.hostPath, containerPath: file.path })),
    devices: spec.devices.map((device) => DEVICE_PATHS[device]),
    capDrop: ['ALL'],
    capAdd: [...spec.capabilities],
    securityOpt: spec.noNewPrivileges ? ['no-new-privileges:true'] : [],
    limits: containerLimits(spec.limits),
    entrypoint: spec.entrypoint ?? null,
    hostNetwork,
  };
}
