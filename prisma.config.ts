import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate; `migrate deploy` on machines that can fetch engines). The
// orchestrator itself opens DATA_DIR/bmcfleet.db and applies ./prisma/migrations at start.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./data/bmcfleet.db' },
});
