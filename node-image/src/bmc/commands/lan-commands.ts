/**
 * LAN configuration (IPMI v2.0 section 23.1 Set / 23.2 Get LAN Configuration Parameters, table
 * 23-4 parameters). NetFn Transport (0x0C). Get needs Operator, Set Administrator (table G-1).
 *
 * Get LAN Config 0x02  req: [7 revision only, 3:0 channel] [parameter] [set selector] [block selector]
 *                      rsp: [parameter revision 0x11] [parameter data ...]
 * Set LAN Config 0x01  req: [3:0 channel] [parameter] [parameter data ...]
 *
 * Three kinds of parameter:
 * - stored (7 IP header, 10 ARP control, 11 gratuitous ARP interval, 16 community string, 20 VLAN ID,
 *   21 VLAN priority): a simulated BMC can keep them; written to the StateStore document "lan.json"
 *   and read back exactly as written (ipmitool `lan set` reads every write back and compares).
 * - live (2, 3, 4, 5, 6, 8, 12–15, 24): the address, mask, MAC and gateway really in use (through
 *   NetworkInfo), the IPMI 1.5 auth types and cipher suites the session layer really accepts, the
 *   UDP port. A Set with the value already in force succeeds (scripts that "set" what is there
 *   keep working); any other value answers 0xD5 "not supported in present state": accepting and
 *   ignoring it would make ipmitool re-read and retry for 30 s and then report a mismatch anyway.
 * - read-only by the spec (1, 22, 23): Set answers 0x82.
 * Parameter 26 (bad password threshold) is the user store's real lockout policy and is writable.
 * IP address source (4) reports 1 "static": the address is assigned to the interface by its
 * host/container runtime, not leased by a DHCP client of this BMC.
 * Parameter 0 "set in progress" is a notification flag only (spec 23.1): writes apply at once;
 * 01 while already in progress answers 0x81; 10 "commit write" is accepted (nothing is pending)
 * and, as the spec says, leaves the state "set in progress"; 11 is reserved (0xCC).
 * Unknown parameters answer 0x80; a Get with the revision-only bit answers just the revision.
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, TransportCmd } from '../../protocol/netfn';
import { type StateStore, readJson, writeJson } from '../../state/state-store';
import type { NetworkInfo } from '../../network/network-info';
import { BAD_PASSWORD_THRESHOLD_LENGTH, decodeBadPasswordThreshold, encodeBadPasswordThreshold, type LockoutPolicy } from '../users/auth-lockout';
import { type CommandDefinition, type CommandResult, fail, isThisChannel, ok } from './command-types';

export interface LanCommandDeps {
  /** The LAN channel number (1); 0x0E in a request means this channel. */
  readonly channel: number;
  readonly network: NetworkInfo;
  /** IDs of the RMCP+ cipher suites the session layer offers, in the order it lists them. */
  readonly cipherSuites: readonly number[];
  /** IPMI 1.5 auth types the session layer accepts (LanAuthType bits); 0 when IPMI 1.5 is off. */
  readonly ipmi15AuthTypes: number;
  /** UDP port the IPMI server is bound to (parameter 8, primary RMCP port); absent = parameter 8 unsupported. */
  readonly rmcpPort?: () => number;
  readonly users: { readonly lockoutPolicy: LockoutPolicy; setLockoutPolicy(policy: LockoutPolicy): void };
  readonly store: StateStore;
}

/** IPMI 1.5 authentication type bits (parameters 1 and 2; Get Channel Auth Capabilities byte 2). */
export const LanAuthType = { None: 0x01, Md2: 0x02, Md5: 0x04, Password: 0x10, Oem: 0x20 } as const;

export const LAN_DOCUMENT = 'lan.json';
export const LAN_PARAMETER_REVISION = 0x11;

export const LanParam = {
  SetInProgress: 0, AuthTypeSupport: 1, AuthTypeEnables: 2, IpAddress: 3, IpAddressSource: 4, MacAddress: 5,
  SubnetMask: 6, Ipv4HeaderParameters: 7, PrimaryRmcpPort: 8, BmcGeneratedArpControl: 10, GratuitousArpInterval: 11,
  DefaultGatewayAddress: 12, DefaultGatewayMac: 13, BackupGatewayAddress: 14, BackupGatewayMac: 15,
  CommunityString: 16, VlanId: 20, VlanPriority: 21, CipherSuiteEntrySupport: 22, CipherSuiteEntries: 23,
  CipherSuitePrivilegeLevels: 24, BadPasswordThreshold: 26,
} as const;

const LanConfigCode = { ParameterNotSupported: 0x80, SetInProgressActive: 0x81, ReadOnlyParameter: 0x82 } as const;
const SetInProgress = { Complete: 0, InProgress: 1, CommitWrite: 2 } as const;
const IpAddressSource = { Static: 0x01 } as const;
/** Privilege levels given by AuthTypeEnables, in order: callback, user, operator, administrator, OEM. */
const AUTH_ENABLE_LEVELS = 5;
const MAX_CIPHER_SUITE_ENTRIES = 16;
const REVISION_ONLY = 0x80;
const VLAN_ENABLE = 0x8000;
const VLAN_ID_MASK = 0x0fff;
const VLAN_ID_MAX = 4094;

