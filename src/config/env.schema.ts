/**
 * The orchestrator's environment variables (design.md section 3), validated once at start.
 *
 * Pure: the environment and the working directory come in as parameters, so every rule is unit
 * tested without touching process.env. Every problem is collected before failing, so one start
 * shows the operator the whole list instead of one variable per attempt.
 */
import { BlockList, isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { AppConfig, LOG_FORMATS, LOG_LEVELS, LogFormat, LogLevelName, PortRange, RUNTIMES, RuntimeName } from './app-config';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Defaults of design.md section 3, as the strings an operator would write. */
export const ENV_DEFAULTS = {
  PORT: '8080',
  BIND_ADDRESS: '127.0.0.1',
  DATA_DIR: './data',
  PUBLISH_ADDRESS: '127.0.0.1',
  IPMI_PORT_RANGE: '16230-16999',
  VNC_PORT_RANGE: '15900-16229',
  REDFISH_PORT_RANGE: '17000-17999',
  FLEET_REDFISH_PORT: '8443',
  NODE_IMAGE: 'bmcfleet/node:latest',
  LOG_LEVEL: 'log',
  LOG_FORMAT: 'text',
  FLEET_NAME: 'bmcfleet',
  RECONCILE_INTERVAL_S: '15',
  MAX_DISK_GIB: '2048',
  RUNTIME: 'docker',
  SIM_PLACEMENT: 'auto',
  FARM_CAPACITY: '2000',
} as const;

/** Where `machine: sim` nodes go: BMCs in farms (src/farms), or one runtime node each. */
export const SIM_PLACEMENTS = ['farm', 'container'] as const;
export type SimPlacement = (typeof SIM_PLACEMENTS)[number];
/** SIM_PLACEMENT's values: a placement, or `auto` (farms on plain Docker, one service each on a swarm). */
const SIM_PLACEMENT_CHOICES = ['auto', ...SIM_PLACEMENTS] as const;
/**
 * BMCs one farm hosts at most: each holds an IPMI socket and a Redfish listener (2 of a process's
 * ~20,000 open files, see docs/operations.md).
 */
export const MAX_FARM_CAPACITY = 9000;

/** Where ISO_DIR is when unset: beside the database, under DATA_DIR. */
export const DEFAULT_ISO_SUBDIR = 'iso';
/** IPMI 2.0 passwords are at most 20 bytes (Set User Password, 20-byte form). */
export const IPMI_PASSWORD_MAX_LENGTH = 20;
/** The shortest BMC password the orchestrator gives a node (API requests and NODE_DEFAULTS_IPMI_PASS). */
export const IPMI_PASSWORD_MIN_LENGTH = 8;
/** The largest MAX_DISK_GIB an operator may set: 64 TiB, qcow2's practical ceiling for one disk. */
const MAX_DISK_GIB_CEILING = 65536;

/** FLEET_NAME becomes part of Docker container and volume names: lower case, digits, dashes. */
export const FLEET_NAME_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;

/** Prefix of variables passed on to every new node's agent (NODE_DEFAULTS_ENABLE_KVM=false). */
export const NODE_DEFAULTS_PREFIX = 'NODE_DEFAULTS_';

/** The agent's environment variables (design.md section 1): the names NODE_DEFAULTS_* may carry. */
export const AGENT_VARIABLES = [
  'VM_MEMORY',
  'VM_CPUS',
  'VM_DISK',
  'VM_DISK_SIZE',
  'VM_CDROM',
  'VM_BOOT',
  'VM_BOOT_MODE',
  'VM_BOOT_MENU_TIMEOUT',
  'ENABLE_KVM',
  'VNC_PORT',
  'IPMI_USER',
  'IPMI_PASS',
  'IPMI_PORT',
  'VM_NETWORKS',
  'POWER_ON_AT_START',
  'MACHINE',
  'BMC_STATE_DIR',
  'IPMI_ADDRESS',
  'IPMI_CIPHER_SUITES',
  'IPMI_V15',
  'IPMI_V15_AUTH_TYPES',
  'DEBUG',
] as const;

/**
 * Agent variables the orchestrator sets per node and NODE_DEFAULTS_* may not: a fleet-wide value
 * would be wrong for every node.
 */
const PER_NODE_AGENT_VARIABLES: Readonly<Record<string, string>> = {
  REDFISH_PORT: 'each node\'s Redfish port is its own leased port from REDFISH_PORT_RANGE',
  IPMI_SOL_PORT: 'the SOL port each node names is derived from the host port its IPMI is published on, so a fleet-wide value would be wrong for every node',
};

/** Values never echoed in error messages. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['API_TOKEN', `${NODE_DEFAULTS_PREFIX}IPMI_PASS`]);

/** A bearer token shorter than this is too easy to guess. */
export const API_TOKEN_MIN_LENGTH = 16;

const MAX_TCP_UDP_PORT = 65535;

/**
 * An image reference as Docker accepts it: [registry[:port]/]path[:tag][@sha256:digest],
 * path components lower case (distribution/reference grammar, simplified).
 */
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export interface ConfigIssue {
  readonly variable: string;
  /** The offending value, or null when it is unset or secret. */
  readonly value: string | null;
  readonly problem: string;
}

export class ConfigValidationError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigValidationError';
  }
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  const lines = issues.map(
    (issue) => `  - ${issue.variable}${issue.value === null ? '' : `=${JSON.stringify(issue.value)}`}: ${issue.problem}`,
  );
  return [`invalid configuration (${issues.length} ${noun}):`, ...lines].join('\n');
}

