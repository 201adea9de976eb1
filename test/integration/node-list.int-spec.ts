/**
 * GET /api/v1/nodes filters and pages on the real app and a real SQLite file: 1,500 rows walked
 * page by page (every node once, in name order, nothing skipped while nodes are deleted between
 * pages), each filter alone and together, the unpaginated array kept, 400s naming the field, and
 * SQLite's plan using the list indexes (a page never sorts or scans the table).
 */
import 'reflect-metadata';
import Database from 'better-sqlite3';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { DATABASE_FILE_NAME, PrismaService } from '../../src/database/prisma.service';

const COUNT = 1_500;
const name = (i: number): string => `n${String(i).padStart(4, '0')}`;
const machineOf = (i: number): string => (i % 3 === 0 ? 'qemu' : 'sim');
const powerOf = (i: number): string => ['on', 'off', 'unknown'][i % 5 === 0 ? 0 : i % 5 === 1 ? 2 : 1] as string;

interface Page { items: { name: string; machine: string; powerState: string; ipmi: { port: number } }[]; nextCursor: string | null }

describe('GET /api/v1/nodes pages and filters', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let dataDir: string;
  const dockerHost = process.env.DOCKER_HOST;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-list-'));
    // No engine at this address (dockerode reads DOCKER_HOST): the start-up reconciliation cannot
    // list containers and changes nothing, so the seeded rows are never given containers.
    process.env.DOCKER_HOST = `unix://${join(dataDir, 'no-engine.sock')}`;
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'error', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0' }, { cwd: process.cwd() }));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const prisma = app.get(PrismaService);
    const rows = Array.from({ length: COUNT }, (_, i) => ({
      id: `id-${i}`, name: name(i), state: 'running', powerState: powerOf(i), machine: machineOf(i), memoryMiB: 512, cpus: 1, diskSizeGiB: 1,
      bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'false', powerOnAtStart: false, ipmiUser: 'admin', ipmiPassword: 'list-secret-pass',
      runtimeRef: `bmcfleet-${name(i)}`,
    }));
    // Inserted out of order: the answer's order is the API's, not the table's.
    await prisma.node.createMany({ data: [...rows].reverse() });
    await prisma.portLease.createMany({ data: rows.flatMap((row, i) => [{ kind: 'ipmi', port: 30_000 + i, nodeId: row.id }, { kind: 'vnc', port: 40_000 + i, nodeId: row.id }]) });
  });

  afterAll(async () => {
    await app.close();
    if (dockerHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = dockerHost;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function get(query: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${baseUrl}/api/v1/nodes${query}`);
    return { status: response.status, body: await response.json() };
  }

  async function walk(filters: string, limit: number): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < COUNT + 2; pages += 1) {
      const answer = await get(`?limit=${limit}${filters}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(answer.status).toBe(200);
      const page = answer.body as Page;
      expect(page.items.length).toBeLessThanOrEqual(limit);
      names.push(...page.items.map((item) => item.name));
      cursor = page.nextCursor;
      if (cursor === null) return names;
    }
    throw new Error('the pages never ended');
  }

  it('keeps the unpaginated array of every node, in name order, without passwords', async () => {
    const answer = await get('');
    expect(answer.status).toBe(200);
    const list = answer.body as Page['items'];
    expect(list.map((node) => node.name)).toEqual(Array.from({ length: COUNT }, (_, i) => name(i)));
    expect(JSON.stringify(list)).not.toContain('list-secret-pass');
  });

  it('walks every node exactly once, in name order, page by page', async () => {
    expect(await walk('', 200)).toEqual(Array.from({ length: COUNT }, (_, i) => name(i)));
    const first = (await get('?limit=3')).body as Page;
    expect(first.items.map((item) => [item.name, item.ipmi.port])).toEqual([['n0000', 30_000], ['n0001', 30_001], ['n0002', 30_002]]);
    expect(first.nextCursor).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
    // A listed node is the node GET /nodes/:name shows, field for field.
    expect(first.items[1]).toEqual((await fetch(`${baseUrl}/api/v1/nodes/n0001`).then((r) => r.json())) as unknown);
  });

  it('filters by name prefix, machine and power state, alone and together, in pages and without', async () => {
    const all = Array.from({ length: COUNT }, (_, i) => i);
    const expected = (keep: (i: number) => boolean): string[] => all.filter(keep).map(name);
    expect(await walk('&name=n01', 7)).toEqual(expected((i) => i >= 100 && i < 200));
    expect(await walk('&machine=qemu', 100)).toEqual(expected((i) => machineOf(i) === 'qemu'));
    expect(await walk('&powerState=on', 33)).toEqual(expected((i) => powerOf(i) === 'on'));
    expect(await walk('&machine=sim&powerState=unknown&name=n1', 10)).toEqual(expected((i) => i >= 1000 && machineOf(i) === 'sim' && powerOf(i) === 'unknown'));
    expect(((await get('?machine=qemu&powerState=off')).body as Page['items']).map((node) => node.name)).toEqual(expected((i) => machineOf(i) === 'qemu' && powerOf(i) === 'off'));
    expect(await get('?limit=5&name=zz')).toEqual({ status: 200, body: { items: [], nextCursor: null } });
  });

  it('skips and repeats nothing when nodes are deleted between pages', async () => {
    const prisma = app.get(PrismaService);
    const first = (await get('?limit=10&name=n14')).body as Page;
    expect(first.items.at(-1)?.name).toBe('n1409');
    // The page's last node and the next one go: the cursor still continues right after n1409.
    await prisma.node.deleteMany({ where: { name: { in: ['n1409', 'n1410'] } } });
    const second = (await get(`?limit=10&name=n14&cursor=${first.nextCursor}`)).body as Page;
    expect(second.items.map((item) => item.name)).toEqual(Array.from({ length: 10 }, (_, i) => name(1411 + i)));
  });

  it.each([
    ['?limit=0', /limit must be a whole number from 1 to 1000/],
    ['?limit=1001', /limit must be a whole number from 1 to 1000/],
    ['?limit=ten', /limit must be a whole number from 1 to 1000/],
    ['?machine=vmware', /machine must be one of qemu, sim/],
    ['?powerState=half', /powerState must be one of on, off, unknown/],
    ['?name=Rack%25', /name must be a name prefix/],
    ['?cursor=garbage!', /cursor is not one this API issued/],
    ['?colour=blue', /property colour should not exist/],
  ])('GET /api/v1/nodes%s → 400 %s', async (query, message) => {
    const answer = await get(query);
    expect(answer.status).toBe(400);
    const body = answer.body as { message: string | string[] };
    expect(Array.isArray(body.message) ? body.message.join('; ') : body.message).toMatch(message);
  });

  it('refuses a cursor used with other filters', async () => {
    const first = (await get('?limit=2&machine=sim')).body as Page;
    const answer = await get(`?limit=2&machine=qemu&cursor=${first.nextCursor}`);
    expect(answer.status).toBe(400);
    expect((answer.body as { message: string }).message).toMatch(/cursor was issued for machine=sim, not machine=qemu/);
  });

  it('has SQLite walk an index in name order for every filter (no table scan, no sort)', () => {
    const db = new Database(join(dataDir, DATABASE_FILE_NAME), { readonly: true });
    try {
      const plan = (where: string): string =>
        (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM "Node" WHERE ${where} ORDER BY "name" ASC LIMIT 101`).all() as { detail: string }[]).map((row) => row.detail).join(' | ');
      const cases: [string, RegExp][] = [
        ['"name" > \'n0100\'', /USING INDEX Node_name_key/],
        ['"name" >= \'n01\' AND "name" < \'n01\uDBFF\uDFFF\'', /USING INDEX Node_name_key/],
        ['"machine" = \'sim\' AND "name" > \'n0100\'', /USING INDEX Node_machine_name_idx/],
        ['"powerState" = \'on\' AND "name" > \'n0100\'', /USING INDEX Node_powerState_name_idx/],
        ['"machine" = \'sim\' AND "powerState" = \'on\' AND "name" > \'n0100\'', /USING INDEX Node_machine_powerState_name_idx/],
      ];
      for (const [where, index] of cases) {
        const detail = plan(where);
        expect(detail).toMatch(index);
        expect(detail).not.toMatch(/TEMP B-TREE|SCAN "?Node"?(?! USING)/);
      }
    } finally {
      db.close();
    }
  });
});
