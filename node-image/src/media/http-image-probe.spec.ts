import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { generateSelfSigned } from '../redfish/self-signed-certificate';
import type { AddressInfo } from 'node:net';
import { HttpImageProbe, judge } from './http-image-probe';

const head = (statusCode: number, headers: Record<string, string> = {}, statusMessage = ''): Parameters<typeof judge>[0] => ({ statusCode, statusMessage, headers });

describe('judge (a HEAD answer)', () => {
  it('accepts a 200 with a size and byte ranges', () => {
    expect(judge(head(200, { 'accept-ranges': 'bytes', 'content-length': '629145600' }))).toEqual({ ok: true, sizeBytes: 629145600 });
  });
  it.each([
    [head(404, {}, 'Not Found'), /answered 404 Not Found/],
    [head(302, { location: 'http://elsewhere/x.iso' }), /redirect to http:\/\/elsewhere\/x.iso, not followed/],
    [head(200, { 'content-length': '10' }), /byte ranges/],
    [head(200, { 'accept-ranges': 'none', 'content-length': '10' }), /byte ranges/],
    [head(200, { 'accept-ranges': 'bytes' }), /no Content-Length/],
    [head(200, { 'accept-ranges': 'bytes', 'content-length': '0' }), /empty/],
  ])('refuses %j', (res, message) => {
    const r = judge(res);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : `${r.reason}: ${r.message}`).toMatch(message);
    expect(r.ok ? '' : r.reason).toBe('refused');
  });
});

describe('HttpImageProbe', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow.iso') return; // never answers
      if (req.url === '/x.iso') { res.writeHead(200, { 'Accept-Ranges': 'bytes', 'Content-Length': '2048' }); res.end(); return; }
      res.writeHead(404); res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  it('reads the headers with HEAD', async () => {
    expect(await new HttpImageProbe().probe(new URL(`http://127.0.0.1:${port}/x.iso`), 5_000)).toEqual({ ok: true, sizeBytes: 2048 });
    expect(await new HttpImageProbe().probe(new URL(`http://127.0.0.1:${port}/missing.iso`), 5_000)).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('says unreachable when nothing listens or nothing answers in time', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await new HttpImageProbe().probe(new URL(`http://127.0.0.1:${deadPort}/x.iso`), 5_000)).toMatchObject({ ok: false, reason: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(await new HttpImageProbe().probe(new URL(`http://127.0.0.1:${port}/slow.iso`), 200)).toMatchObject({ ok: false, reason: 'unreachable', message: 'no answer within 200 ms' });
  });
});

describe('HttpImageProbe over https (VerifyCertificate)', () => {
  let server: HttpsServer;
  let port: number;
  let cert: string;
  let other: string;
  beforeAll(async () => {
    const now = new Date();
    const own = await generateSelfSigned(['127.0.0.1'], now);
    cert = own.cert;
    other = (await generateSelfSigned(['127.0.0.1'], now)).cert;
    server = createHttpsServer({ cert: own.cert, key: own.key }, (_req, res) => { res.writeHead(200, { 'Accept-Ranges': 'bytes', 'Content-Length': '4096' }); res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });
  const url = (): URL => new URL(`https://127.0.0.1:${port}/x.iso`);

  it('does not check the certificate unless asked', async () => {
    expect(await new HttpImageProbe().probe(url(), 5_000, { verify: false })).toEqual({ ok: true, sizeBytes: 4096 });
  });

  it('refuses a self-signed server the system store does not trust, and names the reason', async () => {
    expect(await new HttpImageProbe().probe(url(), 5_000, { verify: true, ca: undefined })).toMatchObject({
      ok: false, reason: 'untrusted', message: expect.stringMatching(/not trusted by the system's CA store: DEPTH_ZERO_SELF_SIGNED_CERT/),
    });
  });

  it('trusts the server when its certificate is among the given ones, not when another is', async () => {
    expect(await new HttpImageProbe().probe(url(), 5_000, { verify: true, ca: [cert] })).toEqual({ ok: true, sizeBytes: 4096 });
    expect(await new HttpImageProbe().probe(url(), 5_000, { verify: true, ca: [other] })).toMatchObject({ ok: false, reason: 'untrusted', message: expect.stringMatching(/the slot's 1 certificate/) });
  });

  it('checks the name too: the right certificate at another name is untrusted', async () => {
    expect(await new HttpImageProbe().probe(new URL(`https://localhost:${port}/x.iso`), 5_000, { verify: true, ca: [cert] })).toMatchObject({
      ok: false, reason: 'untrusted', message: expect.stringMatching(/ERR_TLS_CERT_ALTNAME_INVALID/),
    });
  });
});
