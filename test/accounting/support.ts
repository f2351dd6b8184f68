/** Helpers for accounting tests: hand-made envelopes of the real event definitions, posting outside a worker. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomInt } from 'node:crypto';
import { createAccountingActivities } from '../../activities/accounting';
import type { PostEventResult } from '../../workflows/accounting/contract';
import type { Database } from '../../db/client';
import { ItemSold, periodBounds, type ItemSoldData } from '../../workflows/accounting/contract';
import type { EventDefinition, EventEnvelope } from '../../workflows/bus/contract';
import { PaymentCaptured, PaymentRefunded, type PaymentCapturedData, type PaymentRefundedData } from '../../workflows/payment/contract';

/** A period no other test (or test run on the same database) uses: a random month of a far year. */
export const uniquePeriod = (): string => `${2100 + randomInt(7800)}-${String(1 + randomInt(12)).padStart(2, '0')}`;

/** An ended period no other test uses (the admin API closes only ended periods): a random month of a year long past. */
export const uniquePastPeriod = (): string => `${1100 + randomInt(800)}-${String(1 + randomInt(12)).padStart(2, '0')}`;

/** An instant inside a period (the 10th, noon UTC, plus `minutes`). */
export const inPeriod = (period: string, minutes = 0): string =>
  new Date(periodBounds(period).start.getTime() + 9 * 86_400_000 + 12 * 3_600_000 + minutes * 60_000).toISOString();

export function envelope<D>(def: EventDefinition<string, D>, id: string, data: D, occurredAt = new Date().toISOString()): EventEnvelope<D> {
  return {
    id,
    type: def.type,
    occurredAt,
    correlationId: (data as { orderId?: string; customerId: string }).orderId ?? (data as { customerId: string }).customerId,
    causationId: null,
    source: { domain: def.domain, workflowId: 'test', runId: 'test' },
    data,
  };
}

export function membershipCaptured(customerId: string, period: string, amountCents = 4900, occurredAt?: string): EventEnvelope<PaymentCapturedData> {
  const chargeKey = `membership:${customerId}:${period}`;
  return envelope(
    PaymentCaptured,
    `charge:${chargeKey}:captured`,
    { chargeKey, customerId, purpose: 'membership', period, amountCents, pspChargeId: `ch_${chargeKey}`, attempts: 1 },
    occurredAt,
  );
}
export function purchaseCaptured(
  customerId: string,
  orderId: string,
  itemId: string,
  amountCents: number,
  occurredAt?: string,
): EventEnvelope<PaymentCapturedData> {
  const chargeKey = `purchase:${orderId}:${itemId}`;
  return envelope(
    PaymentCaptured,
    `charge:${chargeKey}:captured`,
    { chargeKey, customerId, purpose: 'purchase', orderId, itemId, amountCents, pspChargeId: `ch_${chargeKey}`, attempts: 1 },
    occurredAt,
  );
}
export function refunded(
  captured: EventEnvelope<PaymentCapturedData>,
  amountCents = captured.data.amountCents,
  occurredAt?: string,
): EventEnvelope<PaymentRefundedData> {
  const { chargeKey, customerId, purpose, orderId, itemId, period } = captured.data;
  return envelope(
    PaymentRefunded,
    `charge:${chargeKey}:refunded`,
    { chargeKey, customerId, purpose, orderId, itemId, period, amountCents, pspRefundId: `re_${chargeKey}` },
    occurredAt,
  );
}
export function itemSold(data: ItemSoldData, occurredAt?: string): EventEnvelope<ItemSoldData> {
  return envelope(ItemSold, `inventory:${data.orderId}:${data.itemId}:sold`, data, occurredAt);
}

/** The accounting activities run in a mock activity context (no worker needed). */
export function accountingActivities(database: Database) {
  const acts = createAccountingActivities({ database });
  const env = new MockActivityEnvironment();
  return {
    postEvent: (event: EventEnvelope): Promise<PostEventResult> => env.run(acts.postEvent, { event }) as Promise<PostEventResult>,
    lockPeriod: (period: string): Promise<unknown> => env.run(acts.lockPeriod, { period }),
  };
}

export interface EntryRow {
  id: string;
  customer_seq: number;
  source_event_id: string;
  period: string;
  debit: number;
  credit: number;
}
/** A customer's entries in sequence with their debit and credit totals. */
export async function entriesOf(database: Database, customerId: string): Promise<EntryRow[]> {
  return database.sql<EntryRow[]>`
    select e.id, e.customer_seq, e.source_event_id, e.period,
           coalesce(sum(l.debit_cents), 0)::int as debit, coalesce(sum(l.credit_cents), 0)::int as credit
    from accounting.journal_entries e left join accounting.journal_lines l on l.entry_id = e.id
    where e.customer_id = ${customerId} group by e.id order by e.customer_seq`;
}
