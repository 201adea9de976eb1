/**
 * Channel commands (IPMI v2.0 sections 22.22–22.24, table 6-3 channel medium, 6-4 protocol,
 * 6-1 channel numbers). NetFn App (0x06). This BMC has one channel: LAN (802.3), number 1.
 * It has no in-band system interface (the VM gets no KCS device), so channel 0x0F is not
 * reported; every channel but ours (or 0x0E "this channel") answers 0xCC.
 *
 * Set Channel Access 0x40  req: [channel 3:0]
 *                               [7:6 00 keep/01 non-volatile/10 volatile, 5 alerting off, 4 per-msg auth off,
 *                                3 user-level auth off, 2:0 access mode]
 *                               [7:6 00 keep/01 non-volatile/10 volatile, 3:0 privilege limit]
 * Get Channel Access 0x41  req: [channel 3:0] [7:6 01 non-volatile / 10 volatile]
 *                          rsp: [5 alerting off, 4 per-msg auth off, 3 user-level auth off, 2:0 access mode]
 *                               [privilege limit 3:0]
 * Get Channel Info 0x42    req: [channel 3:0]
 *                          rsp: [channel] [medium 6:0] [protocol 4:0] [7:6 session support, 5:0 active sessions]
 *                               [vendor IANA, 3 bytes LE] [auxiliary info, 2 bytes]
 *
 * Set Channel Access refuses to disable authentication (0xCC) and any access mode but "always
 * available" (0x83, the spec's "access mode not supported").
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { type CommandDefinition, fail, isThisChannel, ok } from './command-types';
import { ChannelAccessMode, type ChannelAccessSet, type ChannelAccessStore, isChannelPrivilegeLimit } from '../users/channel-access';

export interface ChannelCommandDeps {
  /** The LAN channel number (1). */
  readonly channel: number;
  readonly access: ChannelAccessStore;
  /** Established sessions right now (Get Channel Info byte 5). */
  readonly activeSessionCount: () => number;
}

/** "The channel this request arrived on" (spec table 6-1). */
const ChannelMedium = { Lan8023: 0x04 } as const;
const ChannelProtocol = { Ipmb10: 0x01 } as const;
const SESSION_SUPPORT_MULTI = 0x80;
const ACTIVE_SESSION_MASK = 0x3f;
/** IPMI Forum IANA enterprise number, little-endian. */
const IPMI_FORUM_IANA = [0xf2, 0x1b, 0x00] as const;

/** Bits 7:6 of the access and privilege bytes. */
const AccessSelector = { Keep: 0x0, NonVolatile: 0x1, Volatile: 0x2 } as const;
const AccessBit = { AlertingDisabled: 0x20, PerMessageAuthDisabled: 0x10, UserLevelAuthDisabled: 0x08 } as const;
const ACCESS_MODE_MASK = 0x07;
const PRIVILEGE_MASK = 0x0f;
const SetChannelAccessCode = { AccessModeNotSupported: 0x83 } as const;

export function channelCommands(deps: ChannelCommandDeps): CommandDefinition[] {
  // An exact comparison also refuses the reserved bits 7:4.
  const isOurChannel = (b: number): boolean => isThisChannel(b, deps.channel);

  return [
    {
      netFn: NetFn.App, cmd: AppCmd.GetChannelInfo, name: 'Get Channel Info', privilege: Privilege.User,
      handler: (data) => {
        if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
        if (!isOurChannel(data[0]!)) return fail(CompletionCode.InvalidDataField);
        const active = Math.min(deps.activeSessionCount(), ACTIVE_SESSION_MASK);
        return ok(Buffer.from([deps.channel, ChannelMedium.Lan8023, ChannelProtocol.Ipmb10, SESSION_SUPPORT_MULTI | active, ...IPMI_FORUM_IANA, 0x00, 0x00]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetChannelAccess, name: 'Get Channel Access', privilege: Privilege.User,
      handler: (data) => {
        if (data.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
        const which = accessSet(data[1]! >> 6);
        if (!isOurChannel(data[0]!) || !which || data[1]! & 0x3f) return fail(CompletionCode.InvalidDataField);
        const s = deps.access.get(which);
        return ok(Buffer.from([
          (s.alertingDisabled ? AccessBit.AlertingDisabled : 0) | (s.perMessageAuthDisabled ? AccessBit.PerMessageAuthDisabled : 0)
            | (s.userLevelAuthDisabled ? AccessBit.UserLevelAuthDisabled : 0) | s.accessMode,
          s.privilegeLimit,
        ]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetChannelAccess, name: 'Set Channel Access', privilege: Privilege.Administrator,
      handler: (data) => {
        if (data.length !== 3) return fail(CompletionCode.RequestDataLengthInvalid);
        const accessByte = data[1]!;
        const privilegeByte = data[2]!;
        const accessSelector = accessByte >> 6;
        const privilegeSelector = privilegeByte >> 6;
        const accessTarget = accessSet(accessSelector);
        const privilegeTarget = accessSet(privilegeSelector);
        if (!isOurChannel(data[0]!)) return fail(CompletionCode.InvalidDataField);
        if ((accessSelector !== AccessSelector.Keep && !accessTarget) || (privilegeSelector !== AccessSelector.Keep && !privilegeTarget)) {
          return fail(CompletionCode.InvalidDataField);
        }
        const privilegeLimit = privilegeByte & PRIVILEGE_MASK;
        if (privilegeTarget && (privilegeByte & 0x30 || !isChannelPrivilegeLimit(privilegeLimit))) return fail(CompletionCode.InvalidDataField);
        if (accessTarget) {
          // Authentication stays on: a BMC that lets LAN clients switch it off is an open door.
          if (accessByte & (AccessBit.PerMessageAuthDisabled | AccessBit.UserLevelAuthDisabled)) return fail(CompletionCode.InvalidDataField);
          if ((accessByte & ACCESS_MODE_MASK) !== ChannelAccessMode.AlwaysAvailable) return fail(SetChannelAccessCode.AccessModeNotSupported);
        }
        // Everything checked: apply both halves or neither.
        if (accessTarget) deps.access.set(accessTarget, { alertingDisabled: (accessByte & AccessBit.AlertingDisabled) !== 0 });
        if (privilegeTarget) deps.access.set(privilegeTarget, { privilegeLimit });
        return ok();
      },
    },
  ];
}

function accessSet(selector: number): ChannelAccessSet | undefined {
  if (selector === AccessSelector.NonVolatile) return 'non-volatile';
  if (selector === AccessSelector.Volatile) return 'volatile';
  return undefined;
}
