/**
 * The event log (`events.event_log`) as accounting reads it: which events are money, and a
 * customer's money events with no journal entry yet (the ledger's sweep and the admin view).
 * Plain SQL through drizzle's `sql` (an anti-join over another domain's log, a filter on a JSON
 * field): the filter inlines the booked types as literals for the planner.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { ItemSold } from '../../workflows/accounting/contract';
import type { EventEnvelope } from '../../workflows/bus/contract';
import { PaymentCaptured, PaymentRefunded } from '../../workflows/payment/contract';

/** Event types the ledger books: the close waits until each of them in the period is posted. */
export const BOOKED_EVENT_TYPES = [PaymentCaptured.type, PaymentRefunded.type, ItemSold.type];

/**
 * Money events (alias `e` of events.event_log): what the ledger books, a zero-cost sale aside (it
 * posts nothing). The types are literals in the SQL text, not parameters, so the planner can match
 * the partial index event_log_money_customer_idx even under a generic plan of the prepared statement.
 */
export function moneyEvent(): SQL {
  return sql`e.type in (${sql.raw(BOOKED_EVENT_TYPES.map((t) => `'${t}'`).join(', '))})
    and not (e.type = ${ItemSold.type} and coalesce((e.data->>'costCents')::bigint, 0) = 0)`;
}

interface EventRow extends Record<string, unknown> {
  id: string;
  type: string;
  occurred_at: Date | string;
  correlation_id: string;
  causation_id: string | null;
  source_domain: string;
  source_workflow_id: string;
  source_run_id: string;
  data: unknown;
}

/** A customer's money events in the event log without a journal entry: captures first, then in publish order. */
export async function unbookedMoneyEventsOf(db: Db, customerId: string, limit: number): Promise<EventEnvelope[]> {
  const rows = await db.execute<EventRow>(sql`
    select e.id, e.type, e.occurred_at, e.correlation_id, e.causation_id, e.source_domain, e.source_workflow_id, e.source_run_id, e.data
    from events.event_log e
    where (e.data->>'customerId') = ${customerId} and ${moneyEvent()}
      and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)
    order by (e.type = ${PaymentRefunded.type}), e.seq
    limit ${limit}`);
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    occurredAt: new Date(r.occurred_at).toISOString(),
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    source: { domain: r.source_domain as EventEnvelope['source']['domain'], workflowId: r.source_workflow_id, runId: r.source_run_id },
    data: r.data,
  }));
}
