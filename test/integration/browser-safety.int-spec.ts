/**
 * The API against what a web page can make a browser send, on the real app and a real SQLite file:
 * form-encoded and text/plain bodies (cross-site requests without a CORS preflight), a rebound DNS
 * name in Host, a foreign Origin; and the low findings of the same surface: JSON nested 3,000 levels,
 * prototype keys, the bearer scheme in lower case. Every refusal comes before anything is created.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { PrismaService } from '../../src/database/prisma.service';

jest.setTimeout(60_000);

const TOKEN = 'browser-safety-token-0123';

interface Answer {
  readonly status: number;
  readonly body: { message?: string | string[] } | null;
}

/** One request with exactly these headers (node:http: fetch would not send any Host). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Answer['body'] = null;
        try {
          parsed = JSON.parse(text) as Answer['body'];
        } catch {
          parsed = null;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function messageOf(answer: Answer): string {
  const message = answer.body?.message;
  return Array.isArray(message) ? message.join('; ') : (message ?? '');
}

describe('browser-safe API', () => {
  let app: NestExpressApplication;
  let guarded: NestExpressApplication;
  let port: number;
  let guardedPort: number;
  let dataDir: string;
  let host: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-browser-'));
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: join(dataDir, 'open'), RECONCILE_INTERVAL_S: '0' }, { cwd: process.cwd() }));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    host = `127.0.0.1:${port}`;
    guarded = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: join(dataDir, 'guarded'), RECONCILE_INTERVAL_S: '0', API_TOKEN: TOKEN }, { cwd: process.cwd() }));
    await guarded.listen(0, '127.0.0.1');
    guardedPort = (guarded.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await guarded?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('cross-site requests (CSRF)', () => {
    it.each([
      ['an HTML form (urlencoded)', 'application/x-www-form-urlencoded', 'name=csrf1&cdrom=%2Fetc%2Fshadow&machine=sim'],
      ['a text/plain form carrying JSON', 'text/plain', JSON.stringify({ name: 'csrf2', machine: 'sim' })],
      ['a multipart form', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\ncsrf3\r\n--x--\r\n'],
    ])('refuses a create from %s with 415', async (_case, contentType, body) => {
      const answer = await send(port, 'POST', '/api/v1/nodes', { host, 'content-type': contentType }, body);
      expect(answer.status).toBe(415);
      expect(messageOf(answer)).toBe(`Content-Type must be application/json for a POST with a body (got ${JSON.stringify(contentType)})`);
    });

    it('refuses a form that powers a node off with 415, before the node is even looked up', async () => {
      const answer = await send(port, 'POST', '/api/v1/nodes/node1/power', { host, 'content-type': 'application/x-www-form-urlencoded' }, 'action=off');
      expect(answer.status).toBe(415);
    });

    it('refuses a foreign Origin with 403, even with a JSON body and with the token', async () => {
      const json = JSON.stringify({ action: 'off' });
      const open = await send(port, 'POST', '/api/v1/nodes/node1/power', { host, origin: 'http://attacker.example', 'content-type': 'application/json' }, json);
      expect(open).toEqual({ status: 403, body: expect.objectContaining({ message: 'Origin "http://attacker.example" is not this API\'s origin: cross-site requests are refused' }) });
      const withToken = await send(guardedPort, 'GET', '/api/v1/nodes', { host: `127.0.0.1:${guardedPort}`, origin: 'http://attacker.example', authorization: `Bearer ${TOKEN}` });
      expect(withToken.status).toBe(403);
    });

    it('lets a JSON request from the API\'s own origin through (Swagger UI)', async () => {
      const answer = await send(port, 'POST', '/api/v1/nodes/ghost/power', { host, origin: `http://${host}`, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ action: 'on' }));
      expect(answer.status).toBe(404);
    });
  });

  describe('DNS rebinding', () => {
    it.each(['attacker.example', 'attacker.example:8080', 'evil.localhost', '127.0.0.2'])('refuses Host %s with 421 on the token-less loopback API', async (badHost) => {
      const answer = await send(port, 'GET', '/api/v1/nodes', { host: badHost });
      expect(answer.status).toBe(421);
      expect(messageOf(answer)).toMatch(/is not this API's: without API_TOKEN it answers only to localhost, 127\.0\.0\.1, \[::1\] \(any port\)$/);
      expect((await send(port, 'GET', '/healthz', { host: badHost })).status).toBe(421);
    });

    it.each(['localhost', 'LOCALHOST:1234', '127.0.0.1', '[::1]:8080'])('answers Host %s', async (goodHost) => {
      expect((await send(port, 'GET', '/api/v1/nodes', { host: goodHost })).status).toBe(200);
    });

    it('answers any Host when API_TOKEN protects the API', async () => {
      expect((await send(guardedPort, 'GET', '/api/v1/nodes', { host: 'fleet.example', authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    });
  });

  describe('bodies and tokens', () => {
    it('answers JSON nested 3,000 levels with a 400, not a 500', async () => {
      const deep = `{"name":"n1","x":${'['.repeat(3000)}${']'.repeat(3000)}}`;
      const written: string[] = [];
      const spies = [process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }));
      try {
        const answer = await send(port, 'POST', '/api/v1/nodes', { host, 'content-type': 'application/json' }, deep);
        expect(answer.status).toBe(400);
        expect(messageOf(answer)).toBe('body must not nest deeper than 32 levels');
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect(written.join('')).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('refuses a body with the key %s with a 400', async (key) => {
      const answer = await send(port, 'POST', '/api/v1/nodes', { host, 'content-type': 'application/json' }, `{"name":"n1","${key}":{"isAdmin":true}}`);
      expect(answer.status).toBe(400);
      expect(messageOf(answer)).toBe(`body must not contain the key "${key}"`);
    });

    it.each(['bearer', 'BEARER', 'Bearer'])('accepts the token with the scheme written %s', async (scheme) => {
      expect((await send(guardedPort, 'GET', '/api/v1/nodes', { host: `127.0.0.1:${guardedPort}`, authorization: `${scheme} ${TOKEN}` })).status).toBe(200);
    });
  });

  it('created nothing while refusing', async () => {
    expect(await app.get(PrismaService).node.count()).toBe(0);
  });
});
