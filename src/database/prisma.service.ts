/**
 * The Prisma client on DATA_DIR/bmcfleet.db, through the better-sqlite3 driver adapter (no engine
 * binary). Migrations are applied before the client opens; the file is created with mode 0600 because
 * it holds the nodes' BMC passwords.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { SqliteAdapterFactory } from './sqlite-adapter';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaClient } from '../generated/prisma/client';
import { migrateDatabase } from './migrator';

export const DATABASE_FILE_NAME = 'bmcfleet.db';
/** How long a writer waits for another's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  readonly databaseFile: string;

  constructor(databaseFile: string) {
    super({ adapter: new SqliteAdapterFactory({ url: databaseFile, timeout: BUSY_TIMEOUT_MS }) });
    this.databaseFile = databaseFile;
  }

  /** Creates the data directory and file (0700/0600), applies migrations, returns a connected client. */
  static async open(dataDir: string, logger = new Logger('Database')): Promise<PrismaService> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, DATABASE_FILE_NAME);
    if (!existsSync(file)) {
      closeSync(openSync(file, 'a', 0o600));
    }
    chmodSync(file, 0o600);
    const applied = migrateDatabase(file);
    if (applied.length > 0) logger.log(`applied migrations ${applied.join(', ')} to ${file}`);
    const client = new PrismaService(file);
    await client.$connect();
    await client.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    return client;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
