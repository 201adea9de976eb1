/**
 * Boots the real Nest application (createApp, as `npm start` does) on 127.0.0.1 with a free port
 * and talks HTTP to it; then AppModule with a test-only controller, to see the global API-token guard
 * and validation pipe applied to routes that feature modules will add.
 */
import 'reflect-metadata';
import { Body, Controller, INestApplication, Post } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { Environment, parseAppConfig } from '../../src/config/env.schema';

/** The app opens its SQLite database in DATA_DIR: a throwaway one, not ./data of the checkout. */
const APP_DATA_DIR = mkdtempSync(join(tmpdir(), 'bmcfleet-app-'));
afterAll(() => rmSync(APP_DATA_DIR, { recursive: true, force: true }));

const TOKEN = 'integration-test-token-0123456789';

async function startApp(env: Environment): Promise<{ app: NestExpressApplication; baseUrl: string }> {
  const app = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: APP_DATA_DIR, RECONCILE_INTERVAL_S: '0', ...env }, { cwd: process.cwd() }));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}` };
}

describe('orchestrator HTTP app', () => {
  let app: NestExpressApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startApp({}));
  });

  afterAll(async () => {
    await app.close();
  });

  it('GET /healthz answers 200 with status ok', async () => {
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as unknown;
    expect(body).toEqual({ status: 'ok', uptimeSeconds: expect.any(Number) });
  });

  it('keeps /healthz out of the /api/v1 prefix', async () => {
    const response = await fetch(`${baseUrl}/api/v1/healthz`);
    expect(response.status).toBe(404);
  });

  it('serves the OpenAPI document at /api/docs-json, describing /healthz', async () => {
    const response = await fetch(`${baseUrl}/api/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBe('bmcfleet orchestrator');
    expect(Object.keys(document.paths)).toContain('/healthz');
    expect(document.paths['/healthz']).toHaveProperty('get');
    expect(document.components.schemas).toHaveProperty('HealthResponseDto');
    expect(document.components.securitySchemes).toHaveProperty('bearer');
  });

  it('serves Swagger UI at /api/docs', async () => {
    const response = await fetch(`${baseUrl}/api/docs`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger-ui');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${baseUrl}/api/v1/no-such-thing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ statusCode: 404 });
  });
});

/** A controller that exists only in this test, to see the global guard and pipe at work. */
class ProbeBodyDto {
  @IsString()
  readonly name!: string;

  @IsInt()
  @Min(1)
  readonly cpus!: number;
}

@Controller('probe')
class ProbeController {
  @Post()
  echo(@Body() body: ProbeBodyDto): { name: string; cpus: number; isDto: boolean } {
    return { name: body.name, cpus: body.cpus, isDto: body instanceof ProbeBodyDto };
  }
}

describe('AppModule global guard and validation pipe', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const config = parseAppConfig({ API_TOKEN: TOKEN, LOG_LEVEL: 'warn', DATA_DIR: APP_DATA_DIR }, { cwd: process.cwd() });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config)],
      controllers: [ProbeController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['warn', 'error'] });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  function post(body: unknown, token: string | null = TOKEN): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) {
      headers['authorization'] = `Bearer ${token}`;
    }
    return fetch(`${baseUrl}/probe`, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  it('refuses a request without the bearer token with 401', async () => {
    const response = await post({ name: 'n1', cpus: 2 }, null);
    expect(response.status).toBe(401);
  });

  it('refuses a wrong bearer token with 401', async () => {
    const response = await post({ name: 'n1', cpus: 2 }, `${TOKEN}x`);
    expect(response.status).toBe(401);
  });

  it('still answers /healthz without a token (probes carry none)', async () => {
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
  });

  it('transforms a valid body into the DTO class', async () => {
    const response = await post({ name: 'n1', cpus: 2 });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'n1', cpus: 2, isDto: true });
  });

  it('answers 400 for an invalid field', async () => {
    const response = await post({ name: 'n1', cpus: 0 });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('cpus');
  });

  it('answers 400 for a field the DTO does not declare (forbidNonWhitelisted)', async () => {
    const response = await post({ name: 'n1', cpus: 2, privileged: true });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('privileged');
  });
});
