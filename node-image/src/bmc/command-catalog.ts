/**
 * The command reference (docs/ipmi-commands.md), generated from the real dispatch table so that it
 * cannot drift from the code: registeredCommands() composes every command family the way
 * bmc-agent.ts does, but with in-memory state, a silent log and no socket; the spec compares that
 * table with the one of a running BmcAgent and the document with renderCommandReference().
 *
 * What the dispatch table cannot know (the spec section, the completion codes a handler uses) is
 * annotated here, keyed by NetFn/cmd; the spec fails when a registered command has no annotation
 * or an annotation names a command nobody registers. Section numbers follow IPMI v2.0 rev 1.1.
 *
 * Regenerate the document: npm run build:agent && node scripts/gen-docs.js
 */
import { randomBytes } from 'node:crypto';
import { BmcEngine, DEFAULT_ENGINE_CONFIG } from './bmc-engine';
import { Dispatcher } from './dispatcher';
import { appCommands } from './commands/app-commands';
import { CHASSIS_CONTROL_ANSWER_WITHIN_MS, chassisCommands } from './commands/chassis-commands';
import { sensorCommands } from './commands/sensor-commands';
import { storageCommands } from './commands/storage-commands';
import { userCommands } from './commands/user-commands';
import { channelCommands } from './commands/channel-commands';
import { lanCommands, LanAuthType } from './commands/lan-commands';
import { solConfigCommands } from './commands/sol-config-commands';
import type { CommandDefinition } from './commands/command-types';
import { BootOptions } from './chassis/boot-options';
import { ChassisState, IDENTIFY_DEFAULT_SECONDS, POH_MINUTES_PER_COUNT } from './chassis/chassis-state';
import { FruInventory } from './inventory/fru-inventory';
import { SdrRepository } from './inventory/sdr-repository';
import { SystemEventLog } from './sel/system-event-log';
import { MAX_USER_ID, UserStore } from './users/user-store';
import { ChannelAccessStore } from './users/channel-access';
import { DEFAULT_LOCKOUT_POLICY, GLOBAL_THRESHOLD_FACTOR } from './users/auth-lockout';
import { DEFAULT_SESSION_LIMITS } from './session/session-table';
import { loadOrCreateIdentity } from './identity';
import { SolConfig } from '../sol/sol-config';
import { SolManager } from '../sol/sol-manager';
import { SimMachine } from '../machine/sim-machine';
import type { NetworkInfo } from '../network/network-info';
import { MemoryStateStore } from '../state/state-store';
import { CIPHER_SUITES, DEFAULT_SUITE_IDS, type CipherSuite } from '../protocol/crypto/cipher-suites';
import { Privilege, RakpStatus } from '../protocol/errors';
import { NetFn } from '../protocol/netfn';
import { WINDOW_ABOVE, WINDOW_BELOW } from '../protocol/session/sequence-window';
import { silentLogger } from '../util/logger';

export const REGENERATE_COMMAND = 'npm run build:agent && node scripts/gen-docs.js';
export const COMMAND_REFERENCE_PATH = 'docs/ipmi-commands.md';

const LOOPBACK_NETWORK: NetworkInfo = { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) };

/**
 * Every command the dispatcher answers, composed like BmcAgent.start() (same families, same
 * order, default suites 3 and 17, IPMI 1.5 on) without listening anywhere. Sorted by NetFn, cmd.
 */
