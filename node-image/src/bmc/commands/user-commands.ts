/**
 * User commands (IPMI v2.0 sections 22.26–22.30; 24.6/24.7 for payload access). NetFn App (0x06).
 * Privileges as in spec table G-1: reads need Operator, writes Administrator.
 *
 * Set User Access 0x43     req: [ch: 7 change-bits, 6 callback-only, 5 link auth, 4 IPMI msg, 3:0 channel]
 *                               [uid 5:0] [privilege limit 3:0] ([session limit 3:0], optional)
 * Get User Access 0x44     req: [channel 3:0] [uid 5:0]
 *                          rsp: [max IDs 5:0] [7:6 enable status 01/10, 5:0 enabled count]
 *                               [fixed-name count 5:0] [6 callback-only, 5 link auth, 4 IPMI msg, 3:0 limit]
 * Set User Name 0x45       req: [uid 5:0] [name, 16 bytes NUL padded]
 * Get User Name 0x46       req: [uid 5:0]                 rsp: [name, 16 bytes NUL padded]
 * Set User Password 0x47   req: [7 20-byte form, 5:0 uid] [operation 1:0] (password, 16 or 20 bytes)
 *                               operations 00 disable, 01 enable, 02 set, 03 test
 * Set User Payload Access 0x4C req: [channel 3:0] [7:6 00 enable/01 disable, 5:0 uid] [std 1] [std 2] [oem 1] [oem 2]
 * Get User Payload Access 0x4D req: [channel 3:0] [uid 5:0]  rsp: [std 1: bit 1 SOL] [std 2] [oem 1] [oem 2]
 *
 * Codes: wrong length 0xC7; unknown channel or reserved bits 0xCC; user ID 0 or above the maximum
 * 0xC9 (parameter out of range); anything asked of the null user (ID 1) beyond staying disabled
 * 0xCC; duplicate or invalid name 0xCC; a password outside the one policy of every protocol
 * (core/accounts.ts validPasswordBytes: 8 to 20 printable ASCII characters, the Redfish
 * AccountService MinPasswordLength) 0xCC (table 5-2, invalid data field: section 22.30 defines
 * no code for it); test password 0x80 (mismatch) / 0x81 (wrong size). Disabling, demoting or
 * renaming away the last enabled administrator (core/accounts.ts removesLastAdministrator, the
 * rule Redfish applies too) 0xD5: table 5-2 "request parameter(s) not supported in present
 * state" (the same request succeeds once another administrator exists). Enabling a user without a name is allowed (as the spec allows it), but such
 * a user can never log in (UserStore.findByName needs a name).
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { type CommandDefinition, type CommandResult, CURRENT_CHANNEL, fail, ok } from './command-types';
import { removesLastAdministrator, validPasswordBytes, type AdministratorChange } from '../../core/accounts';
import {
  PASSWORD_SIZE_16, PASSWORD_SIZE_20, USER_NAME_MAX_LENGTH, type PasswordSize,
  type UserStore, UserStoreError, UserStoreErrorCode,
} from '../users/user-store';

export interface UserCommandDeps {
  readonly users: UserStore;
  /** The channel users are configured for (LAN, 1); 0x0E in a request means this channel. */
  readonly channel: number;
}

/** "The channel this request arrived on" (spec table 6-1). */
export { CURRENT_CHANNEL };
const CHANNEL_MASK = 0x0f;
const USER_ID_MASK = 0x3f;

const SetUserPasswordCode = { PasswordMismatch: 0x80, WrongPasswordSize: 0x81 } as const;
const PasswordOperation = { Disable: 0x00, Enable: 0x01, Set: 0x02, Test: 0x03 } as const;
const PASSWORD_20_BYTE_FORM = 0x80;
const SET_USER_PASSWORD_HEADER = 2;

const UserAccessBit = { ChangeBits: 0x80, CallbackOnly: 0x40, LinkAuth: 0x20, IpmiMessaging: 0x10 } as const;
const UserEnableStatus = { Enabled: 0x40, Disabled: 0x80 } as const;
const PRIVILEGE_MASK = 0x0f;

const PayloadAccessOperation = { Enable: 0x00, Disable: 0x01 } as const;
/** Standard payload enables byte 1, bit 1: SOL (payload type 1). */
const SOL_PAYLOAD_BIT = 0x02;
const PAYLOAD_ACCESS_LENGTH = 4;

