/** Returns activities: reminders (at most one per order and offset) and inspection records (store/returns/returns.ts). */
import { log } from '@temporalio/activity';
import type { Db } from '../../db/client';
import { claimReminder, recordInspection } from '../../store/returns/returns';
import type { SendReminderInput, SendReminderResult, RecordInspectionInput, ReturnsActivities } from '../../workflows/returns/contract';

/** Creates the returns activities over a database. */
export function createReturnsActivities({ db }: { db: Db }): ReturnsActivities {
  return {
    /**
     * Sends one reminder. The row is claimed first (primary key order + offset), so whatever
     * retries, replays or resets happen, the member gets each reminder once. Sending is a log
     * line for now (the notification channel is not built).
     */
    async sendReminder(input: SendReminderInput): Promise<SendReminderResult> {
      if (!(await claimReminder(db, input))) {
        log.info('reminder already sent', { orderId: input.orderId, offset: input.offset });
        return { sent: false };
      }
      log.info('return reminder sent', { orderId: input.orderId, customerId: input.customerId, offset: input.offset, deadline: input.deadline });
      return { sent: true };
    },

    /** Records how a returned item was found (idempotent: the first record stands). */
    async recordInspection(input: RecordInspectionInput): Promise<void> {
      await recordInspection(db, input);
    },
  };
}