export function registeredCommands(): CommandDefinition[] {
  const store = new MemoryStateStore();
  const clock = (): number => 0;
  const identity = loadOrCreateIdentity(store, randomBytes);
  const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
  const channelAccess = new ChannelAccessStore(store);
  const boot = new BootOptions({ store, clock });
  const chassis = new ChassisState({ store });
  const sel = new SystemEventLog(store);
  const sdr = new SdrRepository();
  const fru = new FruInventory({ manufacturer: 'bmcfleet', productName: 'bmcfleet virtual server', partNumber: 'BMCF-VS-1', serialNumber: 'catalog' });
  const machine = new SimMachine({ boot, nodeName: 'catalog' });
  const suites = CIPHER_SUITES.filter((s) => DEFAULT_SUITE_IDS.includes(s.id));
  const dispatcher = new Dispatcher(silentLogger);
  const engine = new BmcEngine({
    config: { ...DEFAULT_ENGINE_CONFIG, cipherSuites: suites, ipmi15Enabled: true },
    users,
    guid: () => identity.systemGuid,
    random: randomBytes,
    send: () => undefined,
    dispatcher,
    log: silentLogger,
    channelPrivilegeLimit: () => channelAccess.privilegeLimit(),
  });
  const solConfig = new SolConfig({ store, payloadPort: () => 623 });
  const sol = new SolManager({ engine, machine, config: solConfig, users, clock, log: silentLogger, solPort: () => 623 });
  try {
    dispatcher
      .register(appCommands({ sessions: engine, identity, onReset: () => undefined }))
      .register(sol.commands())
      .register(chassisCommands({ machine, boot, chassis }))
      .register(sensorCommands({ sdr, powerState: () => machine.powerState() }))
      .register(storageCommands({ sdr, fru, sel }))
      .register(userCommands({ users, channel: DEFAULT_ENGINE_CONFIG.channel }))
      .register(channelCommands({ channel: DEFAULT_ENGINE_CONFIG.channel, access: channelAccess, activeSessionCount: () => 0 }))
      .register(lanCommands({
        network: LOOPBACK_NETWORK, cipherSuites: suites.map((s) => s.id), users, store, channel: DEFAULT_ENGINE_CONFIG.channel,
        ipmi15AuthTypes: LanAuthType.Md5 | LanAuthType.Password, rmcpPort: () => 623,
      }))
      .register(solConfigCommands({ config: solConfig }));
    return dispatcher.definitions();
  } finally {
    sol.close();
    void machine.close();
  }
}

// ------------------------------------------------------------------ annotations

export interface CommandNote {
  /** IPMI v2.0 rev 1.1 section (and table) the command implements. */
  readonly spec: string;
  /** Behaviour worth knowing: completion codes beyond the common ones, limits, side effects. */
  readonly notes: string;
}

export const commandKey = (netFn: number, cmd: number): string =>
  `${netFn.toString(16).padStart(2, '0').toUpperCase()}/${cmd.toString(16).padStart(2, '0').toUpperCase()}`;

