/**
 * AccountService (DSP0268 AccountService v1_18_1), its accounts and roles: the BMC's users as IPMI
 * knows them, with their role from the LAN privilege limit (Administrator, Operator, ReadOnly ↔
 * IPMI ADMINISTRATOR, OPERATOR, USER) and the lockout shared with IPMI. Writes (accounts and the
 * lockout settings) are in account-writes.ts.
 */
import type { Account, Accounts, Role } from '../../core/accounts';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/accounts';
import { collection, idRef, noContent, ROLE_PRIVILEGES, resourceResponse, type Route, type RouteContext } from '../router';
import { accountPath, createAccount, deleteAccount, patchAccount, patchAccountService } from './account-writes';
import { P, SCHEMA, typeOf } from './paths';

export const ROLE_IDS: Readonly<Record<Role, string>> = { 'administrator': 'Administrator', 'operator': 'Operator', 'read-only': 'ReadOnly' };
const ROLES = Object.keys(ROLE_IDS) as Role[];

function accountService(accounts: Accounts): JsonObject {
  const policy = accounts.lockoutPolicy;
  return {
    '@odata.id': P.accountService,
    '@odata.type': typeOf(SCHEMA.AccountService),
    Id: 'AccountService',
    Name: 'Account Service',
    ServiceEnabled: true,
    Status: { State: 'Enabled', Health: 'OK' },
    MinPasswordLength: MIN_PASSWORD_LENGTH,
    MaxPasswordLength: MAX_PASSWORD_LENGTH,
    AccountLockoutThreshold: policy.threshold,
    AccountLockoutDuration: Math.round(policy.lockoutMs / 1000),
    AccountLockoutCounterResetAfter: Math.round(policy.attemptWindowMs / 1000),
    AccountLockoutCounterResetEnabled: policy.attemptWindowMs > 0,
    LocalAccountAuth: 'Enabled',
    Accounts: idRef(P.accounts),
    Roles: idRef(P.roles),
  };
}

function account(a: Account): JsonObject {
  return {
    '@odata.id': `${P.accounts}/${a.id}`,
    '@odata.type': typeOf(SCHEMA.ManagerAccount),
    Id: String(a.id),
    Name: 'User Account',
    UserName: a.name,
    Password: null,
    // A user without a Redfish role (IPMI Callback or No Access) is shown as ReadOnly but cannot log in.
    RoleId: ROLE_IDS[a.role ?? 'read-only'],
    Enabled: a.enabled && a.role !== undefined,
    Locked: a.locked,
    AccountTypes: ['Redfish', 'IPMI'],
    Links: { Role: idRef(`${P.roles}/${ROLE_IDS[a.role ?? 'read-only']}`) },
  };
}

function role(r: Role): JsonObject {
  return {
    '@odata.id': `${P.roles}/${ROLE_IDS[r]}`,
    '@odata.type': typeOf(SCHEMA.Role),
    Id: ROLE_IDS[r],
    Name: `${ROLE_IDS[r]} Role`,
    RoleId: ROLE_IDS[r],
    IsPredefined: true,
    AssignedPrivileges: [...ROLE_PRIVILEGES[r]],
  };
}

/** Administrators (ConfigureUsers) see every account; others only their own. */
function visibleAccount(accounts: Accounts, ctx: RouteContext): Account {
  const p = ctx.principal!;
  const a = /^\d+$/.test(ctx.params[0]!) ? accounts.get(Number(ctx.params[0]), ctx.now) : undefined;
  if (!a || (a.id !== p.userId && !ROLE_PRIVILEGES[p.role].includes('ConfigureUsers'))) throw notFound(ctx.path);
  return a;
}

export function accountRoutes(accounts: Accounts): Route[] {
  return [
    {
      path: P.accountService, schema: SCHEMA.AccountService,
      ops: {
        GET: { privilege: 'Login', handle: () => resourceResponse(accountService(accounts)) },
        PATCH: {
          privilege: 'ConfigureUsers',
          etagOf: () => accountService(accounts),
          handle: (ctx) => { patchAccountService(accounts, ctx, accountService(accounts)); return resourceResponse(accountService(accounts)); },
        },
      },
    },
    {
      path: P.accounts, schema: 'ManagerAccountCollection',
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const p = ctx.principal!;
            const all = ROLE_PRIVILEGES[p.role].includes('ConfigureUsers');
            const ids = accounts.list(ctx.now).filter((a) => all || a.id === p.userId).map((a) => `${P.accounts}/${a.id}`);
            return resourceResponse(collection(P.accounts, 'ManagerAccountCollection', 'Accounts Collection', ids));
          },
        },
        POST: {
          privilege: 'ConfigureUsers',
          handle: (ctx) => {
            const id = createAccount(accounts, ctx, ROLE_IDS);
            return resourceResponse(account(accounts.get(id, ctx.now)!), 201, { Location: accountPath(id) });
          },
        },
      },
    },
    {
      path: `${P.accounts}/{id}`, schema: SCHEMA.ManagerAccount,
      ops: {
        GET: { privilege: 'Login', handle: (ctx) => resourceResponse(account(visibleAccount(accounts, ctx))) },
        PATCH: {
          privilege: 'ConfigureSelf',
          etagOf: (ctx) => account(visibleAccount(accounts, ctx)),
          handle: (ctx) => {
            patchAccount(accounts, ctx, account(visibleAccount(accounts, ctx)), ROLE_IDS);
            return resourceResponse(account(visibleAccount(accounts, ctx)));
          },
        },
        DELETE: {
          privilege: 'ConfigureUsers',
          handle: (ctx) => { deleteAccount(accounts, { ...ctx, params: [String(visibleAccount(accounts, ctx).id)] }); return noContent(); },
        },
      },
    },
    { path: P.roles, schema: 'RoleCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.roles, 'RoleCollection', 'Roles Collection', ROLES.map((r) => `${P.roles}/${ROLE_IDS[r]}`))) } } },
    {
      path: `${P.roles}/{id}`, schema: SCHEMA.Role,
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const r = ROLES.find((x) => ROLE_IDS[x] === ctx.params[0]);
            if (!r) throw notFound(ctx.path);
            return resourceResponse(role(r));
          },
        },
      },
    },
  ];
}