export function userCommands(deps: UserCommandDeps): CommandDefinition[] {
  const { users } = deps;
  const isOurChannel = (b: number): boolean => {
    const ch = b & CHANNEL_MASK;
    return (b & ~CHANNEL_MASK & 0xff) === 0 && (ch === deps.channel || ch === CURRENT_CHANNEL);
  };
  const validUserId = (id: number): boolean => id >= 1 && id <= users.maxUsers;

  return [
    {
      netFn: NetFn.App, cmd: AppCmd.GetUserAccess, name: 'Get User Access', privilege: Privilege.Operator,
      handler: (data) => {
        if (data.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
        const uid = data[1]!;
        if (!isOurChannel(data[0]!) || uid & ~USER_ID_MASK) return fail(CompletionCode.InvalidDataField);
        const user = users.get(uid);
        if (!user || !validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        const a = user.access;
        return ok(Buffer.from([
          users.maxUsers & USER_ID_MASK,
          (user.enabled ? UserEnableStatus.Enabled : UserEnableStatus.Disabled) | (users.countEnabled() & USER_ID_MASK),
          users.countFixedNames() & USER_ID_MASK,
          (a.callbackOnly ? UserAccessBit.CallbackOnly : 0) | (a.linkAuth ? UserAccessBit.LinkAuth : 0)
            | (a.ipmiMessaging ? UserAccessBit.IpmiMessaging : 0) | (a.privilegeLimit & PRIVILEGE_MASK),
        ]));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetUserAccess, name: 'Set User Access', privilege: Privilege.Administrator,
      handler: (data) => {
        if (data.length !== 3 && data.length !== 4) return fail(CompletionCode.RequestDataLengthInvalid);
        const flags = data[0]!;
        const uid = data[1]!;
        const limit = data[2]!;
        const sessionLimit = data[3] ?? 0;
        if (!isOurChannel(flags & CHANNEL_MASK)) return fail(CompletionCode.InvalidDataField);
        // Per-user session limits are not supported: only 0 ("limited by the BMC only").
        if (uid & ~USER_ID_MASK || limit & ~PRIVILEGE_MASK || sessionLimit !== 0) return fail(CompletionCode.InvalidDataField);
        if (!validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        const changeBits = (flags & UserAccessBit.ChangeBits) !== 0;
        const bits = changeBits ? {
          callbackOnly: (flags & UserAccessBit.CallbackOnly) !== 0,
          linkAuth: (flags & UserAccessBit.LinkAuth) !== 0,
          ipmiMessaging: (flags & UserAccessBit.IpmiMessaging) !== 0,
        } : undefined;
        if (losesLastAdministrator(users, uid, { access: { ...bits, privilegeLimit: limit } })) return fail(CompletionCode.NotSupportedInPresentState);
        return run(() => users.setAccess(uid, limit, bits));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetUserName, name: 'Get User Name', privilege: Privilege.Operator,
      handler: (data) => {
        if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
        const uid = data[0]!;
        if (uid & ~USER_ID_MASK) return fail(CompletionCode.InvalidDataField);
        const user = users.get(uid);
        if (!user || !validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        const out = Buffer.alloc(USER_NAME_MAX_LENGTH);
        user.nameBytes.copy(out);
        return ok(out);
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetUserName, name: 'Set User Name', privilege: Privilege.Administrator,
      handler: (data) => {
        if (data.length !== 1 + USER_NAME_MAX_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
        const uid = data[0]!;
        if (uid & ~USER_ID_MASK) return fail(CompletionCode.InvalidDataField);
        if (!validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        const field = data.subarray(1);
        const end = field.indexOf(0);
        const name = end === -1 ? field : field.subarray(0, end);
        // Anything but NUL after the first NUL is not a padded name.
        if (end !== -1 && field.subarray(end).some((b) => b !== 0)) return fail(CompletionCode.InvalidDataField);
        if (losesLastAdministrator(users, uid, { named: name.length > 0 })) return fail(CompletionCode.NotSupportedInPresentState);
        return run(() => users.setName(uid, name));
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetUserPassword, name: 'Set User Password', privilege: Privilege.Administrator,
      handler: (data) => setUserPassword(users, data, validUserId),
    },
    {
      netFn: NetFn.App, cmd: AppCmd.GetUserPayloadAccess, name: 'Get User Payload Access', privilege: Privilege.Operator,
      handler: (data) => {
        if (data.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
        const uid = data[1]!;
        if (!isOurChannel(data[0]!) || uid & ~USER_ID_MASK) return fail(CompletionCode.InvalidDataField);
        const user = users.get(uid);
        if (!user || !validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        const out = Buffer.alloc(PAYLOAD_ACCESS_LENGTH);
        out[0] = user.access.solPayload ? SOL_PAYLOAD_BIT : 0;
        return ok(out);
      },
    },
    {
      netFn: NetFn.App, cmd: AppCmd.SetUserPayloadAccess, name: 'Set User Payload Access', privilege: Privilege.Administrator,
      handler: (data) => {
        if (data.length !== 2 + PAYLOAD_ACCESS_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
        const operation = data[1]! >> 6;
        const uid = data[1]! & USER_ID_MASK;
        const std1 = data[2]!;
        const otherPayloads = data.subarray(3); // standard byte 2, OEM bytes 1 and 2
        if (!isOurChannel(data[0]!)) return fail(CompletionCode.InvalidDataField);
        if (operation !== PayloadAccessOperation.Enable && operation !== PayloadAccessOperation.Disable) return fail(CompletionCode.InvalidDataField);
        // SOL is the only payload whose access can be granted; IPMI (bit 0) is always on.
        if (std1 & ~SOL_PAYLOAD_BIT || otherPayloads.some((b) => b !== 0)) return fail(CompletionCode.InvalidDataField);
        if (!validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
        if ((std1 & SOL_PAYLOAD_BIT) === 0) return ok();
        return run(() => users.setSolPayload(uid, operation === PayloadAccessOperation.Enable));
      },
    },
  ];
}

function setUserPassword(users: UserStore, data: Buffer, validUserId: (id: number) => boolean): CommandResult {
  if (data.length < SET_USER_PASSWORD_HEADER) return fail(CompletionCode.RequestDataLengthInvalid);
  const b1 = data[0]!;
  const b2 = data[1]!;
  const size: PasswordSize = b1 & PASSWORD_20_BYTE_FORM ? PASSWORD_SIZE_20 : PASSWORD_SIZE_16;
  const uid = b1 & USER_ID_MASK;
  const operation = b2 & 0x03;
  const needsPassword = operation === PasswordOperation.Set || operation === PasswordOperation.Test;
  const passwordLength = data.length - SET_USER_PASSWORD_HEADER;
  // The password field is required for set/test, optional for enable/disable; either way its size follows bit 7.
  if (passwordLength !== size && (needsPassword || passwordLength !== 0)) return fail(CompletionCode.RequestDataLengthInvalid);
  if (b1 & 0x40 || b2 & ~0x03) return fail(CompletionCode.InvalidDataField);
  if (!validUserId(uid)) return fail(CompletionCode.ParameterOutOfRange);
  const password = data.subarray(SET_USER_PASSWORD_HEADER);
  switch (operation) {
    case PasswordOperation.Disable:
      if (losesLastAdministrator(users, uid, { enabled: false })) return fail(CompletionCode.NotSupportedInPresentState);
      return run(() => users.setEnabled(uid, false));
    case PasswordOperation.Enable: return run(() => users.setEnabled(uid, true));
    case PasswordOperation.Set:
      if (!validPasswordBytes(password)) return fail(CompletionCode.InvalidDataField);
      return run(() => users.setPassword(uid, password, size));
    default: {
      const result = users.testPassword(uid, password, size);
      if (result === 'wrong-size') return fail(SetUserPasswordCode.WrongPasswordSize);
      return result === 'match' ? ok() : fail(SetUserPasswordCode.PasswordMismatch);
    }
  }
}

/** True when the change would take away the last enabled administrator (refused). */
function losesLastAdministrator(users: UserStore, uid: number, change: AdministratorChange): boolean {
  return removesLastAdministrator(users.list(), uid, change);
}

/** Runs a store change and maps its domain errors to completion codes. */
function run(change: () => void): CommandResult {
  try {
    change();
    return ok();
  } catch (err) {
    if (!(err instanceof UserStoreError)) throw err;
    return fail(completionCodeFor(err.code));
  }
}

function completionCodeFor(code: UserStoreErrorCode): number {
  switch (code) {
    case UserStoreErrorCode.InvalidUserId: return CompletionCode.ParameterOutOfRange;
    case UserStoreErrorCode.NullUserFixed:
    case UserStoreErrorCode.DuplicateName:
    case UserStoreErrorCode.InvalidName:
    case UserStoreErrorCode.InvalidPassword:
    case UserStoreErrorCode.InvalidPrivilege:
      return CompletionCode.InvalidDataField;
    default: return assertNever(code);
  }
}

function assertNever(x: never): never {
  throw new Error(`unmapped user store error ${String(x)}`);
}