type Validator = (data: Buffer) => boolean;

/** Defaults and checks of the stored parameters (reserved bits must be zero). */
const STORED: ReadonlyMap<number, { readonly fallback: Buffer; readonly valid: Validator }> = new Map([
  // TTL 64, "don't fragment", precedence 0, TOS "minimize delay" (the spec's defaults).
  [LanParam.Ipv4HeaderParameters, { fallback: Buffer.from([0x40, 0x40, 0x10]), valid: (d: Buffer) => (d[1]! & 0x1f) === 0 && (d[2]! & 0x01) === 0 }],
  // ARP responses on (the host kernel answers ARP), gratuitous ARP off.
  [LanParam.BmcGeneratedArpControl, { fallback: Buffer.from([0x02]), valid: (d: Buffer) => (d[0]! & 0xfc) === 0 }],
  [LanParam.GratuitousArpInterval, { fallback: Buffer.from([0x04]), valid: () => true }],
  [LanParam.CommunityString, { fallback: paddedAscii('public', 18), valid: () => true }],
  [LanParam.VlanId, { fallback: Buffer.alloc(2), valid: validVlanId }],
  [LanParam.VlanPriority, { fallback: Buffer.alloc(1), valid: (d: Buffer) => (d[0]! & 0xf8) === 0 }],
]);

function validVlanId(d: Buffer): boolean {
  const v = d.readUInt16LE(0);
  if (v & 0x7000) return false;
  const id = v & VLAN_ID_MASK;
  return (v & VLAN_ENABLE) === 0 || (id >= 1 && id <= VLAN_ID_MAX);
}

export function lanCommands(deps: LanCommandDeps): CommandDefinition[] {
  const stored = loadStored(deps.store);
  let setInProgress: number = SetInProgress.Complete;
  const isOurChannel = (ch: number): boolean => isThisChannel(ch, deps.channel);

  /** Live values; undefined = not a live parameter. */
  const live = (param: number): Buffer | undefined => {
    switch (param) {
      case LanParam.AuthTypeEnables: return Buffer.from([...Array<number>(AUTH_ENABLE_LEVELS - 1).fill(deps.ipmi15AuthTypes), 0]);
      case LanParam.IpAddress: return ipBytes(deps.network.ipv4().address);
      case LanParam.IpAddressSource: return Buffer.from([IpAddressSource.Static]);
      case LanParam.MacAddress: return macBytes(deps.network.ipv4().mac);
      case LanParam.SubnetMask: return ipBytes(deps.network.ipv4().netmask);
      case LanParam.PrimaryRmcpPort: {
        if (!deps.rmcpPort) return undefined;
        const b = Buffer.alloc(2);
        b.writeUInt16LE(deps.rmcpPort());
        return b;
      }
      case LanParam.DefaultGatewayAddress: return ipBytes(deps.network.ipv4().gateway ?? '0.0.0.0');
      case LanParam.DefaultGatewayMac: return macBytes(deps.network.ipv4().gatewayMac ?? '00:00:00:00:00:00');
      case LanParam.BackupGatewayAddress: return Buffer.alloc(4);
      case LanParam.BackupGatewayMac: return Buffer.alloc(6);
      case LanParam.CipherSuitePrivilegeLevels: return cipherSuitePrivileges(deps.cipherSuites);
      default: return undefined;
    }
  };
  const readOnly = (param: number): Buffer | undefined => {
    switch (param) {
      case LanParam.AuthTypeSupport: return Buffer.from([deps.ipmi15AuthTypes]);
      case LanParam.CipherSuiteEntrySupport: return Buffer.from([Math.min(deps.cipherSuites.length, MAX_CIPHER_SUITE_ENTRIES)]);
      case LanParam.CipherSuiteEntries: return Buffer.from([0x00, ...deps.cipherSuites.slice(0, MAX_CIPHER_SUITE_ENTRIES)]);
      default: return undefined;
    }
  };
  const read = (param: number): Buffer | undefined => {
    if (param === LanParam.SetInProgress) return Buffer.from([setInProgress]);
    if (param === LanParam.BadPasswordThreshold) return encodeBadPasswordThreshold(deps.users.lockoutPolicy);
    return stored.get(param) ?? live(param) ?? readOnly(param);
  };

  const write = (param: number, data: Buffer): CommandResult => {
    if (param === LanParam.SetInProgress) return writeSetInProgress(data);
    if (param === LanParam.BadPasswordThreshold) {
      if (data.length !== BAD_PASSWORD_THRESHOLD_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
      const policy = decodeBadPasswordThreshold(data);
      if (!policy) return fail(CompletionCode.InvalidDataField);
      deps.users.setLockoutPolicy(policy);
      return ok();
    }
    const current = read(param);
    if (!current) return fail(LanConfigCode.ParameterNotSupported);
    if (readOnly(param)) return fail(LanConfigCode.ReadOnlyParameter);
    if (data.length !== current.length) return fail(CompletionCode.RequestDataLengthInvalid);
    const rule = STORED.get(param);
    if (!rule) return data.equals(current) ? ok() : fail(CompletionCode.NotSupportedInPresentState);
    if (!rule.valid(data)) return fail(CompletionCode.InvalidDataField);
    stored.set(param, Buffer.from(data));
    saveStored(deps.store, stored);
    return ok();
  };

  const writeSetInProgress = (data: Buffer): CommandResult => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    switch (data[0]) {
      case SetInProgress.Complete: setInProgress = SetInProgress.Complete; return ok();
      case SetInProgress.InProgress:
        if (setInProgress === SetInProgress.InProgress) return fail(LanConfigCode.SetInProgressActive);
        setInProgress = SetInProgress.InProgress;
        return ok();
      // Writes take effect at once, so there is nothing to commit; the spec then returns to "in progress".
      case SetInProgress.CommitWrite: setInProgress = SetInProgress.InProgress; return ok();
      default: return fail(CompletionCode.InvalidDataField);
    }
  };

  return [
    {
      netFn: NetFn.Transport, cmd: TransportCmd.GetLanConfigParameters, name: 'Get LAN Configuration Parameters', privilege: Privilege.Operator,
      handler: (data) => {
        if (data.length !== 4) return fail(CompletionCode.RequestDataLengthInvalid);
        const b1 = data[0]!;
        if (b1 & 0x70 || !isOurChannel(b1 & 0x0f)) return fail(CompletionCode.InvalidDataField);
        if (b1 & REVISION_ONLY) return ok(Buffer.from([LAN_PARAMETER_REVISION]));
        const value = read(data[1]!);
        if (!value) return fail(LanConfigCode.ParameterNotSupported);
        return ok(Buffer.concat([Buffer.from([LAN_PARAMETER_REVISION]), value]));
      },
    },
    {
      netFn: NetFn.Transport, cmd: TransportCmd.SetLanConfigParameters, name: 'Set LAN Configuration Parameters', privilege: Privilege.Administrator,
      handler: (data) => {
        if (data.length < 2) return fail(CompletionCode.RequestDataLengthInvalid);
        const b1 = data[0]!;
        if (b1 & 0xf0 || !isOurChannel(b1)) return fail(CompletionCode.InvalidDataField);
        return write(data[1]!, data.subarray(2));
      },
    },
  ];
}