/** Annotations of every dispatched command, keyed "NetFn/cmd" in hex. */
export const COMMAND_NOTES: Readonly<Record<string, CommandNote>> = {
  // ---- Chassis (00h), chapter 28
  '00/00': { spec: '28.1', notes: 'No intrusion sensor, front-panel lockout or interlock; FRU, SDR, SEL and SM device all at 20h.' },
  '00/01': { spec: '28.2, table 28-3', notes: 'Power state read live from the machine; power-control-fault bit after a failed action; restore policy; last power event; identify state (supported bit set); no front-panel buttons.' },
  '00/02': { spec: '28.3, table 28-4', notes: `Actions 0 off, 1 on, 2 cycle, 3 hard reset, 4 diagnostic interrupt (NMI), 5 soft (ACPI) off. Answers when the action is done, or after ${CHASSIS_CONTROL_ANSWER_WITHIN_MS} ms of a slower transition (which goes on; Get Chassis Status follows it), before ipmitool's 1 s retry. CCh other values or an action the machine lacks; D5h cycle/reset/diag/soft while off; C0h while another power action runs; FFh when the machine failed (sets the fault bit, also for a failure after the answer). Power transitions, resets, cycles and soft-offs are logged in the SEL. A retransmitted request is never run twice.` },
  '00/04': { spec: '28.5', notes: `Interval in seconds (none = ${IDENTIFY_DEFAULT_SECONDS} s, 0 = off); byte 2 bit 0 forces on. CCh reserved bits.` },
  '00/06': { spec: '28.8', notes: 'Always off / previous / always on / 3 no change; answers the supported-policy bitmap 07h. CCh other values. Persisted; applied at agent start.' },
  '00/07': { spec: '28.11, table 28-11', notes: 'Cause of the last power-up or reset (Chassis Control, power restore policy, a power-up from the guest or at start) and the channel of the command. Persisted.' },
  '00/08': { spec: '28.12, table 28-14', notes: 'Parameters 0 set-in-progress, 1 service partition selector, 2 service partition scan, 3 boot flag valid clearing, 4 boot info acknowledge, 5 boot flags, 6 boot initiator info, 7 initiator mailbox. 80h unsupported parameter, 81h set in progress already set, C9h mailbox block out of range, CCh reserved values. The boot flags reach the machine at its next boot.' },
  '00/09': { spec: '28.13, table 28-14', notes: 'Same parameters; byte 2 bit 7 reports "invalid/locked". The boot flag valid bit clears 60 s after it was set (a Chassis Control restarts the countdown) unless parameter 3 bit 3 says not to, and after a boot that used non-persistent flags.' },
  '00/0F': { spec: '28.14', notes: `Minutes per count ${POH_MINUTES_PER_COUNT}; the counter advances while the machine is on and is kept across agent restarts.` },
  // ---- Sensor/Event (04h), chapter 35
  '04/27': { spec: '35.9', notes: 'CBh unknown sensor; CDh for a discrete (non-threshold) sensor.' },
  '04/29': { spec: '35.11', notes: 'Threshold sensors: scanning on, no event messages; discrete sensors: their supported states. CBh unknown sensor.' },
  '04/2D': { spec: '35.14', notes: 'Readings follow the machine\'s power state and drift slowly over time (deterministic, not random). CBh unknown sensor or event-only sensor (no reading).' },
  // ---- App (06h), chapters 20, 22, 24
  '06/01': { spec: '20.1, table 20-2', notes: 'IPMI 2.0, manufacturer 32473 (IANA documentation number: no client OEM quirks), product 0B4Ch, SDR repository but no device SDRs.' },
  '06/02': { spec: '20.2', notes: 'Answers first, then ends every session (as a real BMC restart does) and logs a BMC restart in the SEL.' },
  '06/03': { spec: '20.3', notes: 'Answers first, then logs a BMC restart in the SEL; sessions stay (ipmitool closes its own afterwards and waits for that answer).' },
  '06/04': { spec: '20.4', notes: '55h 00h: no error.' },
  '06/08': { spec: '20.8', notes: 'Persisted with the BMC state.' },
  '06/37': { spec: '22.14', notes: 'The GUID also used as GUIDc in RAKP 2/3/4. Persisted.' },
  '06/38': { spec: '22.13, table 22-15', notes: 'Answered outside a session. CCh for a channel other than 1/0Eh or a privilege outside 1..5. IPMI 1.5 auth types listed exactly as IPMI_V15_AUTH_TYPES enables them (MD5 by default; straight password only when named), none when IPMI_V15 is off; "non-null user names only"; extended (v2.0) data when byte 1 bit 7 asks for it.' },
  '06/3B': { spec: '22.18, table 22-22', notes: 'Level 0 returns the current level. CCh for Callback or above OEM; 80h OEM level (not available for the user); 81h above the session\'s maximum (user and channel limit).' },
  '06/3C': { spec: '22.19, table 22-23', notes: 'By session ID, or ID 0 and a handle. 87h unknown ID, 88h unknown handle. Closing the own session: the reply still goes out under its keys, then the session ends. Closing another session needs Administrator (D4h); it ends that session\'s SOL too.' },
  '06/3D': { spec: '22.20, table 22-25', notes: 'Selectors 00h this session, 01h..3Fh n-th active, FEh by handle, FFh by session ID. An index, handle or ID without an active session answers handle 0 with the slot and active counts (as ipmi_sim; ipmitool\'s `session info all` walks every index); CCh other selectors. Includes the console\'s IPv4 address and UDP port; slot count = maximum sessions.' },
  '06/40': { spec: '22.22', notes: 'Non-volatile settings persisted, volatile ones kept until restart. CCh when asked to disable per-message or user-level authentication, reserved bits, or a privilege limit outside 1..5/0Fh; 83h for an access mode other than "always available". The privilege limit takes effect at once for new sessions and lowers the live ones above it from their next request (sections 6.8, 22.22): they answer D4h for what needs more, and cannot raise themselves back.' },
  '06/41': { spec: '22.23', notes: 'CCh for another channel or a selector other than non-volatile/volatile.' },
  '06/42': { spec: '22.24, tables 6-3, 6-4', notes: 'Channel 1 only (or 0Eh): 802.3 LAN, IPMB 1.0 protocol, multi-session, active session count. CCh other channels (there is no system interface channel).' },
  '06/43': { spec: '22.26', notes: `Per-user session limit must be 0 (CCh otherwise). C9h user ID 0 or above ${MAX_USER_ID}; CCh for the null user (ID 1) beyond staying disabled. D5h (not supported in present state) for demoting the last enabled administrator (the rule Redfish applies too).` },
  '06/44': { spec: '22.27', notes: `${MAX_USER_ID} user IDs (1 is the null user, 2 the configured IPMI_USER); enabled count; fixed names. C9h user ID out of range.` },
  '06/45': { spec: '22.28', notes: '16-byte NUL-padded name. CCh duplicate or invalid name, or renaming the null user. D5h for clearing the name of the last enabled administrator.' },
  '06/46': { spec: '22.29', notes: 'C9h user ID out of range.' },
  '06/47': { spec: '22.30', notes: '16- or 20-byte form (byte 1 bit 7); operations disable, enable, set, test. 80h test mismatch, 81h test with the wrong size; CCh for a password outside the policy Redfish advertises (`MinPasswordLength` 8 to `MaxPasswordLength` 20 printable ASCII characters); D5h for disabling the last enabled administrator. Enabling a user ends its lockout. Users with a 20-byte password can log in over RMCP+ only.' },
  '06/48': { spec: '24.1, table 24-2', notes: 'SOL (payload 1) instance 1 only; answers 12 bytes with 200-byte payload sizes and the SOL port: IPMI_SOL_PORT when set (the port clients reach the BMC on through a mapping), else the UDP port the BMC listens on. D5h outside an RMCP+ session; 81h SOL disabled or no SOL payload access for the user; D4h below the SOL privilege level; 83h encryption/authentication asked for but absent from the session; 84h the SOL configuration forces what the request leaves off; 80h already active.' },
  '06/49': { spec: '24.2, table 24-3', notes: '80h already deactivated. Deactivating another session\'s SOL needs Administrator and ends that session.' },
  '06/4A': { spec: '24.4', notes: 'SOL only (CCh for other payload types): one instance, its state.' },
  '06/4B': { spec: '24.5', notes: 'SOL instance 1: the owning session ID (0 when inactive).' },
  '06/4C': { spec: '24.6', notes: 'Only the SOL bit can be granted or taken (IPMI messaging is always allowed); CCh for any other payload bit.' },
  '06/4D': { spec: '24.7', notes: 'Reports the SOL bit.' },
  '06/4E': { spec: '24.8', notes: 'Standard payloads IPMI and SOL; session setup payloads 10h..15h.' },
  '06/4F': { spec: '24.9', notes: 'Version 1.0 for IPMI and SOL; 80h other payload types.' },
  '06/54': { spec: '22.15, tables 22-18, 22-19', notes: 'Answered outside a session (RMCP+ framing, session 0). Lists only the enabled suites (by suite, or by algorithm), 16 bytes per page; payload type IPMI or SOL, CCh otherwise.' },
  '06/59': { spec: '22.14b', notes: 'No system-software parameters are kept: every parameter answers 80h (parameter not supported). C7h unless 4 data bytes.' },
  // ---- Storage (0Ah), chapters 31, 33, 34
  '0A/10': { spec: '34.1', notes: 'FRU 0 only, byte access. CBh other FRU IDs.' },
  '0A/11': { spec: '34.2', notes: 'CBh unknown FRU; C9h offset past the end; CCh count 0.' },
  '0A/12': { spec: '34.3', notes: 'The inventory is read-only: D5h (CBh unknown FRU).' },
  '0A/20': { spec: '33.9', notes: 'Version 51h; supports Reserve and Get Allocation Info.' },
  '0A/21': { spec: '33.10', notes: '' },
  '0A/22': { spec: '33.11', notes: 'A new reservation cancels the previous one.' },
  '0A/23': { spec: '33.12', notes: 'C5h stale reservation on a partial read; CBh unknown record; C9h offset past the record; CAh more bytes than fit in one reply.' },
  '0A/27': { spec: '33.16', notes: 'Needs the reservation and "CLR"; AAh initiate / 00h status, always "erasure completed". The built-in records stay.' },
  '0A/40': { spec: '31.2', notes: 'Version 51h; supports Delete, Reserve, Get Allocation Info; overflow flag when entries were dropped.' },
  '0A/41': { spec: '31.3', notes: '' },
  '0A/42': { spec: '31.4', notes: 'A new reservation cancels the previous one.' },
  '0A/43': { spec: '31.5', notes: 'Whole-record reads ignore the reservation; partial reads need it (C5h). CBh unknown record; C9h offset past 16.' },
  '0A/44': { spec: '31.6', notes: '16-byte record; 80h unsupported record type; C4h out of space. Power transitions and BMC restarts are logged by the BMC itself.' },
  '0A/46': { spec: '31.8', notes: 'C5h stale reservation; CBh unknown record.' },
  '0A/47': { spec: '31.9', notes: 'Needs the reservation and "CLR"; AAh initiate / 00h status. Persisted (sel.json).' },
  '0A/48': { spec: '31.10', notes: 'Seconds since the epoch, plus the offset set by Set SEL Time.' },
  '0A/49': { spec: '31.11', notes: 'Kept as an offset from the host clock.' },
  // ---- Transport (0Ch), chapters 23, 26
  '0C/01': { spec: '23.1, table 23-4', notes: 'Stored parameters (7, 10, 11, 16, 20, 21) persisted and read back as written; live ones (2–6, 8, 12–15, 24) accept only the value in force (D5h otherwise); 82h read-only (1, 22, 23); 80h unknown parameter; 81h "set in progress" already set; 26 (bad password threshold) sets the lockout policy.' },
  '0C/02': { spec: '23.2, table 23-4', notes: 'Address, mask, MAC and gateway of the interface the agent is bound to; IPMI 1.5 auth types and cipher suites the session layer really accepts; UDP port. Revision-only requests answer 11h. 80h unknown parameter.' },
  '0C/21': { spec: '26.2, table 26-5', notes: '80h unsupported parameter; 81h set in progress not complete; 82h read-only parameter. Persisted.' },
  '0C/22': { spec: '26.3, table 26-5', notes: 'Revision-only requests answer 11h. 80h unsupported parameter. Parameter 8 (SOL payload port) is the port Activate Payload names.' },
};

