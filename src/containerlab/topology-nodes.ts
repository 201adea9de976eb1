/**
 * One fleet node as a containerlab topology node (pure): `ext-container` (the orchestrator keeps the
 * container; containerlab only plugs links into it) or `kind: linux` (containerlab creates the
 * container from the node image with the node's environment, devices, capabilities, binds and ports).
 *
 * containerlab reads a topology file through Go's text/template and then substitutes environment
 * variables in it (core/file.go: envsubst, leaving unset variables as they are). So every free text
 * this file writes is escaped for that pass ("$" → "$$", hellt/envsubst's escape) and text holding
 * "{{" is refused; the one intended substitution is each node's IPMI password in linux mode, written
 * as ${BMCFLEET_<NODE>_IPMI_PASS} so the password itself never appears in a rendered topology. When the
 * variable is unset containerlab leaves the reference as it is, which the agent refuses as a password
 * (longer than IPMI's 20 bytes): the node fails to start instead of running with a wrong password.
 */
import { isIPv4 } from 'node:net';
import type { NodeView } from '../nodes/node.model';
import type { NodeDevice, NodeSpec, PortToPublish } from '../runtime/node-runtime';
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';

const MIB = 1024 * 1024;

export const TOPOLOGY_MODES = ['ext-container', 'linux'] as const;
export type TopologyMode = (typeof TOPOLOGY_MODES)[number];
export const DEFAULT_TOPOLOGY_MODE: TopologyMode = 'ext-container';

