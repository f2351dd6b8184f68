/**
 * Fixed rate-limit windows in PostgreSQL (`api.rate_windows`), shared by every API process: a hit
 * is one upsert that starts a new window when the old one has ended, so N replicas together allow
 * exactly one budget. The window's end is the database's clock, the same for every replica.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { preparedQuery, type Db } from '../../db/client';
import { rateWindows } from '../../db/schema/api';

/** A key's count in its current window and when the window ends (epoch ms). */
export interface WindowState {
  count: number;
  resetAt: number;
}

// Behind every API request (the per-IP limit): prepared once per database handle.
const hitQuery = preparedQuery((db) =>
  db
    .insert(rateWindows)
    .values({ key: sql.placeholder('key'), count: 1, resetAt: sql`now() + make_interval(secs => ${sql.placeholder('seconds')}::float8)` })
    .onConflictDoUpdate({
      target: rateWindows.key,
      set: {
        count: sql`case when ${rateWindows.resetAt} <= now() then 1 else ${rateWindows.count} + 1 end`,
        resetAt: sql`case when ${rateWindows.resetAt} <= now() then excluded.reset_at else ${rateWindows.resetAt} end`,
      },
    })
    .returning({ count: rateWindows.count, resetAt: rateWindows.resetAt })
    .prepare('rate_window_hit'),
);

/** Adds one hit to `key`'s window of `windowSeconds` (a new window if the last one ended). */
export async function hitWindow(db: Db, key: string, windowSeconds: number): Promise<WindowState> {
  const [row] = await hitQuery(db).execute({ key, seconds: windowSeconds });
  return { count: row!.count, resetAt: row!.resetAt.getTime() };
}

/** `key`'s window as it stands, without a hit (count 0 when it has none, or it ended). */
export async function peekWindow(db: Db, key: string, windowSeconds: number): Promise<WindowState> {
  const [row] = await db
    .select({ count: rateWindows.count, resetAt: rateWindows.resetAt })
    .from(rateWindows)
    .where(and(eq(rateWindows.key, key), gt(rateWindows.resetAt, sql`now()`)));
  if (row) return { count: row.count, resetAt: row.resetAt.getTime() };
  return { count: 0, resetAt: Date.now() + windowSeconds * 1000 };
}

/** Ends `key`'s window (a successful login clears its failures). */
export async function clearWindow(db: Db, key: string): Promise<void> {
  await db.delete(rateWindows).where(eq(rateWindows.key, key));
}

/** Deletes the windows that have ended (a hit on an ended one starts it afresh anyway); how many. */
export async function sweepWindows(db: Db): Promise<number> {
  const deleted = await db
    .delete(rateWindows)
    .where(lt(rateWindows.resetAt, sql`now()`))
    .returning({ key: rateWindows.key });
  return deleted.length;
}
