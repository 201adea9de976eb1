/**
 * Application commands of the BMC itself (IPMI v2.0 chapter 20 and 22; reference 2.1, 2.2, 5.3–5.5, 7.1–7.3):
 * Get Device ID, Cold/Warm Reset, Get Self Test Results, Get Device/System GUID,
 * Get Channel Authentication Capabilities, Get Channel Cipher Suites, Set Session Privilege Level,
 * Close Session, Get Session Info, Get System Info Parameters.
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { ByteReader } from '../../protocol/wire/byte-reader';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import { AuthType15 } from '../../protocol/crypto/auth15';
import type { CipherSuite } from '../../protocol/crypto/cipher-suites';
import type { BmcIdentity } from '../identity';
import type { SessionEndReason } from '../bmc-engine';
import type { EstablishedSession } from '../session/session-types';
import { CommandDefinition, CommandResult, fail, isThisChannel, ok } from './command-types';

export { SessionEndReason };

/** What these commands need from the session layer (BmcEngine implements it). */
export interface SessionControl {
  readonly config: { readonly cipherSuites: readonly CipherSuite[]; readonly ipmi15Enabled: boolean; readonly ipmi15AuthTypes: readonly number[]; readonly kg: Buffer | null; readonly channel: number; readonly limits: { readonly maxSessions: number } };
  getSession(id: number): EstablishedSession | undefined;
  listSessions(): EstablishedSession[];
  closeSession(id: number, reason: SessionEndReason, now: number): boolean;
}

export interface DeviceInfo {
  readonly deviceId: number;
  readonly deviceRevision: number;
  readonly firmwareMajor: number;
  /** Two decimal digits, sent as BCD. */
  readonly firmwareMinor: number;
  /** IANA enterprise number. */
  readonly manufacturerId: number;
  readonly productId: number;
  readonly auxFirmware: Buffer;
}

/**
 * Manufacturer 32473 is IANA's enterprise number reserved for documentation (RFC 5612): absent
 * from every client's OEM table, so no vendor quirks are triggered, and never 0 (which makes
 * ipmitool ask Get Device ID again and again).
 */
export const DEFAULT_DEVICE_INFO: DeviceInfo = {
  deviceId: 0x20,
  deviceRevision: 0x01,
  firmwareMajor: 0,
  firmwareMinor: 10,
  manufacturerId: 32473,
  productId: 0x0b4c,
  auxFirmware: Buffer.from([0, 0, 0, 0]),
};

const IPMI_VERSION_2_0 = 0x02;
/** Additional device support: sensor, SDR repository, SEL, FRU, IPMB event receiver, chassis. */
const DEVICE_SUPPORT = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x80;
const SELF_TEST_NO_ERROR = 0x55;
const CHANNEL_MASK = 0x0f;

/** Get Channel Authentication Capabilities bits (table 22-15). */
const AuthCaps = {
  ExtendedRequested: 0x80,
  Ipmi20Extended: 0x80,
  NonNullUserNames: 0x04,
  KgNonZero: 0x20,
  SupportsIpmi15: 0x01,
  SupportsIpmi20: 0x02,
} as const;

/** Get Channel Cipher Suites (table 22-18). */
const CIPHER_LIST_BY_SUITE = 0x80;
const CIPHER_LIST_INDEX_MASK = 0x3f;
const CIPHER_RECORD_CHUNK = 16;
const CIPHER_RECORD_STANDARD = 0xc0;
const INTEGRITY_TAG = 0x40;
const CONFIDENTIALITY_TAG = 0x80;

/** Set Session Privilege Level completion codes (table 22-22). */
const SetPrivilegeCode = { NotAvailableForUser: 0x80, ExceedsLimit: 0x81 } as const;
/** Close Session completion codes (table 22-23). */
const CloseSessionCode = { InvalidSessionId: 0x87, InvalidHandle: 0x88 } as const;

/** Get Session Info selectors (table 22-25). */
const SessionInfoSelector = { Current: 0x00, ByHandle: 0xfe, ById: 0xff } as const;
/** Get Session Info byte 2 when no active session matches the index, handle or id. */
const NO_SESSION_HANDLE = 0x00;
const SESSION_PROTOCOL_RMCPPLUS = 0x10;