/**
 * Byte 1 reserved, then one nibble per cipher suite (low nibble first): Administrator for each offered
 * suite, 0 = unused. The nibble is found by the suite's ID, as ipmitool (`lan print`, "Cipher Suite
 * Priv Max"), FreeIPMI (`ipmi-config` Maximum_Privilege_Cipher_Suite_Id_N) and OpenBMC read it;
 * indexing by list position would show suites 0 and 1 as usable. IDs above 15 have no nibble.
 */
function cipherSuitePrivileges(suiteIds: readonly number[]): Buffer {
  const out = Buffer.alloc(1 + MAX_CIPHER_SUITE_ENTRIES / 2);
  for (const id of suiteIds) {
    if (id >= MAX_CIPHER_SUITE_ENTRIES) continue;
    out[1 + (id >> 1)]! |= Privilege.Administrator << ((id & 1) * 4);
  }
  return out;
}

function ipBytes(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return Buffer.alloc(4);
  return Buffer.from(parts);
}

function macBytes(mac: string): Buffer {
  const parts = mac.split(':').map((p) => parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => Number.isNaN(p) || p < 0 || p > 255)) return Buffer.alloc(6);
  return Buffer.from(parts);
}

function paddedAscii(text: string, n: number): Buffer {
  const b = Buffer.alloc(n);
  b.write(text, 'latin1');
  return b;
}

function loadStored(state: StateStore): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let doc: { version?: number; params?: Record<string, string> } | undefined;
  try {
    doc = readJson(state, LAN_DOCUMENT);
  } catch {
    doc = undefined; // unreadable: the defaults
  }
  for (const [param, rule] of STORED) {
    const hex = doc?.version === 1 ? doc.params?.[String(param)] : undefined;
    const value = typeof hex === 'string' && /^([0-9a-f]{2})*$/i.test(hex) ? Buffer.from(hex, 'hex') : undefined;
    out.set(param, value && value.length === rule.fallback.length && rule.valid(value) ? value : Buffer.from(rule.fallback));
  }
  return out;
}

function saveStored(state: StateStore, stored: ReadonlyMap<number, Buffer>): void {
  const params: Record<string, string> = {};
  for (const [param, value] of stored) params[String(param)] = value.toString('hex');
  writeJson(state, LAN_DOCUMENT, { version: 1, params });
}
