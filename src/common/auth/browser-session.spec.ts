import { clearedSessionCookie, cookieValue, issueSession, SESSION_LIFETIME_S, sessionCookie, verifySession } from './browser-session';

const TOKEN = 'a-long-api-token-for-tests';
const NOW = Date.UTC(2026, 0, 1);

describe('browser session', () => {
  it('verifies a session it issued until it expires', () => {
    const { value } = issueSession(TOKEN, NOW);
    expect(verifySession(value, TOKEN, NOW + 1000)).toBe(true);
    expect(verifySession(value, TOKEN, NOW + SESSION_LIFETIME_S * 1000)).toBe(false);
  });

  it('refuses a session issued under another token, a forged expiry and malformed values', () => {
    const { value } = issueSession(TOKEN, NOW);
    expect(verifySession(value, 'another-token', NOW)).toBe(false);
    const [, mac] = value.split('.');
    expect(verifySession(`${Math.floor(NOW / 1000) + 10 * SESSION_LIFETIME_S}.${mac}`, TOKEN, NOW)).toBe(false);
    for (const bad of ['', '.', 'abc', `${value}x`, `1.${mac}`, TOKEN]) expect(verifySession(bad, TOKEN, NOW)).toBe(false);
  });

  it('reads one cookie of a Cookie header', () => {
    expect(cookieValue('a=1; bmcfleet_session=xyz; b=2', 'bmcfleet_session')).toBe('xyz');
    expect(cookieValue('xbmcfleet_session=1', 'bmcfleet_session')).toBeUndefined();
    expect(cookieValue(undefined, 'bmcfleet_session')).toBeUndefined();
  });

  it('sets an HttpOnly SameSite=Strict cookie, Secure only over TLS', () => {
    expect(sessionCookie('v', false)).toBe(`bmcfleet_session=v; Path=/; Max-Age=${SESSION_LIFETIME_S}; HttpOnly; SameSite=Strict`);
    expect(sessionCookie('v', true)).toMatch(/; Secure$/);
    expect(clearedSessionCookie(false)).toContain('Max-Age=0');
  });
});