function bcd(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

export function encodeDeviceId(d: DeviceInfo): Buffer {
  const w = new ByteWriter(15);
  w.u8(d.deviceId).u8(d.deviceRevision & 0x0f).u8(d.firmwareMajor & 0x7f).u8(bcd(d.firmwareMinor)).u8(IPMI_VERSION_2_0).u8(DEVICE_SUPPORT);
  w.u8(d.manufacturerId & 0xff).u8((d.manufacturerId >> 8) & 0xff).u8((d.manufacturerId >> 16) & 0x0f);
  w.u16le(d.productId).bytes(d.auxFirmware.subarray(0, 4));
  return w.toBuffer();
}

/** The full cipher suite record list (standard records), before paging. */
export function cipherSuiteRecords(suites: readonly CipherSuite[]): Buffer {
  const w = new ByteWriter(5 * suites.length);
  for (const s of suites) w.u8(CIPHER_RECORD_STANDARD).u8(s.id).u8(s.auth.id).u8(INTEGRITY_TAG | s.integrity.id).u8(CONFIDENTIALITY_TAG | s.confidentiality.id);
  return w.toBuffer();
}

/** Supported-algorithm list (request byte 3 bit 7 = 0): each distinct algorithm once. */
function algorithmRecords(suites: readonly CipherSuite[]): Buffer {
  const auth = [...new Set(suites.map((s) => s.auth.id))];
  const integ = [...new Set(suites.map((s) => s.integrity.id))];
  const conf = [...new Set(suites.map((s) => s.confidentiality.id))];
  return Buffer.from([...auth, ...integ.map((a) => INTEGRITY_TAG | a), ...conf.map((a) => CONFIDENTIALITY_TAG | a)]);
}

export interface AppCommandDeps {
  readonly sessions: SessionControl;
  readonly identity: BmcIdentity;
  readonly device?: DeviceInfo;
  /** Runs after the reply to Cold/Warm Reset has been sent. */
  readonly onReset: (kind: 'cold' | 'warm') => void | Promise<void>;
}

export function appCommands(deps: AppCommandDeps): CommandDefinition[] {
  const device = deps.device ?? DEFAULT_DEVICE_INFO;
  const { sessions } = deps;
  const channelOf = (raw: number): number | undefined => {
    const ch = raw & CHANNEL_MASK;
    if (isThisChannel(ch, sessions.config.channel)) return sessions.config.channel;
    return undefined;
  };

  const noData = (handler: () => CommandResult) => (data: Buffer): CommandResult =>
    data.length !== 0 ? fail(CompletionCode.RequestDataLengthInvalid) : handler();

  return [
    { netFn: NetFn.App, cmd: AppCmd.GetDeviceId, name: 'Get Device ID', privilege: Privilege.User, handler: noData(() => ok(encodeDeviceId(device))) },
    {
      netFn: NetFn.App, cmd: AppCmd.ColdReset, name: 'Cold Reset', privilege: Privilege.Administrator,
      handler: (data) => (data.length !== 0 ? fail(CompletionCode.RequestDataLengthInvalid) : { cc: CompletionCode.Ok, after: () => deps.onReset('cold') }),
    },
    {
      netFn: NetFn.App, cmd: AppCmd.WarmReset, name: 'Warm Reset', privilege: Privilege.Administrator,
      handler: (data) => (data.length !== 0 ? fail(CompletionCode.RequestDataLengthInvalid) : { cc: CompletionCode.Ok, after: () => deps.onReset('warm') }),
    },
    { netFn: NetFn.App, cmd: AppCmd.GetSelfTestResults, name: 'Get Self Test Results', privilege: Privilege.User, handler: noData(() => ok(Buffer.from([SELF_TEST_NO_ERROR, 0x00]))) },
    { netFn: NetFn.App, cmd: AppCmd.GetDeviceGuid, name: 'Get Device GUID', privilege: Privilege.User, handler: noData(() => ok(Buffer.from(deps.identity.deviceGuid))) },
    { netFn: NetFn.App, cmd: AppCmd.GetSystemGuid, name: 'Get System GUID', privilege: Privilege.User, handler: noData(() => ok(Buffer.from(deps.identity.systemGuid))) },
    {
      netFn: NetFn.App, cmd: AppCmd.GetChannelAuthCapabilities, name: 'Get Channel Authentication Capabilities', privilege: Privilege.Callback, sessionless: true,
      handler: (data) => {
        if (data.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
        const channel = channelOf(data[0]!);
        if (channel === undefined) return fail(CompletionCode.InvalidDataField);
        const requestedPrivilege = data[1]! & 0x0f;
        if (requestedPrivilege < Privilege.Callback || requestedPrivilege > Privilege.Oem) return fail(CompletionCode.InvalidDataField);
        const extended = (data[0]! & AuthCaps.ExtendedRequested) !== 0;
        const v15 = sessions.config.ipmi15Enabled;
        // Exactly the AuthCode types the session layer accepts (table 22-15 byte 2 bits 0..5).
        const authTypes = v15 ? sessions.config.ipmi15AuthTypes.reduce((bits, t) => bits | (1 << t), 0) : 0;
        const status = AuthCaps.NonNullUserNames | (sessions.config.kg ? AuthCaps.KgNonZero : 0);
        const support = extended ? (AuthCaps.SupportsIpmi20 | (v15 ? AuthCaps.SupportsIpmi15 : 0)) : 0;
        return ok(Buffer.from([channel, (extended ? AuthCaps.Ipmi20Extended : 0) | authTypes, status, support, 0, 0, 0, 0]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetChannelCipherSuites, name: 'Get Channel Cipher Suites', privilege: Privilege.Callback, sessionless: true,
      handler: (data) => {
        if (data.length !== 3) return fail(CompletionCode.RequestDataLengthInvalid);
        const channel = channelOf(data[0]!);
        if (channel === undefined) return fail(CompletionCode.InvalidDataField);
        if (data[1] !== 0x00 && data[1] !== 0x01) return fail(CompletionCode.InvalidDataField); // IPMI or SOL payload
        const records = (data[2]! & CIPHER_LIST_BY_SUITE) !== 0 ? cipherSuiteRecords(sessions.config.cipherSuites) : algorithmRecords(sessions.config.cipherSuites);
        const start = (data[2]! & CIPHER_LIST_INDEX_MASK) * CIPHER_RECORD_CHUNK;
        return ok(Buffer.concat([Buffer.from([channel]), records.subarray(Math.min(start, records.length), start + CIPHER_RECORD_CHUNK)]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetSessionPrivilegeLevel, name: 'Set Session Privilege Level', privilege: Privilege.Callback,
      handler: (data, ctx) => {
        if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
        const s = sessions.getSession(ctx.session.id);
        if (!s) return fail(CompletionCode.NotSupportedInPresentState);
        const level = data[0]! & 0x0f;
        if (level === Privilege.None) return ok(Buffer.from([s.privilege]));
        if (level > Privilege.Oem || level === Privilege.Callback) return fail(CompletionCode.InvalidDataField);
        if (level > s.maxPrivilege) return fail(level > Privilege.Administrator ? SetPrivilegeCode.NotAvailableForUser : SetPrivilegeCode.ExceedsLimit);
        s.privilege = level;
        return ok(Buffer.from([level]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.CloseSession, name: 'Close Session', privilege: Privilege.Callback,
      handler: (data, ctx) => {
        if (data.length !== 4 && data.length !== 5) return fail(CompletionCode.RequestDataLengthInvalid);
        const r = new ByteReader(data);
        const id = r.u32le();
        let target: EstablishedSession | undefined;
        if (id !== 0) {
          target = sessions.getSession(id);
          if (!target) return fail(CloseSessionCode.InvalidSessionId);
        } else {
          if (data.length !== 5) return fail(CompletionCode.RequestDataLengthInvalid);
          const handle = r.u8();
          target = sessions.listSessions().find((s) => s.handle === handle);
          if (!target) return fail(CloseSessionCode.InvalidHandle);
        }
        if (target.bmcSessionId === ctx.session.id) {
          // The reply still travels under this session's keys; the session ends right after it.
          const targetId = target.bmcSessionId;
          return { cc: CompletionCode.Ok, after: () => { sessions.closeSession(targetId, 'closed', ctx.now); } };
        }
        if (ctx.session.privilege < Privilege.Administrator) return fail(CompletionCode.InsufficientPrivilege);
        sessions.closeSession(target.bmcSessionId, 'closed-by-admin', ctx.now);
        return ok();
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetSessionInfo, name: 'Get Session Info', privilege: Privilege.User,
      handler: (data, ctx) => {
        if (data.length < 1) return fail(CompletionCode.RequestDataLengthInvalid);
        const all = sessions.listSessions();
        const selector = data[0]!;
        let s: EstablishedSession | undefined;
        if (selector === SessionInfoSelector.Current) {
          if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
          s = sessions.getSession(ctx.session.id);
        } else if (selector === SessionInfoSelector.ByHandle) {
          if (data.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
          s = all.find((x) => x.handle === data[1]);
        } else if (selector === SessionInfoSelector.ById) {
          if (data.length !== 5) return fail(CompletionCode.RequestDataLengthInvalid);
          const id = data.readUInt32LE(1);
          s = all.find((x) => x.bmcSessionId === id);
        } else if (selector <= 0x3f) {
          if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
          s = all[selector - 1];
        } else {
          return fail(CompletionCode.InvalidDataField);
        }
        const slots = sessions.config.limits.maxSessions & 0x3f;
        if (!s) {
          // No such session: the spec answers with just handle 0, slots and active count (as ipmi_sim
          // does). ipmitool's `session info all` walks indexes 1..slots and fails on a shorter answer.
          if (selector === SessionInfoSelector.Current) return fail(CompletionCode.InvalidDataField);
          return ok(Buffer.from([NO_SESSION_HANDLE, slots, all.length & 0x3f]));
        }
        const w = new ByteWriter(18);
        w.u8(s.handle).u8(slots).u8(all.length & 0x3f).u8(s.userId & 0x3f).u8(s.privilege & 0x0f);
        w.u8((s.protocol === 'rmcpplus' ? SESSION_PROTOCOL_RMCPPLUS : 0) | (sessions.config.channel & 0x0f));
        const ip = s.remote.address.split('.').map((x) => Number(x));
        if (ip.length === 4 && ip.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
          w.bytes(Buffer.from(ip)).fill(0, 6).u16le(s.remote.port);
        }
        return ok(w.toBuffer());
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetSystemInfoParameters, name: 'Get System Info Parameters', privilege: Privilege.User,
      // No system-software-provided parameters exist on this BMC; the spec's "parameter not supported".
      handler: (data) => (data.length !== 4 ? fail(CompletionCode.RequestDataLengthInvalid) : fail(0x80)),
    },
  ];
}
