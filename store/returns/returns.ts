/** Returns' own records: the reminders sent (`returns.reminders`) and how each returned item was found (`returns.inspections`). */
import type { Db } from '../../db/client';
import { inspections, reminders } from '../../db/schema/returns';
import type { RecordInspectionInput, SendReminderInput } from '../../workflows/returns/contract';

/** Claims a reminder (order + offset): true the first time only, so each reminder goes out once whatever retries. */
export async function claimReminder(db: Db, input: SendReminderInput): Promise<boolean> {
  const claimed = await db
    .insert(reminders)
    .values({ orderId: input.orderId, offset: input.offset, customerId: input.customerId, deadline: new Date(input.deadline) })
    .onConflictDoNothing()
    .returning({ orderId: reminders.orderId });
  return claimed.length > 0;
}

/** Records how a returned item was found (the first record stands). */
export async function recordInspection(db: Db, input: RecordInspectionInput): Promise<void> {
  await db.insert(inspections).values(input).onConflictDoNothing();
}
