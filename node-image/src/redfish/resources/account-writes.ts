/**
 * Changes to users and to the lockout through Redfish (DSP0266 section 13.2, AccountService and
 * ManagerAccount): the same user table and lockout as IPMI (core/accounts.ts), so a user made here
 * logs in with ipmitool at the matching privilege, and the reverse.
 *
 * - POST Accounts (ConfigureUsers): UserName, Password, RoleId required, Enabled optional; the lowest
 *   free IPMI user ID; 201 with Location.
 * - PATCH Accounts/{id}: Password of one's own account needs ConfigureSelf; anything else (another
 *   account, UserName, RoleId, Enabled, Locked=false) needs ConfigureUsers.
 * - DELETE Accounts/{id} (ConfigureUsers): frees the user ID; one's own account cannot be deleted.
 * - The last enabled Administrator can be neither disabled, demoted nor deleted (409).
 * - PATCH AccountService (ConfigureUsers): AccountLockoutThreshold (0 = no lockout),
 *   AccountLockoutDuration and AccountLockoutCounterResetAfter (seconds, whole tens: the IPMI LAN
 *   parameter 26 unit), AccountLockoutCounterResetEnabled (false: failures count until a success).
 * Passwords: 8 to 20 printable ASCII characters; names: 1 to 16 printable ASCII characters, no spaces.
 */
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, type AccountChange, type AccountResult, type Accounts, type Role } from '../../core/accounts';
import { LOCKOUT_INTERVAL_UNIT_MS } from '../../bmc/users/auth-lockout';
import type { JsonObject } from '../http-types';
import { insufficientPrivilege, notFound, notInList, RedfishError, typeError } from '../errors';
import { ROLE_PRIVILEGES, type RouteContext } from '../router';
import { onlyWritable } from './patch-rules';
import { P } from './paths';

/** Largest lockout interval the IPMI encoding holds (16 bits of 10 s units), seconds. */
const MAX_INTERVAL_S = 0xffff * (LOCKOUT_INTERVAL_UNIT_MS / 1000);
const MAX_THRESHOLD = 0xff;

function roleOf(value: unknown, roleIds: Readonly<Record<Role, string>>): Role {
  if (typeof value !== 'string') throw typeError(value, 'RoleId');
  const role = (Object.keys(roleIds) as Role[]).find((r) => roleIds[r] === value);
  if (!role) throw notInList(value, 'RoleId');
  return role;
}

function text(body: JsonObject, key: string): string | undefined {
  const v = body[key];
  // The Password a GET shows (null) sent back means no change.
  if (v === undefined || (v === null && key === 'Password')) return undefined;
  if (typeof v !== 'string') throw typeError(key === 'Password' ? '******' : v, key);
  return v;
}

/** The 4xx for an account change the core refused. */
function refused(result: Extract<AccountResult, { ok: false }>, name: string | undefined, path: string): RedfishError {
  switch (result.error) {
    case 'duplicate-name':
      return new RedfishError(409, 'ResourceAlreadyExists', `The requested resource of type ManagerAccount with the property UserName with the value '${name ?? ''}' already exists.`, ['ManagerAccount', 'UserName', name ?? '']);
    case 'no-free-slot':
      return new RedfishError(400, 'CreateLimitReachedForResource', 'The create operation failed because the resource has reached the limit of possible resources: every IPMI user ID is taken (delete an account first).');
    case 'invalid-name':
      return new RedfishError(400, 'PropertyValueFormatError', `The value '${name ?? ''}' for the property UserName is of a different format than the property can accept: 1 to 16 printable ASCII characters without spaces.`, [name ?? '', 'UserName']);
    case 'invalid-password':
      return new RedfishError(400, 'PropertyValueFormatError', `The value '******' for the property Password is of a different format than the property can accept: ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} printable ASCII characters.`, ['******', 'Password']);
    case 'not-found':
      return notFound(path);
    case 'last-administrator':
      return new RedfishError(409, 'PropertyValueConflict', "The property 'Enabled' could not be written because its value would conflict with the value of the 'RoleId' property: this is the last enabled Administrator account, which cannot be disabled, demoted or deleted.", ['Enabled', 'RoleId']);
  }
}

function missing(property: string): RedfishError {
  return new RedfishError(400, 'PropertyMissing', `The property ${property} is a required property and must be included in the request.`, [property]);
}

export function createAccount(accounts: Accounts, ctx: RouteContext, roleIds: Readonly<Record<Role, string>>): number {
  const body = ctx.json();
  for (const key of Object.keys(body)) {
    if (!['UserName', 'Password', 'RoleId', 'Enabled'].includes(key) && !key.includes('@')) {
      throw new RedfishError(400, 'PropertyUnknown', `The property ${key} is not in the list of valid properties for the resource.`, [key]);
    }
  }
  const name = text(body, 'UserName');
  const password = text(body, 'Password');
  if (name === undefined) throw missing('UserName');
  if (password === undefined) throw missing('Password');
  if (body.RoleId === undefined) throw missing('RoleId');
  const role = roleOf(body.RoleId, roleIds);
  const enabled = body.Enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') throw typeError(enabled, 'Enabled');
  const result = accounts.create({ name, password, role, ...(enabled === undefined ? {} : { enabled }) });
  if (!result.ok) throw refused(result, name, ctx.path);
  return result.id;
}