/** Commands the session layer answers itself, before the dispatch table. */
export interface SessionLayerCommand {
  readonly netFn: number;
  readonly cmd: number;
  readonly name: string;
  readonly privilege: string;
  readonly spec: string;
  readonly notes: string;
}

export const SESSION_LAYER_COMMANDS: readonly SessionLayerCommand[] = [
  {
    netFn: NetFn.App, cmd: 0x39, name: 'Get Session Challenge', privilege: 'none (outside a session)', spec: '22.16',
    notes: `IPMI 1.5 only (CCh when IPMI_V15 is off or for an auth type IPMI_V15_AUTH_TYPES does not enable; MD5 only by default). 81h unknown user, a user locked out from the sender's address, or a user with a 20-byte password; 82h empty name. The challenge lives ${DEFAULT_SESSION_LIMITS.halfOpenTimeoutMs / 1000} s.`,
  },
  {
    netFn: NetFn.App, cmd: 0x3a, name: 'Activate Session', privilege: 'the requested level, up to the user\'s limit', spec: '22.17',
    notes: 'Checks the AuthCode with the challenge\'s user; 85h wrong AuthCode or challenge (a wrong AuthCode counts as a failed login from the sender\'s address), 86h privilege above the limit, 84h initial sequence number 0, 81h no free session slot, 83h no slot left at the user\'s privilege (kept for higher ones). The session starts at User level.',
  },
];

