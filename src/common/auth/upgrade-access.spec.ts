import { issueSession } from './browser-session';
import { checkUpgrade } from './upgrade-access';

const TOKEN = 'a-long-api-token-for-tests';
const NOW = Date.UTC(2026, 0, 1);
const cookie = `bmcfleet_session=${issueSession(TOKEN, NOW).value}`;
const open = { bindAddress: '127.0.0.1', apiToken: null };
const guarded = { bindAddress: '0.0.0.0', apiToken: TOKEN };

function upgrade(headers: Record<string, string>, http: { bindAddress: string; apiToken: string | null }) {
  return checkUpgrade({ headers }, http, NOW);
}

describe('checkUpgrade', () => {
  it('opens a loopback console without a token to a page of this origin', () => {
    expect(upgrade({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }, open)).toEqual({ ok: true });
  });

  it('refuses a rebound host name and a foreign Origin without a token', () => {
    expect(upgrade({ host: 'attacker.example:8080', origin: 'http://attacker.example:8080' }, open)).toMatchObject({ ok: false, status: 421 });
    expect(upgrade({ host: '127.0.0.1:8080', origin: 'http://attacker.example' }, open)).toMatchObject({ ok: false, status: 403 });
  });

  it('beyond loopback: needs the cookie (with Origin) or the bearer token, and refuses a foreign Origin even with them', () => {
    const host = 'fleet.example:8080';
    expect(upgrade({ host, origin: 'http://fleet.example:8080', cookie }, guarded)).toEqual({ ok: true });
    expect(upgrade({ host, authorization: `Bearer ${TOKEN}` }, guarded)).toEqual({ ok: true });
    expect(upgrade({ host, origin: 'http://fleet.example:8080' }, guarded)).toMatchObject({ ok: false, status: 401 });
    expect(upgrade({ host, origin: 'http://fleet.example:8080', authorization: 'Bearer wrong' }, guarded)).toMatchObject({ ok: false, status: 401 });
    expect(upgrade({ host, cookie }, guarded)).toMatchObject({ ok: false, status: 403 });
    expect(upgrade({ host, origin: 'http://evil.example', cookie }, guarded)).toMatchObject({ ok: false, status: 403 });
  });
});
