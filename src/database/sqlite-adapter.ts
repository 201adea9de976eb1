/**
 * The better-sqlite3 driver adapter, telling Prisma how many bound values one SQLite statement
 * takes. Without it Prisma assumes SQLite's historic 999 and refuses (P2029, a 500 to the client)
 * any statement with more — a `where: { id: { in: ids } }` over a batch or a farm of 1,000 nodes —
 * although the SQLite that better-sqlite3 builds takes 32,766 (its MAX_VARIABLE_NUMBER).
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';

/** What Prisma assumes for SQLite when the adapter does not say. */
export const PRISMA_SQLITE_DEFAULT_BIND_VALUES = 999;

/** SQLite's bound-value limit from its compile options (`MAX_VARIABLE_NUMBER=N`), else Prisma's default (pure). */
export function sqliteBindLimit(compileOptions: readonly string[]): number {
  for (const option of compileOptions) {
    const match = /^MAX_VARIABLE_NUMBER=(\d+)$/.exec(option);
    if (match) return Number(match[1]);
  }
  return PRISMA_SQLITE_DEFAULT_BIND_VALUES;
}

/** The limit of the SQLite this process links (an in-memory database asked once). */
export function linkedSqliteBindLimit(): number {
  const db = new Database(':memory:');
  try {
    return sqliteBindLimit((db.pragma('compile_options') as { compile_options: string }[]).map((row) => row.compile_options));
  } finally {
    db.close();
  }
}

type Adapter = Awaited<ReturnType<PrismaBetterSqlite3['connect']>>;

/** A PrismaBetterSqlite3 whose connections report `maxBindValues`. */
export class SqliteAdapterFactory extends PrismaBetterSqlite3 {
  readonly maxBindValues = linkedSqliteBindLimit();

  override async connect(): Promise<Adapter> {
    return this.withLimit(await super.connect());
  }

  override async connectToShadowDb(): Promise<Adapter> {
    return this.withLimit(await super.connectToShadowDb());
  }

  private withLimit(adapter: Adapter): Adapter {
    const maxBindValues = this.maxBindValues;
    return Object.assign(adapter, { getConnectionInfo: () => ({ maxBindValues, supportsRelationJoins: false }) });
  }
}
