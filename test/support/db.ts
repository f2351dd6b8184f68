/**
 * Database helpers for tests. PostgreSQL is started once per run by global-setup.ts (migrations applied).
 */
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';

export interface TestDb {
  sql: postgres.Sql;
  db: PostgresJsDatabase;
  close(): Promise<void>;
}

export function testDb(): TestDb {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set; is jest running with test/support/global-setup.ts?');
  const sql = postgres(url, { max: 5, onnotice: () => undefined });
  const db = drizzle(sql);
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}
