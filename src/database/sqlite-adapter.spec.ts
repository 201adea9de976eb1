import { linkedSqliteBindLimit, PRISMA_SQLITE_DEFAULT_BIND_VALUES, sqliteBindLimit } from './sqlite-adapter';

describe('SQLite bound-value limit', () => {
  it('reads MAX_VARIABLE_NUMBER from the compile options', () => {
    expect(sqliteBindLimit(['ENABLE_FTS5', 'MAX_VARIABLE_NUMBER=32766', 'THREADSAFE=1'])).toBe(32766);
  });

  it('falls back to Prisma\'s 999 when the options do not say', () => {
    expect(sqliteBindLimit(['ENABLE_FTS5'])).toBe(PRISMA_SQLITE_DEFAULT_BIND_VALUES);
  });

  it('finds a limit of at least 10,000 in the SQLite better-sqlite3 links (a batch of 10,000 ids in one statement)', () => {
    expect(linkedSqliteBindLimit()).toBeGreaterThanOrEqual(10_000);
  });
});