/** A containerlab node as this renderer writes it (a subset of the schema's node-config). */
export interface ClabNode {
  readonly kind: TopologyMode;
  readonly group: string;
  readonly image?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly binds?: readonly string[];
  readonly ports?: readonly string[];
  readonly devices?: readonly string[];
  readonly 'cap-add'?: readonly string[];
  /** Docker's units, binary ("1536mb" = 1536 MiB). */
  readonly memory?: string;
  /** CPUs (Docker's --cpus). */
  readonly cpu?: number;
  readonly 'security-opts'?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** The agent variable holding the VNC password; linux mode leaves it out (see linuxNode). */
export const VNC_PASSWORD_ENV = 'VNC_PASSWORD';
/** The agent variable holding the BMC password (design.md section 1). */
export const IPMI_PASSWORD_ENV = 'IPMI_PASS';
/** containerlab's graph sorts nodes by group; "server" is one of its known roles. */
const SERVER_GROUP = 'server';
/** Label lab UIs (containerlab graph exports, its VS Code extension) read for the node's icon. */
const GRAPH_ICON_LABEL = 'graph-icon';

/** Host device of each NodeDevice, as containerlab's `devices` name them. */
const DEVICE_PATHS: Readonly<Record<NodeDevice, string>> = { tun: '/dev/net/tun', kvm: '/dev/kvm' };

/**
 * Labels a rendered node carries for lab UIs and scripts. Deliberately not the managed and fleet
 * labels the Docker runtime marks its own containers with: a container containerlab creates in linux
 * mode must never look like one the orchestrator owns (its reconciler would adopt or remove it).
 */
export const LAB_LABELS = {
  role: 'io.bmcfleet.role',
  node: 'io.bmcfleet.node',
  machine: 'io.bmcfleet.machine',
  bootMode: 'io.bmcfleet.boot-mode',
  ipmiAddress: 'io.bmcfleet.ipmi.address',
  ipmiPort: 'io.bmcfleet.ipmi.port',
  ipmiUser: 'io.bmcfleet.ipmi.user',
  vncAddress: 'io.bmcfleet.vnc.address',
  vncPort: 'io.bmcfleet.vnc.port',
  redfishAddress: 'io.bmcfleet.redfish.address',
  redfishPort: 'io.bmcfleet.redfish.port',
} as const;

/** The environment variable containerlab substitutes for a node's IPMI password in linux mode. */
export function ipmiPasswordVariable(nodeName: string): string {
  return `BMCFLEET_${nodeName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IPMI_PASS`;
}

/** Free text made safe for containerlab's template and envsubst passes (see the header). */
export function escapeClabText(value: string, what: string): string {
  if (value.includes('{{')) {
    throw new ContainerlabError(ContainerlabErrorCode.NotRenderable, `${what} contains "{{", which containerlab would read as a template action; change it`);
  }
  return value.replace(/\$/g, '$$$$');
}

/** The topology node's name: the container's for ext-container (containerlab finds it by that name). */
export function topologyNodeName(view: NodeView, mode: TopologyMode): string {
  return mode === 'ext-container' ? view.container.name : view.name;
}

export function labLabels(view: NodeView): Record<string, string> {
  const text = (value: string, what: string): string => escapeClabText(value, `node ${view.name}: ${what}`);
  return {
    [GRAPH_ICON_LABEL]: SERVER_GROUP,
    [LAB_LABELS.role]: 'node',
    [LAB_LABELS.node]: view.name,
    [LAB_LABELS.machine]: view.machine,
    [LAB_LABELS.bootMode]: view.bootMode,
    [LAB_LABELS.ipmiAddress]: text(view.ipmi.host, 'IPMI address'),
    [LAB_LABELS.ipmiPort]: String(view.ipmi.port),
    [LAB_LABELS.ipmiUser]: text(view.ipmi.user, 'IPMI user'),
    ...(view.vnc === null ? {} : { [LAB_LABELS.vncAddress]: text(view.vnc.host, 'VNC address'), [LAB_LABELS.vncPort]: String(view.vnc.port) }),
    // Absent for a node made before Redfish ports (until its container is made anew).
    ...(view.redfish === null
      ? {}
      : { [LAB_LABELS.redfishAddress]: text(view.redfish.host, 'Redfish address'), [LAB_LABELS.redfishPort]: String(view.redfish.port) }),
  };
}

export function extContainerNode(view: NodeView): ClabNode {
  return { kind: 'ext-container', group: SERVER_GROUP, labels: labLabels(view) };
}

/** "127.0.0.1:16230:16230/udp" (host address, host port, container port): containerlab's ports take an IPv4 host address only (its schema). */
function publishedPort(view: NodeView, port: PortToPublish): string {
  if (!isIPv4(port.address)) {
    throw new ContainerlabError(ContainerlabErrorCode.NotRenderable,
      `node ${view.name} publishes its ports on ${port.address}; containerlab's ports take IPv4 host addresses only: set PUBLISH_ADDRESS to an IPv4 address or use mode=ext-container`);
  }
  return `${port.address}:${port.outside}:${port.inside}/${port.protocol}`;
}

function bind(view: NodeView, hostPath: string, containerPath: string): string {
  if (hostPath.includes(':')) {
    throw new ContainerlabError(ContainerlabErrorCode.NotRenderable, `node ${view.name}: the path ${hostPath} contains ":", which containerlab's binds cannot carry; use mode=ext-container`);
  }
  return `${escapeClabText(hostPath, `node ${view.name}: bind path`)}:${containerPath}:ro`;
}

/**
 * The node as a container containerlab creates: the orchestrator's own spec (same image, agent
 * environment, devices, capabilities, ISO bind and published ports), the password as a variable.
 * Not carried over: VNC_PASSWORD (a topology file is no place for it; the agent then serves VNC on the
 * container's loopback only, so a VNC console needs ext-container mode), the /vm volume (a containerlab bind must be an existing host path; the disk lives
 * in the container and goes with `containerlab destroy`) and Docker networks (containerlab attaches
 * its own management network only; such a node is refused with the way out).
 */
export function linuxNode(view: NodeView, spec: NodeSpec): ClabNode {
  if (view.networks.length > 0) {
    throw new ContainerlabError(ContainerlabErrorCode.NotRenderable,
      `node ${view.name} is attached to Docker networks (${view.networks.join(', ')}), which containerlab's linux kind cannot attach: render it with mode=ext-container, or use a node with labInterfaces and links instead of networks`);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env)) {
    // Never written into a topology file: without it the agent keeps VNC inside the container.
    if (key === VNC_PASSWORD_ENV) continue;
    env[key] = key === IPMI_PASSWORD_ENV ? `\${${ipmiPasswordVariable(view.name)}}` : escapeClabText(value, `node ${view.name}: environment variable ${key}`);
  }
  return {
    kind: 'linux',
    group: SERVER_GROUP,
    image: spec.image,
    env,
    ...(spec.files.length > 0 ? { binds: spec.files.map((file) => bind(view, file.hostPath, file.path)) } : {}),
    ports: spec.ports.map((port) => publishedPort(view, port)),
    devices: spec.devices.map((device) => DEVICE_PATHS[device]),
    'cap-add': [...spec.capabilities],
    // The orchestrator's limits where containerlab has a field for them (it has none for dropping
    // capabilities, pids or log size: those stay Docker's defaults in linux mode).
    memory: `${Math.ceil(spec.limits.memoryBytes / MIB)}mb`,
    cpu: spec.limits.cpus,
    'security-opts': spec.noNewPrivileges ? ['no-new-privileges:true'] : [],
    labels: labLabels(view),
  };
}
