/**
 * The event log (`events.event_log`) as accounting reads it: which events are money, and a
 * customer's money events with no journal entry yet (the ledger's sweep and the admin view).
 * Written with the raw driver, like the close's checks that share the money filter
 * (activities/accounting): the filter inlines the booked types as literals for the planner.
 */
import type { Database } from '../../db/client';
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
export function moneyEvent(sql: Database['sql']) {
  return sql`e.type in (${sql.unsafe(BOOKED_EVENT_TYPES.map((t) => `'${t}'`).join(', '))})
    and not (e.type = ${ItemSold.type} and coalesce((e.data->>'costCents')::bigint, 0) = 0)`;
}

/** A customer's money events in the event log without a journal entry: captures first, then in publish order. */
export async function unbookedMoneyEventsOf(database: Database, customerId: string, limit: number): Promise<EventEnvelope[]> {
  const { sql } = database;
  const rows = await sql<
    {
      id: string;
      type: string;
      occurred_at: Date;
      correlation_id: string;
      causation_id: string | null;
      source_domain: string;
      source_workflow_id: string;
      source_run_id: string;
      data: unknown;
    }[]
  >`
    select e.id, e.type, e.occurred_at, e.correlation_id, e.causation_id, e.source_domain, e.source_workflow_id, e.source_run_id, e.data
    from events.event_log e
    where (e.data->>'customerId') = ${customerId} and ${moneyEvent(sql)}
      and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)
    order by (e.type = ${PaymentRefunded.type}), e.seq
    limit ${limit}`;
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

/** Creates the accounting activities over the database. */
