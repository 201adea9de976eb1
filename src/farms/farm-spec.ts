/**
 * A farm as its runtime runs it (pure): one runtime node of the node image running the managed farm
 * entry (node-image/src/farm/managed-farm-main.ts) on its host's network, with its own disk for the
 * farm's roster and every BMC's state. Its BMCs bind their leased ports themselves at the publish
 * address, so the node contract stays: a node's address and leased ports, the same inside and out.
 */
import type { NodeSpec } from '../runtime/node-runtime';
import { DISK_PATH } from '../nodes/node-spec';

/** The managed farm's entry in the node image, under tini as the agent runs. */
export const FARM_ENTRYPOINT = ['tini', '--', 'node', '--expose-gc', '/opt/bmcfleet/agent/farm/managed-farm-main.js'] as const;
/** The farm's control client in the node image (node-image/src/farm/farm-ctl.ts). */
export const FARM_CTL_ARGV = ['node', '/opt/bmcfleet/agent/farm/farm-ctl.js'] as const;
/** Agent variables of NODE_DEFAULTS_* a farm passes on to its BMCs (the rest are per node or a VM's). */
const SHARED_AGENT_VARIABLES = ['IPMI_CIPHER_SUITES', 'IPMI_V15', 'SIM_POWER_DELAY_MS', 'DEBUG'] as const;
const MIB = 1024 * 1024;
/** Memory of a farm: the process, and per BMC its sockets, its awake agent and its Redfish listener. */
const FARM_BASE_MIB = 192;
const FARM_KIB_PER_BMC = 512;
/** The managed farm's BMC_STATE_DIR on its disk: roster, every BMC's state, the farm's one Redfish certificate. */
export const FARM_STATE_DIR = `${DISK_PATH}/bmc`;
/** Names: farm-1, farm-2, … */
export const FARM_NAME_PREFIX = 'farm-';

export interface FarmRowRef {
  readonly id: string;
  readonly name: string;
  readonly runtimeRef: string;
  readonly host: string | null;
}

export interface FarmSpecContext {
  readonly image: string;
  readonly publishAddress: string;
  readonly nodeDefaults: Readonly<Record<string, string>>;
  readonly capacity: number;
  /** CPUs a farm may use (one host's). */
  readonly cpus: number;
}

/**
 * The runtime node's name: `<FLEET_NAME>_<farm>`. Node names are DNS labels (no underscore), so no
 * node's `<FLEET_NAME>-<name>` can ever be a farm's.
 */
export function farmRuntimeRef(fleetName: string, farmName: string): string {
  return `${fleetName}_${farmName}`;
}

export function farmName(index: number): string {
  return `${FARM_NAME_PREFIX}${index}`;
}

/** The number in a farm's name (farm-12 → 12); 0 for a name of another form. */
export function farmIndex(name: string): number {
  const m = /^farm-(\d{1,9})$/.exec(name);
  return m ? Number(m[1]) : 0;
}

export function farmSpec(farm: FarmRowRef, context: FarmSpecContext): NodeSpec {
  const env: Record<string, string> = {
    MACHINE: 'sim',
    NODE_NAME: farm.name,
    BMC_STATE_DIR: FARM_STATE_DIR,
    // The BMCs answer at the publish address: the farm's one Redfish certificate names it.
    FARM_TLS_NAMES: context.publishAddress,
  };
  for (const name of SHARED_AGENT_VARIABLES) {
    const value = context.nodeDefaults[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    nodeId: farm.id,
    name: farm.name,
    ref: farm.runtimeRef,
    image: context.image,
    env,
    ports: [],
    diskPath: DISK_PATH,
    files: [],
    devices: [],
    capabilities: [],
    noNewPrivileges: true,
    networks: [],
    limits: { memoryBytes: (FARM_BASE_MIB * MIB) + context.capacity * FARM_KIB_PER_BMC * 1024, cpus: context.cpus, pids: 256 },
    host: farm.host,
    entrypoint: FARM_ENTRYPOINT,
    hostNetwork: true,
  };
}