/** Collects problems while each variable is read. */
class IssueCollector {
  readonly issues: ConfigIssue[] = [];

  add(variable: string, raw: string | undefined, problem: string): void {
    const shown = raw === undefined || SECRET_VARIABLES.has(variable) ? null : raw;
    this.issues.push({ variable, value: shown, problem });
  }
}

/** An unset or blank variable counts as absent, so `PORT=` falls back to the default. */
function read(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function readOr(env: Environment, name: keyof typeof ENV_DEFAULTS): string {
  return read(env, name) ?? ENV_DEFAULTS[name];
}

function parseInteger(text: string): number | null {
  return /^[0-9]+$/.test(text) ? Number(text) : null;
}

function parseHttpPort(name: string, raw: string, issues: IssueCollector): number {
  const port = parseInteger(raw);
  if (port === null || port > MAX_TCP_UDP_PORT) {
    issues.add(name, raw, `must be an integer from 0 to ${MAX_TCP_UDP_PORT} (0 picks a free port)`);
    return 0;
  }
  return port;
}

function parsePortRange(name: string, raw: string, issues: IssueCollector): PortRange {
  const match = /^([0-9]+)-([0-9]+)$/.exec(raw);
  const first = match?.[1] === undefined ? null : parseInteger(match[1]);
  const last = match?.[2] === undefined ? null : parseInteger(match[2]);
  if (first === null || last === null) {
    issues.add(name, raw, 'must be FIRST-LAST, e.g. 16230-16999');
    return { first: 0, last: 0 };
  }
  if (first < 1 || last > MAX_TCP_UDP_PORT || first > last) {
    issues.add(name, raw, `must satisfy 1 <= FIRST <= LAST <= ${MAX_TCP_UDP_PORT}`);
  }
  return { first, last };
}

function parseIpAddress(name: string, raw: string, issues: IssueCollector): string {
  if (isIP(raw) === 0) {
    issues.add(name, raw, 'must be an IPv4 or IPv6 address, e.g. 127.0.0.1');
  }
  return raw;
}

function parseChoice<T extends string>(
  name: string,
  raw: string,
  choices: readonly T[],
  issues: IssueCollector,
): T {
  const found = choices.find((choice) => choice === raw);
  if (found === undefined) {
    issues.add(name, raw, `must be one of ${choices.join(', ')}`);
    return choices[0] as T;
  }
  return found;
}

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms included): the only addresses that keep the API on this host. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) {
    return false;
  }
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function parseApiToken(env: Environment, bindAddress: string, issues: IssueCollector): string | null {
  const token = read(env, 'API_TOKEN') ?? null;
  if (token !== null && (token.length < API_TOKEN_MIN_LENGTH || /\s/.test(token))) {
    issues.add('API_TOKEN', token, `must be at least ${API_TOKEN_MIN_LENGTH} characters without spaces`);
  }
  if (token === null && isIP(bindAddress) !== 0 && !isLoopbackAddress(bindAddress)) {
    issues.add(
      'API_TOKEN',
      undefined,
      `is required because BIND_ADDRESS=${bindAddress} is not a loopback address: ` +
        'without it anyone on the network could create and power nodes',
    );
  }
  return token;
}

