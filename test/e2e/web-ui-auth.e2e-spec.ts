/**
 * Browser auth beyond loopback (BIND_ADDRESS=0.0.0.0 with API_TOKEN), in Debian's chromium and
 * firefox-esr (the log-in flow in each, with its own fleet): the
 * log-in page trades the token for an HttpOnly SameSite=Strict cookie; the API, the event stream and
 * the consoles' WebSocket upgrades take that cookie or the bearer token, and refuse no credentials, a
 * wrong token and a foreign Origin. The consoles' upgrades come from the console proxy
 * (/api/v1/nodes/:name/console/*); they are checked here with raw HTTP upgrade requests.
 */
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { MAX_FAILURES } from '../../src/common/auth/login-limiter';
import { BROWSER_KINDS, describeInBrowser, TestBrowser, type BrowserKind } from './support/browser';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';
import { buildWebUi } from './support/web-ui-build';

const TOKEN = randomBytes(24).toString('base64url');

/** The status a WebSocket upgrade request gets: 101 when the server switches protocols. */
function upgradeStatus(url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
      timeout: 10_000,
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('upgrade request timed out')));
    request.on('error', reject);
    request.end();
  });
}

function authScenario(kind: BrowserKind): void {
  describeInBrowser(kind, ['docker'])(`web UI in ${kind}: log-in and browser auth beyond loopback`, () => {
    const fleet = new OrchestratorProcess(newFleetSettings(4, { RECONCILE_INTERVAL_S: '0', BIND_ADDRESS: '0.0.0.0', API_TOKEN: TOKEN, SIM_PLACEMENT: 'container' }));
    let browser: TestBrowser;
    let cookieHeader = '';

    beforeAll(async () => {
      buildOrchestrator();
      buildWebUi();
      await fleet.start();
      browser = await TestBrowser.launch(kind);
    });

    afterAll(async () => {
      await browser?.close();
      await fleet.cleanup();
    });

    it('sends a browser without a session to the log-in page, refuses a wrong token, and logs in with the right one', async () => {
      const page = await browser.newPage();
      await page.goto(`${fleet.url}/nodes/anything`);
      await page.waitForUrl(/\/login\?next=%2Fnodes%2Fanything$/);
      await page.fill('#token', 'not-the-token');
      await page.click('form.login button[type=submit]');
      await page.waitForText('#login-error', 'not the API token');
      expect(await page.cookies()).toEqual([]);
      await page.fill('#token', TOKEN);
      await page.click('form.login button[type=submit]');
      await page.waitForUrl(`${fleet.url}/nodes/anything`);
      const [cookie] = await page.cookies();
      expect(cookie).toMatchObject({ name: 'bmcfleet_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
      expect(cookie?.value).not.toContain(TOKEN);
      cookieHeader = `${cookie?.name}=${cookie?.value}`;
      // The page asks the API with the cookie: a node that does not exist is the API's 404, not a log-in.
      await page.waitForText('.form-error', 'node anything does not exist');
      expect(page.problems.violations).toEqual([]);
      await page.goto(`${fleet.url}/`);
      await page.waitForText('#count', '0 nodes');
      await page.click('#logout');
      await page.waitForUrl(/\/login$/);
      expect(await page.cookies()).toEqual([]);
      await page.close();
    });

    it('the API and the event stream take the bearer token or the cookie and nothing else', async () => {
      const get = (path: string, headers: Record<string, string>) => fetch(`${fleet.url}${path}`, { headers }).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      });
      expect(await get('/api/v1/nodes', {})).toBe(401);
      expect(await get('/api/v1/nodes', { authorization: 'Bearer wrong' })).toBe(401);
      expect(await get('/api/v1/nodes', { authorization: `Bearer ${TOKEN}` })).toBe(200);
      expect(await get('/api/v1/nodes', { cookie: cookieHeader })).toBe(200);
      expect(await get('/api/v1/nodes', { cookie: 'bmcfleet_session=9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).toBe(401);
      expect(await get('/api/v1/events', {})).toBe(401);
      expect(await get('/api/v1/events', { cookie: cookieHeader })).toBe(200);
      // A page of another origin cannot use the cookie (and browsers would not send it: SameSite=Strict).
      expect(await get('/api/v1/nodes', { cookie: cookieHeader, origin: 'http://evil.example' })).toBe(403);
    });

    it('refuses a console WebSocket upgrade without cookie or token, with a wrong token, and from a foreign Origin', async () => {
      const created = await fetch(`${fleet.url}/api/v1/nodes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'auth-sim', machine: 'sim', ipmiPassword: 's3cret-pass' }),
      });
      expect(created.status).toBe(201);
      const origin = fleet.url;
      for (const path of ['/api/v1/nodes/auth-sim/console/serial', '/api/v1/nodes/auth-sim/console/graphical']) {
        expect(await upgradeStatus(fleet.url, path, { origin })).toBe(401);
        expect(await upgradeStatus(fleet.url, path, { origin, authorization: 'Bearer wrong' })).toBe(401);
        expect(await upgradeStatus(fleet.url, path, { origin, cookie: 'bmcfleet_session=1.x' })).toBe(401);
        expect(await upgradeStatus(fleet.url, path, { origin: 'http://evil.example', cookie: cookieHeader })).toBe(403);
        expect(await upgradeStatus(fleet.url, path, { origin, cookie: cookieHeader })).toBe(101);
        expect(await upgradeStatus(fleet.url, path, { authorization: `Bearer ${TOKEN}` })).toBe(101);
      }
    });

    it(`refuses the log-in from an address after ${MAX_FAILURES} wrong tokens in a row, even with the right token, saying when to retry`, async () => {
      const login = (token: string) => fetch(`${fleet.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      for (let attempt = 0; attempt < MAX_FAILURES; attempt += 1) expect((await login(`wrong-${attempt}`)).status).toBe(401);
      const locked = await login(TOKEN);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await locked.json()) as { message: string }).message).toMatch(/^too many wrong tokens from this address: try again in \d+ s$/);
      expect(locked.headers.get('set-cookie')).toBeNull();
    });
  });
}

for (const kind of BROWSER_KINDS) authScenario(kind);
