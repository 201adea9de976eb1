/**
 * Who is asking: Basic credentials and session tokens checked against the BMC's users (the same
 * users, passwords and lockout as IPMI, through core/accounts). A wrong password, an unknown user
 * and a locked-out user all get the same 401, so the answer does not tell which.
 */
import type { Accounts, LoginResult } from '../core/accounts';
import { RedfishError, unauthorized } from './errors';
import type { Authenticator, Principal } from './router';
import type { SessionTable } from './session-table';
import type { Logger } from '../util/logger';

export function loginFailure(_reason: Extract<LoginResult, { ok: false }>['reason'], path: string): RedfishError {
  return new RedfishError(401, 'ResourceAtUriUnauthorized', `While accessing the resource at '${path}', the service received an authorization error: invalid credentials.`, [path, 'invalid credentials'], { 'WWW-Authenticate': 'Basic realm="Redfish"' });
}

export function createAuthenticator(accounts: Accounts, sessions: SessionTable, log: Logger): Authenticator {
  return {
    basic(user, password, remote, now): Principal {
      const result = accounts.login(user, password, remote, now);
      if (!result.ok) {
        log.info('redfish login refused', { user, reason: result.reason });
        throw loginFailure(result.reason, '/redfish/v1');
      }
      return { userId: result.account.id, userName: result.account.name, role: result.account.role, session: undefined };
    },
    token(token, now): Principal {
      const session = sessions.authenticate(token, now);
      if (!session) throw unauthorized('/redfish/v1');
      // The role is read at every request: a privilege change made through IPMI applies at once.
      const role = accounts.sessionRole(session.userId, session.userName);
      if (!role) {
        sessions.delete(session.id);
        throw unauthorized('/redfish/v1');
      }
      return { userId: session.userId, userName: session.userName, role, session };
    },
  };
}
