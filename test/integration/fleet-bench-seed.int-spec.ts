/**
 * The fleet bench writes its 200 listing nodes straight into the orchestrator's SQLite file
 * (node-image/bench/fleet-seed.ts). On a real, migrated file: the orchestrator's Prisma client
 * reads them back as its own rows (dates included), the API view of each is complete, and the
 * unique constraints accepted them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertSeed, seedNodes } from '../../node-image/bench/fleet-seed';
import { DATABASE_FILE_NAME, PrismaService } from '../../src/database/prisma.service';
import { toNodeView } from '../../src/nodes/node.model';

describe('fleet bench seed on a migrated SQLite file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-bench-seed-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is read back by the orchestrator\'s client as 200 running nodes with their leases', async () => {
    const now = new Date('2026-11-24T04:38:58.518Z');
    // Migrate as the orchestrator does at start, then close it: the bench writes into a stopped orchestrator's file.
    await (await PrismaService.open(dir)).$disconnect();
    insertSeed(join(dir, DATABASE_FILE_NAME), seedNodes({ count: 200, fleetName: 'bench', ipmiFirstPort: 21_000, vncFirstPort: 21_200, now }));

    const prisma = await PrismaService.open(dir);
    try {
      const rows = await prisma.node.findMany({ include: { leases: true }, orderBy: { name: 'asc' } });
      expect(rows).toHaveLength(200);
      const views = rows.map((row) => toNodeView(row, '127.0.0.1'));
      expect(views[0]).toMatchObject({
        name: 'node-000', state: 'running', powerState: 'off', machine: 'sim', powerObservedAt: now.toISOString(), createdAt: now.toISOString(),
        ipmi: { host: '127.0.0.1', port: 21_000, user: 'admin' }, vnc: { host: '127.0.0.1', port: 21_200 }, container: { name: 'bench-node-000' },
      });
      expect(views[199]).toMatchObject({ name: 'node-199', ipmi: { port: 21_199 }, vnc: { port: 21_399 } });
      expect(rows.every((row) => row.updatedAt.getTime() === now.getTime() && row.powerOnAtStart === false)).toBe(true);
      expect(await prisma.nodeEvent.count()).toBe(200);
      // The lease constraints hold on what the seed wrote.
      await expect(prisma.portLease.create({ data: { kind: 'ipmi', port: 21_000, nodeId: rows[1]!.id } })).rejects.toMatchObject({ code: 'P2002' });
    } finally {
      await prisma.$disconnect();
    }
  });

  it('refuses a file that was never migrated', () => {
    expect(() => insertSeed(join(dir, 'missing.db'), seedNodes({ count: 1, fleetName: 'bench', ipmiFirstPort: 1, vncFirstPort: 2, now: new Date() }))).toThrow();
  });
});
