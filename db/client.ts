/** Database connection: one postgres-js pool wrapped by drizzle with every domain's schema. */
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import path from 'node:path';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;

/** A live connection: `db` for typed queries, `sql` for the raw driver, `close` to end the pool. */
export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** Opens a pool to `url`. `max` bounds connections per process (workers run one process per domain). */
export function connectDatabase(url: string, opts: { max?: number } = {}): Database {
  const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => undefined });
  return { db: drizzle(sql, { schema }), sql, close: () => sql.end({ timeout: 5 }) };
}

/** Applies the committed SQL migrations in db/migrations (idempotent). */
export async function migrateDatabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await migrate(drizzle(sql), { migrationsFolder: path.join(__dirname, 'migrations') });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
