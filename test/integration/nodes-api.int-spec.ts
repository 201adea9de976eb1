/**
 * The nodes API's answers to bad input, on the real app and a real SQLite file: every refusal comes
 * before anything is created, with a 4xx that says what to fix. (Creating nodes needs the Docker
 * engine: test/e2e/fleet.e2e-spec.ts.)
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

describe('nodes API input validation', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-api-'));
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0' }, { cwd: process.cwd() }));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function post(path: string, body: unknown): Promise<{ status: number; message: string }> {
    const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await response.json()) as { message: string | string[] };
    return { status: response.status, message: Array.isArray(json.message) ? json.message.join('; ') : json.message };
  }

  it.each([
    [{ name: 'Node_1' }, /name must be a lower-case DNS label/],
    [{ name: '-node' }, /name must be a lower-case DNS label/],
    [{ name: 'a'.repeat(41) }, /name must be a lower-case DNS label/],
    [{}, /name must be/],
    [{ name: 'n1', memoryMiB: 64 }, /memoryMiB must not be less than 128/],
    [{ name: 'n1', memoryMiB: 2048.5 }, /memoryMiB must be an integer/],
    [{ name: 'n1', cpus: 0 }, /cpus must not be less than 1/],
    [{ name: 'n1', cpus: 256 }, /cpus must not be greater than 255/],
    [{ name: 'n1', bootMode: 'coreboot' }, /bootMode must be one of bios, uefi/],
    [{ name: 'n1', machine: 'vmware' }, /machine must be one of qemu, sim/],
    [{ name: 'n1', enableKvm: 'yes' }, /enableKvm must be one of auto, true, false/],
    [{ name: 'n1', ipmiUser: 'has space' }, /ipmiUser must be printable ASCII without spaces/],
    [{ name: 'n1', ipmiPassword: 'x'.repeat(21) }, /ipmiPassword must be shorter than or equal to 20/],
    [{ name: 'n1', cdrom: '/etc/shadow' }, /cdrom \/etc\/shadow is outside ISO_DIR/],
    [{ name: 'n1', cdrom: 'relative.iso' }, /cdrom relative\.iso: no such file in ISO_DIR/],
    [{ name: 'n1', ipmiPassword: 'x' }, /ipmiPassword must be longer than or equal to 8 characters/],
    [{ name: 'n1', ipmiPassword: 'seven-7' }, /ipmiPassword must be longer than or equal to 8 characters/],
    [{ name: 'n1', labInterfaces: ['eth0'] }, /each lab interface must be a Linux interface name/],
    [{ name: 'n1', labInterfaces: ['a-very-long-interface'] }, /each lab interface must be a Linux interface name/],
    [{ name: 'n1', color: 'blue' }, /property color should not exist/],
    [{ name: 'n1', keepBmcUsers: 'yes' }, /keepBmcUsers must be a boolean value/],
  ])('POST /api/v1/nodes %j → 400 %s', async (body, message) => {
    const answer = await post('/api/v1/nodes', body);
    expect(answer.status).toBe(400);
    expect(answer.message).toMatch(message);
  });

  it('refuses lab interfaces that clash with the Docker networks\' interfaces', async () => {
    // Checked before any network is looked up: the clash is in the request itself.
    const answer = await post('/api/v1/nodes', { name: 'n1', networks: ['vmlan-a'], labInterfaces: ['eth1'] });
    expect(answer.status).toBe(400);
    expect(answer.message).toMatch(/eth1 would clash.*from eth2/);
  });

  it('answers 404 for nodes that do not exist and 400 for a bad purge flag', async () => {
    expect((await fetch(`${baseUrl}/api/v1/nodes/ghost`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/nodes/ghost/vnc`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/nodes/ghost`, { method: 'DELETE' })).status).toBe(404);
    expect((await post('/api/v1/nodes/ghost/power', { action: 'on' })).status).toBe(404);
    expect(await post('/api/v1/nodes/ghost/power', { action: 'explode' })).toEqual({ status: 400, message: expect.stringMatching(/action must be one of on, off, cycle, reset, soft/) });
    const badFlag = await fetch(`${baseUrl}/api/v1/nodes/ghost?purge=maybe`, { method: 'DELETE' });
    expect(badFlag.status).toBe(400);
  });

  it('created nothing while refusing', async () => {
    const prisma = app.get(PrismaService);
    expect(await prisma.node.count()).toBe(0);
    expect(await prisma.portLease.count()).toBe(0);
    const list = await fetch(`${baseUrl}/api/v1/nodes`);
    expect(await list.json()).toEqual([]);
  });
});