function parseNodeDefaults(env: Environment, issues: IssueCollector): Readonly<Record<string, string>> {
  const known: ReadonlySet<string> = new Set(AGENT_VARIABLES);
  const defaults: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(NODE_DEFAULTS_PREFIX)) {
      continue;
    }
    const agentVariable = name.slice(NODE_DEFAULTS_PREFIX.length);
    const value = env[name];
    const perNode = PER_NODE_AGENT_VARIABLES[agentVariable];
    if (perNode !== undefined) {
      issues.add(name, undefined, `cannot be set: ${perNode}`);
    } else if (!known.has(agentVariable)) {
      issues.add(name, undefined, `${agentVariable || '(empty)'} is not an agent variable (${AGENT_VARIABLES.join(', ')})`);
    } else if (value !== undefined) {
      defaults[agentVariable] = value;
    }
  }
  return Object.freeze(defaults);
}

function resolveDataDir(raw: string, cwd: string): string {
  return isAbsolute(raw) ? resolve(raw) : resolve(cwd, raw);
}

/** NODE_DEFAULTS_IPMI_PASS becomes every node's BMC password: the same rule as the API's ipmiPassword. */
function checkDefaultIpmiPassword(env: Environment, issues: IssueCollector): void {
  const name = `${NODE_DEFAULTS_PREFIX}IPMI_PASS`;
  const value = env[name];
  if (value === undefined) {
    return;
  }
  if (value.length < IPMI_PASSWORD_MIN_LENGTH || value.length > IPMI_PASSWORD_MAX_LENGTH || !/^[\x20-\x7e]+$/.test(value)) {
    issues.add(name, value, `must be ${IPMI_PASSWORD_MIN_LENGTH} to ${IPMI_PASSWORD_MAX_LENGTH} printable ASCII characters`);
  }
}

/** ISO_DIR: absolute, or relative to the working directory; never the file system's root. */
function resolveIsoDir(env: Environment, dataDir: string, cwd: string, issues: IssueCollector): string {
  const raw = read(env, 'ISO_DIR');
  const dir = raw === undefined ? resolve(dataDir, DEFAULT_ISO_SUBDIR) : resolveDataDir(raw, cwd);
  if (dir === resolve('/')) {
    issues.add('ISO_DIR', raw, 'must not be / : the API could then attach any file of the host');
  }
  return dir;
}

/** FLEET_REDFISH_PORT: a TCP port, 0 (a free one, for tests) or `none` (no fleet Redfish endpoint). */
function parseFleetRedfishPort(raw: string, issues: IssueCollector): number | null {
  if (raw === 'none') return null;
  const port = parseInteger(raw);
  if (port === null || port > MAX_TCP_UDP_PORT) {
    issues.add('FLEET_REDFISH_PORT', raw, `must be an integer from 0 to ${MAX_TCP_UDP_PORT} (0 picks a free port) or none`);
    return null;
  }
  return port;
}

