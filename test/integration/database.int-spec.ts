/**
 * The database on a real SQLite file: migrations apply offline and are recorded as Prisma records
 * them, every model works through the generated client, the lease constraints hold (also under
 * concurrent inserts), and deleting a node frees its leases and events.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMigrationsDir, migrateDatabase, MigrationError } from '../../src/database/migrator';
import { DATABASE_FILE_NAME, PrismaService } from '../../src/database/prisma.service';
import { Prisma } from '../../src/generated/prisma/client';

function nodeData(name: string) {
  return {
    id: `id-${name}`,
    name,
    machine: 'sim',
    memoryMiB: 512,
    cpus: 1,
    diskSizeGiB: 1,
    bootMode: 'bios',
    bootMenuTimeoutMs: 0,
    enableKvm: 'false',
    powerOnAtStart: false,
    ipmiUser: 'admin',
    ipmiPassword: 'secret-password',
    vncPassword: 'vnc-pass',
    bmcUsersResetId: `id-${name}`,
    bmcReachable: true,
    runtimeRef: `bmcfleet-${name}`,
  };
}

describe('database on a real SQLite file', () => {
  let dir: string;
  let prisma: PrismaService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-db-'));
    prisma = await PrismaService.open(dir);
  });

  afterEach(async () => {
    await prisma.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the migrations once, records them like prisma migrate, in WAL mode, file mode 0600', () => {
    const file = join(dir, DATABASE_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations').all() as {
      migration_name: string; checksum: string; finished_at: string | null; applied_steps_count: number;
    }[];
    expect(rows.map((row) => row.migration_name)).toEqual(['20261124000000_init', '20261207000000_node_vnc_password_bmc_users', '20261207100000_node_runtime_ref', '20261207120000_node_list_indexes', '20261207140000_node_vm_mac_id', '20261207200000_port_lease_host', '20261208000000_farms']);
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.finished_at).not.toBeNull();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(migrateDatabase(file)).toEqual([]);
  });

  it('refuses to start on a database whose applied migration was edited since', () => {
    const migrations = join(dir, 'migrations');
    cpSync(defaultMigrationsDir(), migrations, { recursive: true });
    const other = join(dir, 'other.db');
    migrateDatabase(other, migrations);
    writeFileSync(join(migrations, '20261124000000_init', 'migration.sql'), '-- edited\n', { flag: 'a' });
    expect(() => migrateDatabase(other, migrations)).toThrow(MigrationError);
    mkdirSync(join(migrations, '20261125000000_next'));
    expect(() => migrateDatabase(other, migrations)).toThrow(/checksum differs/);
  });

  it('keeps a fleet made before VNC passwords working: its rows get the new columns empty', async () => {
    const migrations = join(dir, 'migrations-init-only');
    mkdirSync(migrations);
    cpSync(join(defaultMigrationsDir(), '20261124000000_init'), join(migrations, '20261124000000_init'), { recursive: true });
    const old = join(dir, 'old', DATABASE_FILE_NAME);
    mkdirSync(join(dir, 'old'));
    migrateDatabase(old, migrations);
    const db = new Database(old);
    db.prepare(
      `INSERT INTO Node (id, name, machine, memoryMiB, cpus, diskSizeGiB, bootMode, bootMenuTimeoutMs, enableKvm, powerOnAtStart, ipmiUser, ipmiPassword, containerName, volumeName, updatedAt)
       VALUES ('id-old', 'old', 'sim', 512, 1, 1, 'bios', 0, 'false', 0, 'admin', 'secret-password', 'bmcfleet-old', 'bmcfleet-old-vm', 0)`,
    ).run();
    db.close();

    const reopened = await PrismaService.open(join(dir, 'old'));
    try {
      const row = await reopened.node.findUniqueOrThrow({ where: { name: 'old' } });
      expect(row).toMatchObject({ ipmiPassword: 'secret-password', vncPassword: null, bmcUsersResetId: null, bmcReachable: null });
      await reopened.node.update({ where: { id: 'id-old' }, data: { vncPassword: 'Ab3dEf6h', bmcReachable: false } });
      expect(await reopened.node.findUniqueOrThrow({ where: { name: 'old' } })).toMatchObject({ vncPassword: 'Ab3dEf6h', bmcReachable: false });
    } finally {
      await reopened.$disconnect();
    }
  });

  it('keeps a fleet made with container columns working: runtimeRef and runtimeId carry them, leases and events stay', async () => {
    const migrations = join(dir, 'migrations-before-runtime');
    mkdirSync(migrations);
    for (const name of ['20261124000000_init', '20261207000000_node_vnc_password_bmc_users']) {
      cpSync(join(defaultMigrationsDir(), name), join(migrations, name), { recursive: true });
    }
    const old = join(dir, 'containers', DATABASE_FILE_NAME);
    mkdirSync(join(dir, 'containers'));
    migrateDatabase(old, migrations);
    const db = new Database(old);
    db.prepare(
      `INSERT INTO Node (id, name, machine, memoryMiB, cpus, diskSizeGiB, bootMode, bootMenuTimeoutMs, enableKvm, powerOnAtStart, ipmiUser, ipmiPassword, containerName, containerId, volumeName, updatedAt)
       VALUES ('id-c', 'c', 'sim', 512, 1, 1, 'bios', 0, 'false', 0, 'admin', 'secret-password', 'bmcfleet-c', 'abc123', 'bmcfleet-c-vm', 0)`,
    ).run();
    db.prepare(`INSERT INTO PortLease (kind, port, nodeId) VALUES ('ipmi', 16230, 'id-c')`).run();
    db.prepare(`INSERT INTO NodeEvent (nodeId, type, message) VALUES ('id-c', 'created', 'made before the runtime columns')`).run();
    db.close();

    const reopened = await PrismaService.open(join(dir, 'containers'));
    try {
      const row = await reopened.node.findUniqueOrThrow({ where: { name: 'c' }, include: { leases: true, events: true } });
      expect(row).toMatchObject({ runtimeRef: 'bmcfleet-c', runtimeId: 'abc123', host: null, ipmiPassword: 'secret-password' });
      // The node had no host: its lease holds the port on every host ("") until the node runs again.
      expect(row.leases.map((lease) => [lease.host, lease.kind, lease.port])).toEqual([['', 'ipmi', 16230]]);
      expect(row.events.map((event) => event.message)).toEqual(['made before the runtime columns']);
      // The ref stays unique under its new name.
      await expect(reopened.node.create({ data: { ...nodeData('d'), runtimeRef: 'bmcfleet-c' } })).rejects.toMatchObject({ code: 'P2002' });
    } finally {
      await reopened.$disconnect();
    }
  });

  it('gives each lease its node\'s host when leases become per host, and lets two hosts lease one port', async () => {
    const migrations = join(dir, 'migrations-before-lease-host');
    mkdirSync(migrations);
    for (const name of ['20261124000000_init', '20261207000000_node_vnc_password_bmc_users', '20261207100000_node_runtime_ref', '20261207120000_node_list_indexes']) {
      cpSync(join(defaultMigrationsDir(), name), join(migrations, name), { recursive: true });
    }
    mkdirSync(join(dir, 'global-leases'));
    const old = join(dir, 'global-leases', DATABASE_FILE_NAME);
    migrateDatabase(old, migrations);
    const db = new Database(old);
    const insert = db.prepare(
      `INSERT INTO Node (id, name, machine, memoryMiB, cpus, diskSizeGiB, bootMode, bootMenuTimeoutMs, enableKvm, powerOnAtStart, ipmiUser, ipmiPassword, runtimeRef, host, updatedAt)
       VALUES (?, ?, 'sim', 512, 1, 1, 'bios', 0, 'false', 0, 'admin', 'secret-password', ?, ?, 0)`,
    );
    insert.run('id-placed', 'placed', 'bmcfleet-placed', 'engine-host');
    insert.run('id-unplaced', 'unplaced', 'bmcfleet-unplaced', null);
    db.prepare(`INSERT INTO PortLease (kind, port, nodeId) VALUES ('ipmi', 16230, 'id-placed'), ('ipmi', 16231, 'id-unplaced')`).run();
    db.close();

    const reopened = await PrismaService.open(join(dir, 'global-leases'));
    try {
      const leases = await reopened.portLease.findMany({ orderBy: { port: 'asc' } });
      expect(leases.map((lease) => [lease.nodeId, lease.host, lease.port])).toEqual([['id-placed', 'engine-host', 16230], ['id-unplaced', '', 16231]]);
      // Unique per (host, kind, port): another host may lease 16230, the same host may not.
      await reopened.node.create({ data: { ...nodeData('other'), host: 'host-2' } });
      await expect(reopened.portLease.create({ data: { host: 'host-2', kind: 'ipmi', port: 16230, nodeId: nodeData('other').id } })).resolves.toBeDefined();
      await expect(reopened.portLease.create({ data: { host: 'engine-host', kind: 'vnc', port: 16230, nodeId: 'id-placed' } })).resolves.toBeDefined();
      await expect(reopened.portLease.create({ data: { host: 'engine-host', kind: 'ipmi', port: 16230, nodeId: nodeData('other').id } })).rejects.toMatchObject({ code: 'P2002' });
    } finally {
      await reopened.$disconnect();
    }
  });

  it('stores a node with its leases and events and cascades a delete', async () => {
    await prisma.fleet.create({ data: { id: 'fleet-1' } });
    await prisma.node.create({
      data: {
        ...nodeData('n1'),
        leases: { create: [{ kind: 'ipmi', port: 16230 }, { kind: 'vnc', port: 15900 }] },
        events: { create: [{ type: 'created', message: 'node created' }] },
      },
    });
    const found = await prisma.node.findUniqueOrThrow({ where: { name: 'n1' }, include: { leases: true, events: true } });
    expect(found.leases.map((lease) => `${lease.kind}:${lease.port}`).sort()).toEqual(['ipmi:16230', 'vnc:15900']);
    expect(found.events).toHaveLength(1);
    await prisma.node.delete({ where: { name: 'n1' } });
    expect(await prisma.portLease.count()).toBe(0);
    expect(await prisma.nodeEvent.count()).toBe(0);
  });

  it('never gives one port to two nodes, also when the inserts race', async () => {
    await prisma.node.create({ data: nodeData('a') });
    await prisma.node.create({ data: nodeData('b') });
    const results = await Promise.allSettled(
      ['id-a', 'id-b', 'id-a', 'id-b'].map((nodeId) => prisma.portLease.create({ data: { kind: 'ipmi', port: 16300, nodeId } })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
        expect((result.reason as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
      }
    }
    // The same port number for the other kind is a different lease.
    await expect(prisma.portLease.create({ data: { kind: 'vnc', port: 16300, nodeId: 'id-b' } })).resolves.toBeDefined();
  });

  it('refuses a second node with the same name (P2002)', async () => {
    await prisma.node.create({ data: nodeData('dup') });
    await expect(prisma.node.create({ data: { ...nodeData('dup'), id: 'other', runtimeRef: 'x' } })).rejects.toMatchObject({ code: 'P2002' });
  });

  it('enforces foreign keys: a lease for a node that does not exist is refused', async () => {
    await expect(prisma.portLease.create({ data: { kind: 'ipmi', port: 1, nodeId: 'nobody' } })).rejects.toBeDefined();
  });

  it('keeps a farm while it hosts nodes, and names each farm once', async () => {
    await prisma.farm.create({ data: { id: 'farm-id-1', name: 'farm-1', runtimeRef: 'bmcfleet_farm-1' } });
    await prisma.node.create({ data: { ...nodeData('in-farm'), farmId: 'farm-id-1' } });
    const farm = await prisma.farm.findUniqueOrThrow({ where: { name: 'farm-1' }, include: { nodes: true } });
    expect(farm.nodes.map((node) => node.name)).toEqual(['in-farm']);
    await expect(prisma.farm.delete({ where: { id: 'farm-id-1' } })).rejects.toBeDefined();
    await expect(prisma.farm.create({ data: { id: 'farm-id-2', name: 'farm-1', runtimeRef: 'other' } })).rejects.toMatchObject({ code: 'P2002' });
    await prisma.node.delete({ where: { name: 'in-farm' } });
    await prisma.farm.delete({ where: { id: 'farm-id-1' } });
  });

  it('takes a statement with 10,000 bound values (a batch or a farm of 10,000 nodes by id), past Prisma\'s 999 default for SQLite', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ ...nodeData(`big-${String(i).padStart(5, '0')}`), runtimeRef: `bmcfleet-big-${i}` }));
    await prisma.node.createMany({ data: rows });
    const ids = rows.map((row) => row.id);
    expect(await prisma.node.count({ where: { name: { in: rows.map((row) => row.name) } } })).toBe(10_000);
    expect((await prisma.node.updateMany({ where: { id: { in: ids } }, data: { powerState: 'on' } })).count).toBe(10_000);
    expect((await prisma.node.findMany({ where: { id: { in: ids } }, select: { id: true } })).length).toBe(10_000);
    expect((await prisma.node.deleteMany({ where: { id: { in: ids }, powerState: 'on' } })).count).toBe(10_000);
  });
});
