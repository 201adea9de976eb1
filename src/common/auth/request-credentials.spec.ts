import { issueSession } from './browser-session';
import { checkCredentials } from './request-credentials';

const TOKEN = 'a-long-api-token-for-tests';
const NOW = Date.UTC(2026, 0, 1);
const cookie = `bmcfleet_session=${issueSession(TOKEN, NOW).value}`;

describe('checkCredentials', () => {
  it('lets everyone through without API_TOKEN', () => {
    expect(checkCredentials({ authorization: undefined, cookie: undefined }, null, NOW)).toEqual({ ok: true, via: 'open' });
  });

  it('accepts the bearer token or the session cookie', () => {
    expect(checkCredentials({ authorization: `Bearer ${TOKEN}`, cookie: undefined }, TOKEN, NOW)).toEqual({ ok: true, via: 'bearer' });
    expect(checkCredentials({ authorization: `bearer  ${TOKEN}`, cookie: undefined }, TOKEN, NOW)).toEqual({ ok: true, via: 'bearer' });
    expect(checkCredentials({ authorization: undefined, cookie }, TOKEN, NOW)).toEqual({ ok: true, via: 'cookie' });
  });

  it('refuses nothing, a wrong token, another scheme, a wrong or expired cookie; a wrong bearer beside a good cookie too', () => {
    const refused = (authorization: string | undefined, cookieHeader: string | undefined, now = NOW): string => {
      const verdict = checkCredentials({ authorization, cookie: cookieHeader }, TOKEN, now);
      if (verdict.ok) throw new Error('accepted');
      expect(verdict.status).toBe(401);
      return verdict.message;
    };
    expect(refused(undefined, undefined)).toBe('bearer token required');
    expect(refused('Bearer wrong', undefined)).toBe('invalid bearer token');
    expect(refused(`Basic ${TOKEN}`, undefined)).toMatch(/Bearer/);
    expect(refused(undefined, 'bmcfleet_session=1.abc')).toMatch(/log in again/);
    expect(refused(undefined, cookie, NOW + 13 * 3600_000)).toMatch(/log in again/);
    expect(refused('Bearer wrong', cookie)).toBe('invalid bearer token');
  });
});
