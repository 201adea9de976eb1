import { BrowserPolicy, browserPolicyOf, BrowserRequest, checkBrowserRequest, hostNameOf, isJsonContentType } from './browser-request';

const LOOPBACK: BrowserPolicy = browserPolicyOf({ bindAddress: '127.0.0.1', apiToken: null });
const WITH_TOKEN: BrowserPolicy = browserPolicyOf({ bindAddress: '0.0.0.0', apiToken: 'a-long-enough-secret-token' });

function request(overrides: Partial<BrowserRequest>): BrowserRequest {
  return { method: 'GET', host: '127.0.0.1:8080', origin: undefined, contentType: undefined, hasBody: false, ...overrides };
}

describe('browserPolicyOf', () => {
  it('answers to this machine\'s names and BIND_ADDRESS without a token, to any Host with one', () => {
    expect(LOOPBACK.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(browserPolicyOf({ bindAddress: '127.0.0.5', apiToken: null }).allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]', '127.0.0.5']);
    expect(browserPolicyOf({ bindAddress: '::1', apiToken: null }).allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(WITH_TOKEN.allowedHosts).toBeNull();
  });
});

describe('checkBrowserRequest', () => {
  it.each([
    ['a curl GET', request({})],
    ['localhost on another port', request({ host: 'localhost:9000' })],
    ['[::1]', request({ host: '[::1]:8080' })],
    ['a JSON create', request({ method: 'POST', contentType: 'application/json', hasBody: true })],
    ['JSON with a charset', request({ method: 'POST', contentType: 'Application/JSON; charset=utf-8', hasBody: true })],
    ['a POST without a body', request({ method: 'POST' })],
    ['a DELETE without a body', request({ method: 'DELETE' })],
    ['a same-origin page (Swagger UI)', request({ method: 'POST', origin: 'http://127.0.0.1:8080', contentType: 'application/json', hasBody: true })],
    ['a WebSocket upgrade from the same origin', request({ origin: 'http://localhost:8080', host: 'localhost:8080' })],
  ])('lets %s through', (_case, r) => {
    expect(checkBrowserRequest(r, LOOPBACK)).toEqual({ ok: true });
  });

  it.each([
    ['form-encoded', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
    ['a JSON look-alike', 'application/jsonp'],
  ])('refuses a %s body of a state change with 415', (_case, contentType) => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(checkBrowserRequest(request({ method, contentType, hasBody: true }), LOOPBACK)).toEqual({
        ok: false, status: 415, message: expect.stringMatching(new RegExp(`^Content-Type must be application/json for a ${method} with a body`)),
      });
    }
  });

  it.each([
    ['a rebound DNS name', 'attacker.example:8080'],
    ['a name that ends like localhost', 'localhost.attacker.example'],
    ['a sub-domain of localhost', 'evil.localhost:8080'],
    ['another loopback address', '127.0.0.2:8080'],
    ['no Host at all', undefined],
    ['a malformed Host', 'a b'],
  ])('refuses %s with 421 on a token-less loopback API', (_case, host) => {
    expect(checkBrowserRequest(request({ host }), LOOPBACK)).toEqual({ ok: false, status: 421, message: expect.stringContaining('answers only to localhost, 127.0.0.1, [::1] (any port)') });
  });

  it('does not check Host when a token protects the API (a rebound page cannot know it)', () => {
    expect(checkBrowserRequest(request({ host: 'fleet.example:8080' }), WITH_TOKEN)).toEqual({ ok: true });
  });

  it.each([
    ['another site', 'http://attacker.example'],
    ['the same host on another port', 'http://127.0.0.1:9999'],
    ['an opaque origin', 'null'],
    ['a file page', 'file://'],
  ])('refuses an Origin of %s with 403, with or without a token', (_case, origin) => {
    const expected = { ok: false, status: 403, message: `Origin ${JSON.stringify(origin)} is not this API's origin: cross-site requests are refused` };
    expect(checkBrowserRequest(request({ method: 'POST', origin, contentType: 'application/json', hasBody: true }), LOOPBACK)).toEqual(expected);
    expect(checkBrowserRequest(request({ origin, host: '127.0.0.1:8080' }), WITH_TOKEN)).toEqual(expected);
  });
});

describe('hostNameOf and isJsonContentType', () => {
  it.each([
    ['localhost:8080', 'localhost'],
    ['LOCALHOST', 'localhost'],
    ['[::1]:80', '[::1]'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', null],
    ['', null],
  ])('hostNameOf(%j) = %j', (host, expected) => {
    expect(hostNameOf(host)).toBe(expected);
  });

  it('reads the media type only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType(' application/json ; charset=utf-8')).toBe(true);
    expect(isJsonContentType('text/json')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
