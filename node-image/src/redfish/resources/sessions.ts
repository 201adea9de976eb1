/**
 * SessionService and Sessions (DSP0266 section 13.3.4; schemas SessionService, Session).
 * POST to the collection needs no credentials and answers 201 with X-Auth-Token and Location
 * (gofish and bmclib refuse a login without Location). A user sees and deletes their own sessions;
 * an administrator (ConfigureUsers) sees and deletes all.
 */
import type { Accounts } from '../../core/accounts';
import type { JsonObject } from '../http-types';
import { RedfishError, notFound, typeError } from '../errors';
import { collection, idRef, noContent, resourceResponse, ROLE_PRIVILEGES, type Principal, type Route, type RouteContext } from '../router';
import { MAX_SESSION_TIMEOUT_S, MIN_SESSION_TIMEOUT_S, type RedfishSession, type SessionTable } from '../session-table';
import { loginFailure } from '../authenticator';
import { P, SCHEMA, typeOf } from './paths';

/** A Session resource; the fleet Redfish endpoint serves its sessions in the same shape at the same URIs. */
export function sessionResource(s: Pick<RedfishSession, 'id' | 'userName' | 'createdAt' | 'remote'>): JsonObject {
  return {
    '@odata.id': `${P.sessions}/${s.id}`,
    '@odata.type': typeOf(SCHEMA.Session),
    Id: s.id,
    Name: `Session ${s.id}`,
    UserName: s.userName,
    Password: null,
    SessionType: 'Redfish',
    CreatedTime: new Date(s.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ClientOriginIPAddress: s.remote,
  };
}

function sessionService(sessions: SessionTable): JsonObject {
  return {
    '@odata.id': P.sessionService,
    '@odata.type': typeOf(SCHEMA.SessionService),
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: sessions.timeoutMs / 1000,
    Status: { State: 'Enabled', Health: 'OK' },
    Sessions: idRef(P.sessions),
  };
}

const seesAll = (p: Principal): boolean => ROLE_PRIVILEGES[p.role].includes('ConfigureUsers');

function visibleSession(ctx: RouteContext, sessions: SessionTable): RedfishSession {
  const s = sessions.get(ctx.params[0]!, ctx.now);
  const p = ctx.principal!;
  if (!s || (!seesAll(p) && s.userId !== p.userId)) throw notFound(ctx.path);
  return s;
}

export function sessionRoutes(accounts: Accounts, sessions: SessionTable): Route[] {
  return [
    {
      path: P.sessionService, schema: SCHEMA.SessionService,
      ops: {
        GET: { privilege: 'Login', handle: () => resourceResponse(sessionService(sessions)) },
        PATCH: {
          privilege: 'ConfigureManager',
          etagOf: () => sessionService(sessions),
          handle: (ctx) => {
            const body = ctx.json();
            for (const key of Object.keys(body)) {
              if (key === 'SessionTimeout' || key.includes('@')) continue;
              const current = sessionService(sessions)[key];
              if (JSON.stringify(current) !== JSON.stringify(body[key])) {
                throw new RedfishError(400, 'PropertyNotWritable', `The property ${key} is a read only property and cannot be assigned a value.`, [key]);
              }
            }
            const t = body.SessionTimeout;
            if (t !== undefined) {
              if (typeof t !== 'number' || !Number.isInteger(t)) throw typeError(t, 'SessionTimeout');
              if (t < MIN_SESSION_TIMEOUT_S || t > MAX_SESSION_TIMEOUT_S) {
                throw new RedfishError(400, 'PropertyValueOutOfRange', `The value '${t}' for the property SessionTimeout is not in the supported range of ${MIN_SESSION_TIMEOUT_S} to ${MAX_SESSION_TIMEOUT_S} seconds.`, [String(t), 'SessionTimeout']);
              }
              sessions.timeoutMs = t * 1000;
            }
            return resourceResponse(sessionService(sessions));
          },
        },
      },
    },
    {
      path: P.sessions, schema: 'SessionCollection',
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const p = ctx.principal!;
            const ids = sessions.list(ctx.now).filter((s) => seesAll(p) || s.userId === p.userId).map((s) => `${P.sessions}/${s.id}`);
            return resourceResponse(collection(P.sessions, 'SessionCollection', 'Session Collection', ids));
          },
        },
        POST: {
          privilege: 'none',
          handle: (ctx) => {
            const body = ctx.json();
            const { UserName, Password } = body;
            if (UserName === undefined) throw new RedfishError(400, 'PropertyMissing', 'The property UserName is a required property and must be included in the request.', ['UserName']);
            if (Password === undefined) throw new RedfishError(400, 'PropertyMissing', 'The property Password is a required property and must be included in the request.', ['Password']);
            if (typeof UserName !== 'string') throw typeError(UserName, 'UserName');
            if (typeof Password !== 'string') throw typeError('******', 'Password');
            const result = accounts.login(UserName, Password, ctx.req.remote, ctx.now);
            if (!result.ok) throw loginFailure(result.reason, ctx.path);
            const s = sessions.create(result.account.id, result.account.name, ctx.req.remote, ctx.now);
            if (!s) throw new RedfishError(503, 'SessionLimitExceeded', 'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.', [], { 'Retry-After': '60' });
            const location = `${P.sessions}/${s.id}`;
            return resourceResponse(sessionResource(s), 201, { 'X-Auth-Token': s.token, Location: location });
          },
        },
      },
    },
    {
      path: `${P.sessions}/{id}`, schema: SCHEMA.Session,
      ops: {
        GET: { privilege: 'Login', handle: (ctx) => resourceResponse(sessionResource(visibleSession(ctx, sessions))) },
        DELETE: {
          privilege: 'ConfigureSelf',
          handle: (ctx) => {
            sessions.delete(visibleSession(ctx, sessions).id);
            return noContent();
          },
        },
      },
    },
  ];
}