// ------------------------------------------------------------------ rendering

const NETFN_TITLES: Readonly<Record<number, string>> = {
  [NetFn.Chassis]: 'Chassis (NetFn 00h)',
  [NetFn.SensorEvent]: 'Sensor/Event (NetFn 04h)',
  [NetFn.App]: 'Application (NetFn 06h)',
  [NetFn.Storage]: 'Storage (NetFn 0Ah)',
  [NetFn.Transport]: 'Transport (NetFn 0Ch)',
};

const PRIVILEGE_NAMES: Readonly<Record<number, string>> = {
  [Privilege.Callback]: 'Callback',
  [Privilege.User]: 'User',
  [Privilege.Operator]: 'Operator',
  [Privilege.Administrator]: 'Administrator',
  [Privilege.Oem]: 'OEM',
};

/** When this BMC sends each RMCP+ status code (table 13-15), or why it never does. */
export const RAKP_STATUS_USE: Readonly<Record<number, string>> = {
  [RakpStatus.NoErrors]: 'Success (Open Session Response, RAKP 2, RAKP 4).',
  [RakpStatus.InsufficientResources]: 'Open Session when every session slot is taken; RAKP 2 when the slots the user\'s privilege may fill are taken (the rest are kept for higher privileges); RAKP 4 when they filled up during the handshake.',
  [RakpStatus.InvalidSessionId]: 'RAKP 2 / RAKP 4 for an unknown or expired half-open session (console session ID 0 in the reply).',
  [RakpStatus.InvalidPayloadType]: 'Not sent.',
  [RakpStatus.InvalidAuthAlgorithm]: 'Open Session proposing an authentication algorithm this BMC does not know.',
  [RakpStatus.InvalidIntegrityAlgorithm]: 'Open Session proposing an unknown integrity algorithm.',
  [RakpStatus.NoMatchingAuthPayload]: 'Open Session whose authentication payload type byte is not 00h.',
  [RakpStatus.NoMatchingIntegrityPayload]: 'Open Session whose integrity payload type byte is not 01h.',
  [RakpStatus.InactiveSessionId]: 'Not sent.',
  [RakpStatus.InvalidRole]: 'Open Session asking for a level above OEM; RAKP 1 with role 0, above OEM or with reserved bits.',
  [RakpStatus.UnauthorizedRole]: 'Open Session above the channel\'s privilege limit (or the channel disabled); RAKP 1 below User, above the user\'s limit or above the level granted by Open Session.',
  [RakpStatus.InsufficientResourcesAtRole]: 'Not sent.',
  [RakpStatus.InvalidNameLength]: 'RAKP 1 with a name longer than 16 bytes or a length byte that does not match.',
  [RakpStatus.UnauthorizedName]: 'RAKP 1 with an empty (null user) or unknown name, a user locked out from the sender\'s address (or throttled, see Lockout), or an exact-role lookup (bit 4 clear) whose role is not the user\'s limit.',
  [RakpStatus.UnauthorizedGuid]: 'Not sent.',
  [RakpStatus.InvalidIntegrityCheckValue]: 'RAKP 4 after a RAKP 3 whose HMAC is wrong (wrong password); counts as a failed login.',
  [RakpStatus.InvalidConfidentialityAlgorithm]: 'Open Session proposing an unknown confidentiality algorithm.',
  [RakpStatus.NoCipherSuiteMatch]: 'Open Session with known algorithms but no enabled suite matching them, e.g. RAKP-none (suite 0) or a suite switched off by IPMI_CIPHER_SUITES.',
  [RakpStatus.IllegalParameter]: 'Open Session whose confidentiality payload type byte is not 02h.',
};

