/**
 * Pure parsing of the CLI's options: where the orchestrator is (--url / BMCFLEET_URL, --token /
 * BMCFLEET_API_TOKEN), the `nodes create` options into the API's create body, the power sub-commands
 * and the topology query. Each error says what to fix; the orchestrator still checks everything.
 */
import { BOOT_MODES, BootMode, KVM_MODES, KvmMode, MACHINES, MachineKind, NODE_NAME_PATTERN, NODE_NAME_RULE, POWER_ACTIONS, PowerActionName } from '../nodes/node.model';
import { CreateNodeRequest, TOPOLOGY_MODES, TopologyMode, TopologyQuery } from './fleet-api';

export const DEFAULT_ORCHESTRATOR_URL = 'http://127.0.0.1:8080';
export const ENV_URL = 'BMCFLEET_URL';
export const ENV_TOKEN = 'BMCFLEET_API_TOKEN';
export const ENV_IPMI_PASSWORD = 'BMCFLEET_IPMI_PASSWORD';

/** A usage mistake: the message says what to fix; the CLI exits with USAGE_EXIT_CODE. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Connection {
  /** Without a trailing slash. */
  readonly url: string;
  readonly token: string | null;
}

/** --url and --token win over the environment; an empty value counts as not given. */
export function resolveConnection(options: { readonly url?: string; readonly token?: string }, env: Environment): Connection {
  const raw = nonEmpty(options.url) ?? nonEmpty(env[ENV_URL]) ?? DEFAULT_ORCHESTRATOR_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CliUsageError(`orchestrator URL "${raw}" is not a URL; give e.g. --url ${DEFAULT_ORCHESTRATOR_URL}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliUsageError(`orchestrator URL "${raw}" must start with http:// or https://`);
  }
  return { url: raw.replace(/\/+$/, ''), token: nonEmpty(options.token) ?? nonEmpty(env[ENV_TOKEN]) ?? null };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** An integer option within limits, e.g. --memory 4096. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new CliUsageError(`${flag} must be a whole number, got "${text}"`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new CliUsageError(`${flag} must be ${min}..${max}, got ${value}`);
  return value;
}

/** One of a fixed list of words. */
export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === text);
  if (found === undefined) throw new CliUsageError(`${flag} must be one of ${choices.join(', ')}, got "${text}"`);
  return found;
}

export function checkNodeName(name: string): string {
  if (!NODE_NAME_PATTERN.test(name)) throw new CliUsageError(`node name "${name}" must be ${NODE_NAME_RULE}`);
  return name;
}

/** `nodes create` options as commander hands them over (strings; repeatable ones as lists). */
export interface CreateCommandOptions {
  readonly memory?: string;
  readonly cpus?: string;
  readonly disk?: string;
  readonly cdrom?: string;
  readonly bootMode?: string;
  readonly bootMenuTimeout?: string;
  readonly machine?: string;
  readonly network?: readonly string[];
  readonly labInterface?: readonly string[];
  readonly ipmiUser?: string;
  readonly ipmiPassword?: string;
  readonly powerOn?: boolean;
  readonly keepBmcUsers?: boolean;
  readonly enableKvm?: string;
  readonly host?: string;
}

/** Limits the orchestrator applies too (src/nodes/dto/create-node.dto.ts), checked early for a clear message. */
const LIMITS = { memoryMiB: [128, 1_048_576], cpus: [1, 255], diskSizeGiB: [1, 65_536], bootMenuTimeoutMs: [0, 65_535] } as const;

/**
 * The create body. Only given options go in, so the orchestrator's defaults (and NODE_DEFAULTS_*)
 * apply to the rest. --cdrom is passed as given: a file name (or path) inside the orchestrator's ISO_DIR.
 */
export function createNodeRequest(name: string, o: CreateCommandOptions): CreateNodeRequest {
  const request: { -readonly [K in keyof CreateNodeRequest]: CreateNodeRequest[K] } = { name: checkNodeName(name) };
  if (o.memory !== undefined) request.memoryMiB = parseInteger('--memory', o.memory, ...LIMITS.memoryMiB);
  if (o.cpus !== undefined) request.cpus = parseInteger('--cpus', o.cpus, ...LIMITS.cpus);
  if (o.disk !== undefined) request.diskSizeGiB = parseInteger('--disk', o.disk, ...LIMITS.diskSizeGiB);
  if (o.cdrom !== undefined) {
    if (o.cdrom.trim() === '') throw new CliUsageError('--cdrom needs the name of an ISO file in the orchestrator\'s ISO_DIR');
    request.cdrom = o.cdrom;
  }
  if (o.bootMode !== undefined) request.bootMode = parseChoice<BootMode>('--boot-mode', o.bootMode, BOOT_MODES);
  if (o.bootMenuTimeout !== undefined) request.bootMenuTimeoutMs = parseInteger('--boot-menu-timeout', o.bootMenuTimeout, ...LIMITS.bootMenuTimeoutMs);
  if (o.machine !== undefined) request.machine = parseChoice<MachineKind>('--machine', o.machine, MACHINES);
  if (o.network !== undefined && o.network.length > 0) request.networks = [...o.network];
  if (o.labInterface !== undefined && o.labInterface.length > 0) request.labInterfaces = [...o.labInterface];
  if (o.ipmiUser !== undefined) request.ipmiUser = o.ipmiUser;
  if (o.ipmiPassword !== undefined) request.ipmiPassword = o.ipmiPassword;
  if (o.powerOn === true) request.powerOnAtStart = true;
  if (o.keepBmcUsers === true) request.keepBmcUsers = true;
  if (o.enableKvm !== undefined) request.enableKvm = parseChoice<KvmMode>('--enable-kvm', o.enableKvm, KVM_MODES);
  if (o.host !== undefined) {
    if (o.host.trim() === '') throw new CliUsageError('--host needs a host name (a swarm node\'s name or id)');
    request.host = o.host;
  }
  return request;
}

/** `nodes power <name> <command>`: a Chassis Control action, or `status` to read the power state. */
export const POWER_COMMANDS = [...POWER_ACTIONS, 'status'] as const;
export type PowerCommand = PowerActionName | 'status';

export function parsePowerCommand(text: string): PowerCommand {
  return parseChoice<PowerCommand>('power command', text, POWER_COMMANDS);
}

export interface TopologyCommandOptions {
  readonly nodes?: string;
  readonly mode?: string;
  readonly name?: string;
  readonly links?: string;
}

/** --nodes a,b → a list (blanks and empty items ignored); --mode checked; --name and --links as given. */
export function topologyQuery(o: TopologyCommandOptions): TopologyQuery {
  const query: { -readonly [K in keyof TopologyQuery]: TopologyQuery[K] } = {};
  if (o.nodes !== undefined) {
    const nodes = o.nodes.split(',').map((n) => n.trim()).filter((n) => n !== '');
    if (nodes.length === 0) throw new CliUsageError('--nodes needs node names separated by commas, e.g. --nodes node1,node2');
    query.nodes = nodes;
  }
  if (o.mode !== undefined) query.mode = parseChoice<TopologyMode>('--mode', o.mode, TOPOLOGY_MODES);
  if (o.name !== undefined) query.name = o.name;
  if (o.links !== undefined) query.links = o.links;
  return query;
}
