/** Styling's record of each pick (`styling.picks`): a repeat of the same attempt gets the same items. */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { picks } from '../../db/schema/styling';

/** The items an attempt already picked, if it did. */
export async function recordedPick(db: Db, orderId: string, attempt: number): Promise<string[] | undefined> {
  const [row] = await db
    .select({ itemIds: picks.itemIds })
    .from(picks)
    .where(and(eq(picks.orderId, orderId), eq(picks.attempt, attempt)));
  return row?.itemIds;
}

/** Records an attempt's pick (the first record stands). */
export async function recordPick(db: Db, orderId: string, attempt: number, itemIds: string[]): Promise<void> {
  await db.insert(picks).values({ orderId, attempt, itemIds }).onConflictDoNothing();
}
