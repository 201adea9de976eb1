/**
 * Node rows for the nodes-API part of the fleet bench: `count` running sim nodes with their two port
 * leases and one event each, written straight into the SQLite file of a stopped orchestrator (its
 * DATA_DIR/bmcfleet.db, already migrated). The rows are built by a pure function; only insertSeed
 * touches the file. Timestamps are written as Prisma's SQLite adapter writes them, so the
 * orchestrator reads them back as its own rows (test/integration/fleet-bench-seed.int-spec.ts).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

export const DATABASE_FILE_NAME = 'bmcfleet.db';

export interface SeedNode {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly powerState: string;
  readonly powerObservedAt: string;
  readonly machine: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly diskSizeGiB: number;
  readonly bootMode: string;
  readonly bootMenuTimeoutMs: number;
  readonly enableKvm: string;
  readonly powerOnAtStart: number;
  readonly ipmiUser: string;
  readonly ipmiPassword: string;
  readonly runtimeRef: string;
  readonly runtimeId: string;
  readonly host: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SeedLease {
  readonly kind: 'ipmi' | 'vnc';
  readonly port: number;
  readonly nodeId: string;
  readonly createdAt: string;
}

export interface SeedEvent {
  readonly nodeId: string;
  readonly at: string;
  readonly type: string;
  readonly message: string;
}

export interface Seed {
  readonly nodes: readonly SeedNode[];
  readonly leases: readonly SeedLease[];
  readonly events: readonly SeedEvent[];
}

export interface SeedOptions {
  readonly count: number;
  readonly fleetName: string;
  readonly ipmiFirstPort: number;
  readonly vncFirstPort: number;
  readonly now: Date;
  /** One IPMI password for every node (a farm of BMCs shares its credentials); default: one each. */
  readonly ipmiPassword?: string;
}

/** Prisma's SQLite adapter stores DateTime as ISO 8601 text with an explicit +00:00 offset. */
export function sqliteTimestamp(d: Date): string {
  return d.toISOString().replace(/Z$/, '+00:00');
}

/** A stable fake 64-hex container id (the listing only shows it). */
function fakeContainerId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** `count` nodes named node-000…, consecutive IPMI and VNC ports from the given first ports. */
export function seedNodes(o: SeedOptions): Seed {
  const at = sqliteTimestamp(o.now);
  const width = Math.max(3, String(o.count - 1).length);
  const nodes: SeedNode[] = [];
  const leases: SeedLease[] = [];
  const events: SeedEvent[] = [];
  for (let i = 0; i < o.count; i++) {
    const name = `node-${String(i).padStart(width, '0')}`;
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const containerName = `${o.fleetName}-${name}`;
    nodes.push({
      id, name, state: 'running', powerState: 'off', powerObservedAt: at, machine: 'sim', memoryMiB: 2048, cpus: 2, diskSizeGiB: 20,
      bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'false', powerOnAtStart: 0, ipmiUser: 'admin', ipmiPassword: o.ipmiPassword ?? `seed-password-${i}`,
      runtimeRef: containerName, runtimeId: fakeContainerId(containerName), host: 'bench-host', createdAt: at, updatedAt: at,
    });
    leases.push({ kind: 'ipmi', port: o.ipmiFirstPort + i, nodeId: id, createdAt: at });
    leases.push({ kind: 'vnc', port: o.vncFirstPort + i, nodeId: id, createdAt: at });
    events.push({ nodeId: id, at, type: 'created', message: `node ${name} created with IPMI port ${o.ipmiFirstPort + i}/udp and VNC port ${o.vncFirstPort + i}/tcp` });
  }
  return { nodes, leases, events };
}

function insertAll<T extends object>(db: Database.Database, table: string, rows: readonly T[]): void {
  const first = rows[0];
  if (first === undefined) return;
  const columns = Object.keys(first);
  const statement = db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  for (const row of rows) statement.run(row);
}

/** Writes the seed in one transaction into a migrated database file (the orchestrator stopped). */
export function insertSeed(databaseFile: string, seed: Seed): void {
  const db = new Database(databaseFile, { fileMustExist: true });
  try {
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      insertAll(db, 'Node', seed.nodes);
      insertAll(db, 'PortLease', seed.leases);
      insertAll(db, 'NodeEvent', seed.events);
    })();
  } finally {
    db.close();
  }
}
