/**
 * The agent's configuration, read once from the environment (docs/operations.md lists every
 * variable). Every problem is collected and reported together, so one start shows all mistakes.
 * Only this file reads process.env.
 */
import { CipherSuite, parseCipherSuiteList } from './protocol/crypto/cipher-suites';
import { VM_MAC_ID_MAX, VM_MAC_ID_MIN } from './machine/vm-nics';

export interface AgentConfig {
  readonly machine: 'qemu' | 'sim';
  readonly ipmiAddress: string;
  readonly ipmiPort: number;
  /**
   * IPMI_SOL_PORT: the UDP port Activate Payload names for SOL, when clients reach the BMC on another
   * port than the one it listens on (a container's 623/udp published as another host port);
   * undefined: the port it listens on.
   */
  readonly ipmiSolPort: number | undefined;
  readonly ipmiUser: string;
  readonly ipmiPassword: string;
  readonly cipherSuites: readonly CipherSuite[];
  readonly ipmi15: boolean;
  /** IPMI 1.5 AuthCode types accepted (IPMI_V15_AUTH_TYPES): a non-empty subset of md5, password. */
  readonly ipmi15AuthTypes: readonly Ipmi15AuthTypeName[];
  readonly stateDir: string;
  /** The fault control socket (BMC_FAULTS_SOCKET; default faults.sock in the state directory; undefined: none). */
  readonly faultsSocket: string | undefined;
  readonly powerOnAtStart: boolean;
  readonly debug: boolean;
  /** Name used in the FRU serial number and the console banner (NODE_NAME, else the host name). */
  readonly nodeName: string;
  /** VM_MAC_ID: the node's block of VM NIC MACs, allocated by the orchestrator (machine/vm-nics.ts); undefined: MACs derived from nodeName. */
  readonly macId: number | undefined;
  /** Tuning for tests: how long simulated power transitions take (SIM_POWER_DELAY_MS). */
  readonly simPowerDelayMs: number;
  /** REDFISH_PORT: the HTTPS port of the Redfish service (on IPMI_ADDRESS); undefined = off (`none`). */
  readonly redfishPort: number | undefined;
  /** REDFISH_TLS_CERT / REDFISH_TLS_KEY: PEM files; both undefined = a generated self-signed certificate. */
  readonly redfishTlsCert: string | undefined;
  readonly redfishTlsKey: string | undefined;
  /** REDFISH_EVENT_ALLOW_LOOPBACK: event subscriptions may push to loopback addresses (default false). */
  readonly redfishEventAllowLoopback: boolean;
  /**
   * BMC_USERS_RESET_ID: when it differs from the id stored with the BMC's state, the user table
   * starts over from IPMI_USER / IPMI_PASS (bmc/users/users-reset.ts). Undefined: users are kept.
   */
  readonly usersResetId: string | undefined;
}

export const IPMI15_AUTH_TYPE_NAMES = ['md5', 'password'] as const;
export type Ipmi15AuthTypeName = (typeof IPMI15_AUTH_TYPE_NAMES)[number];

/**
 * IPMI_V15_AUTH_TYPES: comma-separated, e.g. "md5" (the default) or "md5,password". "password"
 * sends the password in clear in every datagram; "none" (no AuthCode at all) is never allowed;
 * MD2 is not implemented.
 */
export function parseIpmi15AuthTypes(value: string): Ipmi15AuthTypeName[] {
  const names = value.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const out: Ipmi15AuthTypeName[] = [];
  for (const n of names) {
    if (n === 'none') throw new Error('IPMI_V15_AUTH_TYPES must not contain "none": a session without an AuthCode is never allowed');
    if (n === 'md2') throw new Error('IPMI_V15_AUTH_TYPES: "md2" is not supported (use md5)');
    if (!(IPMI15_AUTH_TYPE_NAMES as readonly string[]).includes(n)) throw new Error(`IPMI_V15_AUTH_TYPES: "${n}" is not one of ${IPMI15_AUTH_TYPE_NAMES.join(', ')}`);
    if (!out.includes(n as Ipmi15AuthTypeName)) out.push(n as Ipmi15AuthTypeName);
  }
  if (out.length === 0) throw new Error('IPMI_V15_AUTH_TYPES must name at least one of md5, password (IPMI_V15=false turns IPMI 1.5 off)');
  return out;
}

export const DEFAULT_REDFISH_PORT = 443;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const MAX_USER_NAME = 16;
const MAX_PASSWORD = 20;
const MAX_USERS_RESET_ID = 128;

