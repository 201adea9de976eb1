/**
 * POST /api/v1/node-batches refusals on the real app and a real SQLite file: every one comes before
 * anything is made (no engine is reachable: DOCKER_HOST points at a socket nobody serves), with a
 * 4xx/503 naming the field and the rule, every taken name listed at once.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { PrismaService } from '../../src/database/prisma.service';

describe('POST /api/v1/node-batches refusals', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let dataDir: string;
  const dockerHost = process.env.DOCKER_HOST;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-batches-'));
    process.env.DOCKER_HOST = `unix://${join(dataDir, 'no-engine.sock')}`;
    // Room for 5 nodes: IPMI ports are the narrowest range.
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'error', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0', IPMI_PORT_RANGE: '26230-26234' }, { cwd: process.cwd() }));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const prisma = app.get(PrismaService);
    for (const name of ['rack1-2', 'rack1-4']) {
      await prisma.node.create({
        data: {
          id: `id-${name}`, name, state: 'running', machine: 'sim', memoryMiB: 512, cpus: 1, diskSizeGiB: 1, bootMode: 'bios', bootMenuTimeoutMs: 0,
          enableKvm: 'false', powerOnAtStart: false, ipmiUser: 'admin', ipmiPassword: 'batch-secret', runtimeRef: `bmcfleet-${name}`,
          leases: { create: [{ kind: 'ipmi', port: name === 'rack1-2' ? 26230 : 26231 }] },
        },
      });
    }
  });

  afterAll(async () => {
    await app.close();
    if (dockerHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = dockerHost;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function post(body: unknown): Promise<{ status: number; message: string }> {
    const response = await fetch(`${baseUrl}/api/v1/node-batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await response.json()) as { message: string | string[] };
    return { status: response.status, message: Array.isArray(json.message) ? json.message.join('; ') : json.message };
  }

  it.each([
    [{ count: 2, machine: 'sim' }, /namePrefix must be/],
    [{ namePrefix: 'Rack', count: 2, machine: 'sim' }, /namePrefix must be lower-case letters, digits and "-"/],
    [{ namePrefix: 'rack-', count: 2, machine: 'sim' }, /namePrefix must be/],
    [{ namePrefix: 'r'.repeat(38), count: 10, machine: 'sim' }, /too long for 10 nodes: names like r{38}-10 have 41 characters, at most 40/],
    [{ namePrefix: 'r'.repeat(39), count: 1, machine: 'sim' }, /namePrefix must be shorter than or equal to 38 characters/],
    [{ namePrefix: 'r'.repeat(36), count: 1000, machine: 'sim' }, /too long for 1000 nodes/],
    [{ namePrefix: 'rack', count: 0, machine: 'sim' }, /count must not be less than 1/],
    [{ namePrefix: 'rack', count: 10_001, machine: 'sim' }, /count must not be greater than 10000/],
    [{ namePrefix: 'rack', count: 2.5, machine: 'sim' }, /count must be an integer/],
    [{ namePrefix: 'rack', count: 2 }, /machine must be sim: batches create simulated servers only/],
    [{ namePrefix: 'rack', count: 2, machine: 'qemu' }, /machine must be sim: batches create simulated servers only; create qemu nodes one at a time/],
    [{ namePrefix: 'rack', count: 2, machine: 'sim', ipmiPassword: 'short' }, /ipmiPassword must be longer than or equal to 8/],
    [{ namePrefix: 'rack', count: 2, machine: 'sim', memoryMiB: 512 }, /property memoryMiB should not exist/],
    [{ namePrefix: 'rack', count: 2, machine: 'sim', firstIndex: -1 }, /firstIndex must not be less than 0/],
  ])('%j → 400 %s', async (body, message) => {
    const answer = await post(body);
    expect(answer).toEqual({ status: 400, message: expect.stringMatching(message) as unknown });
  });

  it('lists every taken name in one 409', async () => {
    const answer = await post({ namePrefix: 'rack1', count: 5, machine: 'sim' });
    expect(answer).toEqual({ status: 409, message: '2 of the batch\'s names are taken: rack1-2, rack1-4; choose another namePrefix or firstIndex' });
  });

  it('refuses a batch the port ranges cannot hold, before making any node', async () => {
    const answer = await post({ namePrefix: 'rack2', count: 4, machine: 'sim' });
    expect(answer.status).toBe(503);
    expect(answer.message).toBe('a batch of 4 needs 4 free IPMI ports; IPMI_PORT_RANGE 26230-26234 has 3: widen the range, delete nodes, or make a smaller batch');
  });

  it('made nothing while refusing', async () => {
    const prisma = app.get(PrismaService);
    expect((await prisma.node.findMany({ select: { name: true }, orderBy: { name: 'asc' } })).map((row) => row.name)).toEqual(['rack1-2', 'rack1-4']);
  });
});
