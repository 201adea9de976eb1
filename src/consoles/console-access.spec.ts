import { checkConsoleAccess } from './console-access';

describe('checkConsoleAccess', () => {
  const loopback = { bindAddress: '127.0.0.1', apiToken: null };
  const withToken = { bindAddress: '0.0.0.0', apiToken: 's3cret-token' };

  it('lets a loopback API without a token through for this machine\'s Host, with or without a same-origin Origin', () => {
    expect(checkConsoleAccess({ host: '127.0.0.1:8080', origin: undefined, authorization: undefined }, loopback)).toEqual({ ok: true });
    expect(checkConsoleAccess({ host: 'localhost:8080', origin: 'http://localhost:8080', authorization: undefined }, loopback)).toEqual({ ok: true });
  });

  it('refuses a foreign Origin (403) and, without a token, a rebound Host (421)', () => {
    expect(checkConsoleAccess({ host: '127.0.0.1:8080', origin: 'http://evil.example', authorization: undefined }, loopback)).toMatchObject({ ok: false, status: 403 });
    expect(checkConsoleAccess({ host: 'evil.example:8080', origin: undefined, authorization: undefined }, loopback)).toMatchObject({ ok: false, status: 421 });
    expect(checkConsoleAccess({ host: 'fleet.example:8080', origin: 'https://other.example', authorization: 'Bearer s3cret-token' }, withToken)).toMatchObject({ ok: false, status: 403 });
  });

  it('with API_TOKEN, wants the bearer token: none → 401 "required", another → 401 "invalid"', () => {
    expect(checkConsoleAccess({ host: 'fleet.example', origin: undefined, authorization: undefined }, withToken)).toEqual({ ok: false, status: 401, message: 'bearer token required' });
    expect(checkConsoleAccess({ host: 'fleet.example', origin: undefined, authorization: 'Bearer wrong' }, withToken)).toEqual({ ok: false, status: 401, message: 'invalid bearer token' });
    expect(checkConsoleAccess({ host: 'fleet.example', origin: undefined, authorization: 'Basic czNjcmV0LXRva2Vu' }, withToken)).toMatchObject({ status: 401 });
    expect(checkConsoleAccess({ host: 'fleet.example', origin: 'http://fleet.example', authorization: 'bearer  s3cret-token' }, withToken)).toEqual({ ok: true });
  });
});