/** A range parsePortRange did not complain about (a bad one is reported once, there). */
function isValidRange(range: PortRange): boolean {
  return range.first >= 1 && range.last <= MAX_TCP_UDP_PORT && range.first <= range.last;
}

function overlaps(a: PortRange, b: PortRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** PORT, FLEET_REDFISH_PORT, VNC_PORT_RANGE and REDFISH_PORT_RANGE are all host TCP ports: none may take another's. */
function checkTcpPorts(
  ports: { port: number; fleetRedfishPort: number | null; vncPortRange: PortRange; redfishPortRange: PortRange },
  issues: IssueCollector,
): void {
  const ranges: Array<[string, PortRange]> = [['VNC_PORT_RANGE', ports.vncPortRange], ['REDFISH_PORT_RANGE', ports.redfishPortRange]];
  const single: Array<[string, number | null]> = [['PORT', ports.port], ['FLEET_REDFISH_PORT', ports.fleetRedfishPort]];
  for (const [name, value] of single) {
    if (value === null || value === 0) continue;
    for (const [rangeName, range] of ranges) {
      if (value >= range.first && value <= range.last) {
        issues.add(name, String(value), `lies inside ${rangeName} (${range.first}-${range.last}), both are host TCP ports`);
      }
    }
  }
  if (ports.port !== 0 && ports.port === ports.fleetRedfishPort) {
    issues.add('FLEET_REDFISH_PORT', String(ports.fleetRedfishPort), 'is the same TCP port as PORT; the fleet Redfish endpoint needs its own');
  }
  if (isValidRange(ports.vncPortRange) && isValidRange(ports.redfishPortRange) && overlaps(ports.vncPortRange, ports.redfishPortRange)) {
    issues.add('REDFISH_PORT_RANGE', `${ports.redfishPortRange.first}-${ports.redfishPortRange.last}`, 'overlaps VNC_PORT_RANGE; both are host TCP ports');
  }
}

export interface ParseOptions {
  /** Directory relative DATA_DIR values are resolved against (the process's working directory). */
  readonly cwd: string;
}

/**
 * Reads and validates the whole environment. Returns a frozen AppConfig, or throws one
 * ConfigValidationError that lists every bad variable.
 */
export function parseAppConfig(env: Environment, options: ParseOptions): AppConfig {
  const issues = new IssueCollector();

  const port = parseHttpPort('PORT', readOr(env, 'PORT'), issues);
  const bindAddress = parseIpAddress('BIND_ADDRESS', readOr(env, 'BIND_ADDRESS'), issues);
  const apiToken = parseApiToken(env, bindAddress, issues);
  const publishAddress = parseIpAddress('PUBLISH_ADDRESS', readOr(env, 'PUBLISH_ADDRESS'), issues);
  const ipmiPortRange = parsePortRange('IPMI_PORT_RANGE', readOr(env, 'IPMI_PORT_RANGE'), issues);
  const vncPortRange = parsePortRange('VNC_PORT_RANGE', readOr(env, 'VNC_PORT_RANGE'), issues);
  const redfishPortRange = parsePortRange('REDFISH_PORT_RANGE', readOr(env, 'REDFISH_PORT_RANGE'), issues);
  const fleetRedfishPort = parseFleetRedfishPort(readOr(env, 'FLEET_REDFISH_PORT'), issues);
  checkTcpPorts({ port, fleetRedfishPort, vncPortRange, redfishPortRange }, issues);
  const nodeImage = readOr(env, 'NODE_IMAGE');
  if (!IMAGE_REFERENCE.test(nodeImage)) {
    issues.add('NODE_IMAGE', nodeImage, 'must be an image reference such as bmcfleet/node:latest');
  }
  const level: LogLevelName = parseChoice('LOG_LEVEL', readOr(env, 'LOG_LEVEL'), LOG_LEVELS, issues);
  const format: LogFormat = parseChoice('LOG_FORMAT', readOr(env, 'LOG_FORMAT'), LOG_FORMATS, issues);
  const nodeDefaults = parseNodeDefaults(env, issues);
  const runtime: RuntimeName = parseChoice('RUNTIME', readOr(env, 'RUNTIME'), RUNTIMES, issues);
  const fleetName = readOr(env, 'FLEET_NAME');
  if (!FLEET_NAME_PATTERN.test(fleetName)) {
    issues.add('FLEET_NAME', fleetName, 'must start with a letter and hold at most 30 lower-case letters, digits and dashes');
  }
  const reconcileRaw = readOr(env, 'RECONCILE_INTERVAL_S');
  const reconcileSeconds = parseInteger(reconcileRaw);
  if (reconcileSeconds === null || reconcileSeconds > 86_400) {
    issues.add('RECONCILE_INTERVAL_S', reconcileRaw, 'must be an integer number of seconds from 0 (off) to 86400');
  }

  // A farm runs on its Docker host's network, which a swarm service cannot have: `auto` (the default)
  // places sim nodes in farms on plain Docker and one service each on a swarm; `farm` on a swarm is refused.
  const simPlacementRaw = readOr(env, 'SIM_PLACEMENT');
  const simPlacementChoice = parseChoice('SIM_PLACEMENT', simPlacementRaw, SIM_PLACEMENT_CHOICES, issues);
  const simPlacement: SimPlacement = simPlacementChoice === 'auto' ? (runtime === 'swarm' ? 'container' : 'farm') : simPlacementChoice;
  if (runtime === 'swarm' && simPlacementChoice === 'farm') {
    issues.add('SIM_PLACEMENT', simPlacementRaw, 'must be auto or container with RUNTIME=swarm: a farm needs its host\'s network, which a swarm service cannot have');
  }
  const farmCapacityRaw = readOr(env, 'FARM_CAPACITY');
  const farmCapacity = parseInteger(farmCapacityRaw);
  if (farmCapacity === null || farmCapacity < 1 || farmCapacity > MAX_FARM_CAPACITY) {
    issues.add('FARM_CAPACITY', farmCapacityRaw, `must be a whole number of BMCs per farm from 1 to ${MAX_FARM_CAPACITY}`);
  }

  checkDefaultIpmiPassword(env, issues);
  const dataDir = resolveDataDir(readOr(env, 'DATA_DIR'), options.cwd);
  const isoDir = resolveIsoDir(env, dataDir, options.cwd, issues);
  const maxDiskRaw = readOr(env, 'MAX_DISK_GIB');
  const maxDiskGiB = parseInteger(maxDiskRaw);
  if (maxDiskGiB === null || maxDiskGiB < 1 || maxDiskGiB > MAX_DISK_GIB_CEILING) {
    issues.add('MAX_DISK_GIB', maxDiskRaw, `must be an integer number of GiB from 1 to ${MAX_DISK_GIB_CEILING}`);
  }

  if (issues.issues.length > 0) {
    throw new ConfigValidationError(issues.issues);
  }
  const config: AppConfig = {
    http: Object.freeze({ port, bindAddress, apiToken }),
    dataDir,
    isoDir,
    maxDiskGiB: maxDiskGiB ?? 1,
    publishAddress,
    ipmiPortRange: Object.freeze(ipmiPortRange),
    vncPortRange: Object.freeze(vncPortRange),
    redfishPortRange: Object.freeze(redfishPortRange),
    fleetRedfish: fleetRedfishPort === null ? null : Object.freeze({ port: fleetRedfishPort }),
    nodeImage,
    nodeDefaults,
    log: Object.freeze({ level, format }),
    fleetName,
    runtime,
    reconcileIntervalMs: (reconcileSeconds ?? 0) * 1000,
    simPlacement,
    farmCapacity: farmCapacity ?? 1,
  };
  return Object.freeze(config);
}