const hex2 = (n: number): string => `${n.toString(16).padStart(2, '0').toUpperCase()}h`;
const cell = (s: string): string => s.replace(/\|/g, '\\|');
const seconds = (ms: number): string => `${ms / 1000} s`;

function privilegeCell(d: CommandDefinition): string {
  const name = PRIVILEGE_NAMES[d.privilege] ?? hex2(d.privilege);
  return d.sessionless ? `none outside a session; ${name} inside` : name;
}

function suiteRow(s: CipherSuite): string {
  const on = DEFAULT_SUITE_IDS.includes(s.id) ? 'on' : 'off';
  return `| ${s.id} | ${s.auth.name} | ${s.integrity.name} | ${s.confidentiality.name} | ${on} |`;
}

/** The whole of docs/ipmi-commands.md. */
export function renderCommandReference(defs: readonly CommandDefinition[] = registeredCommands()): string {
  const out: string[] = [];
  const line = (s = ''): void => { out.push(s); };
  line('# IPMI commands, cipher suites and session rules');
  line();
  line(`<!-- Generated from the agent's dispatch table by node-image/src/bmc/command-catalog.ts. Do not edit by hand: run \`${REGENERATE_COMMAND}\`. -->`);
  line();
  line('Everything the BMC agent (node-image) answers over IPMI 2.0 / RMCP+ and IPMI 1.5 on its LAN');
  line('channel (channel 1). Spec references are to IPMI v2.0 rev 1.1 (sections and tables).');
  line();
  line('## Rules common to every command');
  line();
  line('- Lookup is by (NetFn, command). An unknown command answers **C1h** (invalid command), never');
  line('  silence: this includes the group-extension probes ipmitool sends after login (NetFn 2Ch');
  line('  commands 3Eh and 00h).');
  line('- **Minimum privilege** is the session\'s *current* level (after Set Session Privilege Level),');
  line('  per spec table G-1. Below it: **D4h**. Outside a session only the commands marked "none');
  line('  outside a session" are answered; every other command answers D4h there.');
  line('- Request data shorter or longer than the command takes: **C7h**; a reserved bit or value:');
  line('  **CCh** (unless the table says otherwise).');
  line('- When the machine refuses: **C0h** busy (another power action is running), **CCh** action not');
  line('  supported, **FFh** the action failed. Any other unexpected failure answers **FFh** and is');
  line('  logged; it never stops the agent.');
  line('- A retransmitted request (same rqSeq, NetFn, command and data within 10 s in the same');
  line('  session) is answered from the session\'s reply cache instead of running again; one arriving');
  line('  while the first is still being carried out is dropped (the first one\'s answer is on its way).');
  line();
  line('## Commands');
  line();
  const byNetFn = new Map<number, CommandDefinition[]>();
  for (const d of defs) byNetFn.set(d.netFn, [...(byNetFn.get(d.netFn) ?? []), d]);
  for (const [netFn, list] of [...byNetFn].sort((a, b) => a[0] - b[0])) {
    line(`### ${NETFN_TITLES[netFn] ?? `NetFn ${hex2(netFn)}`}`);
    line();
    line('| NetFn | Cmd | Name | Minimum privilege | Spec | Notes |');
    line('|---|---|---|---|---|---|');
    for (const d of list) {
      const note = COMMAND_NOTES[commandKey(d.netFn, d.cmd)];
      line(`| ${hex2(d.netFn)} | ${hex2(d.cmd)} | ${cell(d.name)} | ${privilegeCell(d)} | ${note ? cell(note.spec) : '?'} | ${note ? cell(note.notes) : 'not annotated'} |`);
    }
    line();
  }
  line(`${defs.length} commands in the dispatch table.`);
  line();
  line('### Answered by the session layer');
  line();
  line('IPMI 1.5 session setup is handled before the dispatch table (it needs the session tables):');
  line();
  line('| NetFn | Cmd | Name | Privilege | Spec | Notes |');
  line('|---|---|---|---|---|---|');
  for (const c of SESSION_LAYER_COMMANDS) {
    line(`| ${hex2(c.netFn)} | ${hex2(c.cmd)} | ${cell(c.name)} | ${cell(c.privilege)} | ${cell(c.spec)} | ${cell(c.notes)} |`);
  }
  line();
  line('### Sent by the BMC');
  line();
  line('- **SOL Activating** (NetFn 0Ch, cmd 20h, spec 26.1): sent as a request to the console whose SOL');
  line('  is taken away (by an administrator, a BMC reset or the session timing out), with data');
  line('  `00 01 01 00` (deactivated, instance 1, SOL 1.0), after a final SOL packet with the');
  line('  "deactivating" bit.');
  line();
  line('## Cipher suites');
  line();
  line('Spec section 22.15.2, table 22-20. Enabled with IPMI_CIPHER_SUITES (a comma-separated list);');
  line(`default ${DEFAULT_SUITE_IDS.join(' and ')}. Get Channel Cipher Suites, LAN parameters 22–24 and Open Session`);
  line('all use the same enabled list; an Open Session with wildcard algorithms gets the strongest enabled');
  line('suite that fits.');
  line();
  line('| ID | Authentication | Integrity | Confidentiality | Default |');
  line('|---|---|---|---|---|');
  for (const s of CIPHER_SUITES) line(suiteRow(s));
  line();
  line('**Suite 0 is never offered**, and IPMI_CIPHER_SUITES refuses it: its authentication algorithm');
  line('RAKP-none checks no password at all, so anyone who knows a user name (and "admin" is a safe');
  line('guess) would get that user\'s privilege. An Open Session proposing it is answered with status');
  line('11h. Suites 1, 2, 15 and 16 (no encryption, or no integrity either) can be enabled for old clients');
  line('but are off by default. Suites 4–14 and 18–19 (HMAC-MD5 or MD5 based, or xRC4 encryption) are');
  line('not implemented.');
  line();
  line('## RMCP+ and RAKP status codes');
  line();
  line('Spec section 13.24, table 13-15: the status byte of Open Session Response, RAKP 2 and RAKP 4.');
  line();
  line('| Code | Meaning in this BMC |');
  line('|---|---|');
  for (const [name, code] of Object.entries(RakpStatus).sort((a, b) => a[1] - b[1])) {
    line(`| ${hex2(code)} | ${cell(RAKP_STATUS_USE[code] ?? `(${name}) not annotated`)} |`);
  }
  line();
  line('A RAKP 3 carrying a non-zero status from the console (it rejected our RAKP 2, typically because');
  line('it holds another password) gets no RAKP 4 and ends the handshake; it is not counted as a failed');
  line('login (anyone can send it without knowing a password).');
  line();
  const limits = DEFAULT_SESSION_LIMITS;
  const lock = DEFAULT_LOCKOUT_POLICY;
  line('## Session rules');
  line();
  line(`- **Sessions**: at most ${limits.maxSessions} established sessions (RMCP+ and IPMI 1.5 together);`);
  line(`  when full, Open Session answers 01h and Activate Session 81h. Slots are kept for higher`);
  line(`  privileges: a user whose limit is User or Callback may fill ${limits.maxSessions - limits.reservedForAdministrator - limits.reservedForOperator}, an Operator ${limits.maxSessions - limits.reservedForAdministrator}, an`);
  line(`  Administrator all ${limits.maxSessions}; beyond that RAKP 2 answers 01h and Activate Session 83h. At most ${limits.maxHalfOpen} half-open`);
  line('  handshakes (and IPMI 1.5 challenges); when full the oldest one of the console (address and');
  line('  port) holding the most is dropped, so a flood can neither pin the table nor push out another');
  line('  console\'s handshake in progress.');
  line(`- **Timeouts**: a half-open RMCP+ session (Open Session done, no valid RAKP 3 yet) and an IPMI 1.5`);
  line(`  challenge expire after ${seconds(limits.halfOpenTimeoutMs)}; an established session idle for ${seconds(limits.idleTimeoutMs)} is closed`);
  line('  silently (its SOL ends too); later packets for it are dropped.');
  line('- **Privilege**: a new session runs at User level (or the lower level it asked for) until Set');
  line('  Session Privilege Level raises it, up to the lowest of the level granted at login, the user\'s');
  line('  limit and the channel\'s limit.');
  line(`- **Inbound sequence numbers** (spec 6.12.13): the first authenticated packet sets the window,`);
  line(`  whatever its number (ipmitool's first one is 3, 5 or 7). Then a number is accepted when it is`);
  line(`  up to ${WINDOW_ABOVE} above the highest seen (the window moves) or up to ${WINDOW_BELOW} below it and not seen yet;`);
  line('  0, duplicates and anything else are dropped without an answer.');
  line('- **Outbound sequence numbers**: per session, starting at 1, one more per packet sent (IPMI');
  line('  responses and SOL packets alike), skipping 0 on wrap.');
  line('- **Dropped without an answer** (answering would confirm a guess or help a replay): packets for');
  line('  an unknown session, a wrong AuthCode / integrity value, a replayed or out-of-window sequence');
  line('  number, plaintext in an encrypted session, bad confidentiality padding, protected packets');
  line('  outside a session, bad checksums. `DEBUG=true` logs each drop with its reason.');
  line(`- **Lockout** (LAN parameter 26, spec 23.1), per user and sender address: by default ${lock.threshold} wrong`);
  line(`  passwords within ${seconds(lock.attemptWindowMs)} from one address lock the user out from that address for ${seconds(lock.lockoutMs)}; the`);
  line('  same user from another address is not affected. Wrong passwords are only what proves one: a');
  line('  RAKP 3 with a wrong HMAC and an IPMI 1.5 Activate Session with a wrong AuthCode (a RAKP 3');
  line('  carrying an error status or a handshake abandoned after RAKP 2 proves nothing and is not');
  line(`  counted). Across addresses: ${GLOBAL_THRESHOLD_FACTOR} × the threshold failures of one user within the window`);
  line('  refuse that user from addresses it has not logged in from successfully in the last 24 hours,');
  line(`  for the lockout interval (at least 30 s); its familiar addresses keep working. While refused,`);
  line('  RAKP 1 answers 0Dh and Get Session Challenge 81h, even with the right password. A successful');
  line('  login clears the count of its address; Set User Password "enable" ends every lockout of the');
  line('  user. Set LAN Configuration Parameters 26 changes the policy (threshold 0 turns lockout off);');
  line('  the policy is persisted, the failure counts are not.');
  line('- **User changes act at once**: disabling a user, setting it to NO ACCESS, a new password or a');
  line('  new name end its open sessions (and their SOL); a lowered privilege limit lowers the');
  line('  privilege of its sessions. The session that made the change keeps running (lowered if it');
  line('  applies to it), so that its answer reaches the console.');
  line('- **IPMI 1.5** (IPMI_V15, on by default): the AuthCode types IPMI_V15_AUTH_TYPES names, MD5 by');
  line('  default; straight password (the password in clear in every datagram) only when named; never');
  line('  MD2 or "none". Users whose password was set in the 20-byte form cannot use IPMI 1.5. RMCP+ is');
  line('  unaffected.');
  line('- **Logs**: refused logins are logged with their details three times per kind and minute, then');
  line('  only counted; one summary line per minute gives the counts (drops included).');
  line('- **BMC key Kg**: not configured; SIK is keyed with the user\'s password (Get Channel');
  line('  Authentication Capabilities reports "Kg is zero").');
  line('- **Cold/Warm Reset** ends every session at once (after the reply).');
  line();
  return out.join('\n');
}