export function patchAccount(accounts: Accounts, ctx: RouteContext, current: JsonObject, roleIds: Readonly<Record<Role, string>>): void {
  const p = ctx.principal!;
  const id = Number(ctx.params[0]);
  const body = ctx.json();
  onlyWritable(body, current, ['UserName', 'Password', 'RoleId', 'Enabled', 'Locked']);
  const change: { -readonly [K in keyof AccountChange]?: AccountChange[K] } = {};
  const name = text(body, 'UserName');
  if (name !== undefined && name !== current.UserName) change.name = name;
  const password = text(body, 'Password');
  if (password !== undefined) change.password = password;
  if (body.RoleId !== undefined && body.RoleId !== current.RoleId) change.role = roleOf(body.RoleId, roleIds);
  if (body.Enabled !== undefined) {
    if (typeof body.Enabled !== 'boolean') throw typeError(body.Enabled, 'Enabled');
    if (body.Enabled !== current.Enabled) change.enabled = body.Enabled;
  }
  // Locked=false always unlocks (the account may be locked out from one address only, which
  // `Locked`, as a stranger sees the account, does not show).
  if (body.Locked === false) change.locked = false;
  else if (body.Locked !== undefined && body.Locked !== current.Locked) {
    throw new RedfishError(400, 'PropertyValueNotInList', `The value '${JSON.stringify(body.Locked)}' for the property Locked is not in the list of acceptable values: only false (unlock) may be written.`, [JSON.stringify(body.Locked), 'Locked']);
  }
  const ownPasswordOnly = id === p.userId && Object.keys(change).every((k) => k === 'password');
  const needs = ownPasswordOnly ? 'ConfigureSelf' : 'ConfigureUsers';
  if (!ROLE_PRIVILEGES[p.role].includes(needs)) throw insufficientPrivilege();
  if (Object.keys(change).length === 0) return;
  const result = accounts.update(id, change);
  if (!result.ok) throw refused(result, name, ctx.path);
}

export function deleteAccount(accounts: Accounts, ctx: RouteContext): void {
  const id = Number(ctx.params[0]);
  if (id === ctx.principal!.userId) {
    throw new RedfishError(409, 'ResourceCannotBeDeleted', 'The delete request failed because the resource requested cannot be deleted: an account cannot delete itself.');
  }
  const result = accounts.remove(id);
  if (!result.ok) throw refused(result, undefined, ctx.path);
}

function seconds(body: JsonObject, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(v, key);
  if (v < min || v > MAX_INTERVAL_S || v % (LOCKOUT_INTERVAL_UNIT_MS / 1000) !== 0) {
    throw new RedfishError(400, 'PropertyValueOutOfRange', `The value '${v}' for the property ${key} is not in the supported range: whole tens of seconds from ${min} to ${MAX_INTERVAL_S}.`, [String(v), key]);
  }
  return v;
}

export function patchAccountService(accounts: Accounts, ctx: RouteContext, current: JsonObject): void {
  const body = ctx.json();
  onlyWritable(body, current, ['AccountLockoutThreshold', 'AccountLockoutDuration', 'AccountLockoutCounterResetAfter', 'AccountLockoutCounterResetEnabled']);
  const policy = accounts.lockoutPolicy;
  let threshold = policy.threshold;
  const t = body.AccountLockoutThreshold;
  if (t !== undefined) {
    if (typeof t !== 'number' || !Number.isInteger(t)) throw typeError(t, 'AccountLockoutThreshold');
    if (t < 0 || t > MAX_THRESHOLD) throw new RedfishError(400, 'PropertyValueOutOfRange', `The value '${t}' for the property AccountLockoutThreshold is not in the supported range of 0 to ${MAX_THRESHOLD}.`, [String(t), 'AccountLockoutThreshold']);
    threshold = t;
  }
  // 0 would mean "locked until re-enabled" to IPMI but "no lockout" to Redfish: not accepted here.
  const duration = seconds(body, 'AccountLockoutDuration', 10);
  let windowS = seconds(body, 'AccountLockoutCounterResetAfter', 10) ?? policy.attemptWindowMs / 1000;
  const resetEnabled = body.AccountLockoutCounterResetEnabled;
  if (resetEnabled !== undefined) {
    if (typeof resetEnabled !== 'boolean') throw typeError(resetEnabled, 'AccountLockoutCounterResetEnabled');
    if (!resetEnabled) windowS = 0;
    else if (windowS === 0) throw new RedfishError(400, 'PropertyMissing', 'The property AccountLockoutCounterResetAfter is a required property and must be included in the request when AccountLockoutCounterResetEnabled becomes true.', ['AccountLockoutCounterResetAfter']);
  }
  accounts.setLockoutPolicy({
    threshold,
    lockoutMs: duration === undefined ? policy.lockoutMs : duration * 1000,
    attemptWindowMs: windowS * 1000,
  });
}

export const accountPath = (id: number): string => `${P.accounts}/${id}`;