export function loadConfig(env: NodeJS.ProcessEnv, hostName: string): AgentConfig {
  const problems: string[] = [];
  const str = (name: string, def: string): string => env[name] ?? def;
  const bool = (name: string, def: boolean): boolean => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    problems.push(`${name}="${v}" must be true or false`);
    return def;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}="${v}" must be a whole number from ${min} to ${max}`);
      return def;
    }
    return Number(v);
  };
  const solPort = (): number | undefined => {
    const v = env['IPMI_SOL_PORT'];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
      problems.push(`IPMI_SOL_PORT="${v}" must be a UDP port from 1 to 65535: the port clients reach this BMC on (e.g. the host port 623/udp is published as), or unset for the port it listens on`);
      return undefined;
    }
    return Number(v);
  };

  const machine = str('MACHINE', 'qemu');
  if (machine !== 'qemu' && machine !== 'sim') problems.push(`MACHINE="${machine}" must be qemu or sim`);
  const ipmiUser = str('IPMI_USER', 'admin');
  const ipmiPassword = str('IPMI_PASS', 'password');
  if (ipmiUser.length === 0) problems.push('IPMI_USER must not be empty (this BMC has no anonymous or null user)');
  if (Buffer.byteLength(ipmiUser, 'latin1') > MAX_USER_NAME || /[^\x21-\x7e]/.test(ipmiUser)) problems.push(`IPMI_USER must be 1 to ${MAX_USER_NAME} printable ASCII characters without spaces`);
  if (ipmiPassword.length === 0) problems.push('IPMI_PASS must not be empty');
  if (Buffer.byteLength(ipmiPassword, 'latin1') > MAX_PASSWORD || /[^\x20-\x7e]/.test(ipmiPassword)) problems.push(`IPMI_PASS must be 1 to ${MAX_PASSWORD} printable ASCII characters`);
  let cipherSuites: CipherSuite[] = [];
  try {
    cipherSuites = parseCipherSuiteList(str('IPMI_CIPHER_SUITES', '3,17'));
  } catch (err) {
    problems.push((err as Error).message);
  }
  let ipmi15AuthTypes: Ipmi15AuthTypeName[] = ['md5'];
  try {
    ipmi15AuthTypes = parseIpmi15AuthTypes(str('IPMI_V15_AUTH_TYPES', 'md5'));
  } catch (err) {
    problems.push((err as Error).message);
  }
  const ipmiAddress = str('IPMI_ADDRESS', '0.0.0.0');
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(ipmiAddress)) problems.push(`IPMI_ADDRESS="${ipmiAddress}" must be an IPv4 address`);

  const redfishPortText = str('REDFISH_PORT', String(DEFAULT_REDFISH_PORT));
  const redfishPort = redfishPortText === 'none' ? undefined : int('REDFISH_PORT', DEFAULT_REDFISH_PORT, 0, 65535);
  if (redfishPortText !== 'none' && problems.some((p) => p.startsWith('REDFISH_PORT='))) problems.push('REDFISH_PORT may also be none (no Redfish service)');
  const redfishTlsCert = env.REDFISH_TLS_CERT || undefined;
  const redfishTlsKey = env.REDFISH_TLS_KEY || undefined;
  if ((redfishTlsCert === undefined) !== (redfishTlsKey === undefined)) problems.push('REDFISH_TLS_CERT and REDFISH_TLS_KEY must be given together (or neither, for a generated certificate)');
  const resetIdValue = env['BMC_USERS_RESET_ID'];
  const usersResetId = resetIdValue === undefined || resetIdValue === '' ? undefined : resetIdValue;
  if (usersResetId !== undefined && !new RegExp(`^[\\x21-\\x7e]{1,${MAX_USERS_RESET_ID}}$`).test(usersResetId)) {
    problems.push(`BMC_USERS_RESET_ID must be 1 to ${MAX_USERS_RESET_ID} printable ASCII characters without spaces`);
  }

  const config: AgentConfig = {
    machine: machine === 'sim' ? 'sim' : 'qemu',
    ipmiAddress,
    ipmiPort: int('IPMI_PORT', 623, 0, 65535),
    ipmiSolPort: solPort(),
    ipmiUser,
    ipmiPassword,
    cipherSuites,
    ipmi15: bool('IPMI_V15', true),
    ipmi15AuthTypes,
    stateDir: str('BMC_STATE_DIR', '/vm/bmc'),
    faultsSocket: faultsSocket(env.BMC_FAULTS_SOCKET, str('BMC_STATE_DIR', '/vm/bmc')),
    powerOnAtStart: bool('POWER_ON_AT_START', false),
    debug: bool('DEBUG', false),
    nodeName: str('NODE_NAME', hostName),
    macId: env.VM_MAC_ID === undefined || env.VM_MAC_ID === '' ? undefined : int('VM_MAC_ID', 0, VM_MAC_ID_MIN, VM_MAC_ID_MAX),
    simPowerDelayMs: int('SIM_POWER_DELAY_MS', 300, 0, 60_000),
    redfishPort,
    redfishTlsCert,
    redfishTlsKey,
    redfishEventAllowLoopback: bool('REDFISH_EVENT_ALLOW_LOOPBACK', false),
    usersResetId,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function faultsSocket(value: string | undefined, stateDir: string): string | undefined {
  if (value === 'none') return undefined;
  return value === undefined || value === '' ? `${stateDir.replace(/\/+$/, '')}/faults.sock` : value;
}
