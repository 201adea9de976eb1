/**
 * Applies prisma/migrations/<name>/migration.sql to the SQLite file at start, offline, recording each in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, sha256 checksum of the file),
 * so either tool can take over from the other. Each migration runs in its own transaction: a crash
 * leaves it either applied and recorded, or neither.
 */
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Prisma's own bookkeeping table (schema-engine's SQLite flavour). */
const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** prisma/migrations of this checkout, found from this file whether it runs from src/ or dist/src/. */
export function defaultMigrationsDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new MigrationError(`no prisma/migrations directory above ${from}`);
  }
}

export function readMigrations(dir: string): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Opens the database file, switches it to WAL, applies what is missing; returns the names applied now. */
export function migrateDatabase(databaseFile: string, migrationsDir: string = defaultMigrationsDir()): string[] {
  const db = new Database(databaseFile);
  try {
    // WAL: readers (GET /nodes) never wait for the writer; the mode is stored in the file.
    db.pragma('journal_mode = WAL');
    db.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Map<string, { checksum: string; finished: boolean }>();
    for (const row of db.prepare('SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL').all() as {
      migration_name: string;
      checksum: string;
      finished_at: string | null;
    }[]) {
      applied.set(row.migration_name, { checksum: row.checksum, finished: row.finished_at !== null });
    }
    const done: string[] = [];
    for (const migration of readMigrations(migrationsDir)) {
      const previous = applied.get(migration.name);
      if (previous !== undefined) {
        if (!previous.finished) {
          throw new MigrationError(`migration ${migration.name} started earlier and did not finish; inspect ${databaseFile} before going on`);
        }
        if (previous.checksum !== migration.checksum) {
          throw new MigrationError(`migration ${migration.name} was changed after it was applied to ${databaseFile} (checksum differs)`);
        }
        continue;
      }
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES (?, ?, current_timestamp, ?, current_timestamp, 1)`,
        ).run(randomUUID(), migration.checksum, migration.name);
      })();
      done.push(migration.name);
    }
    return done;
  } finally {
    db.close();
  }
}
