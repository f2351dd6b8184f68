/**
 * The event layer's record (`events.event_log`, `events.deliveries`): what the bus activities
 * append for each publish and delivery, and, for ops, one box's events and who got each.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { deliveries, eventLog } from '../../db/schema/events';
import type { DeliveryOutcome, EventEnvelope } from '../../workflows/bus/contract';

/** One event of a box and its deliveries, in publish order. */
export interface TrailEvent {
  id: string;
  type: string;
  occurredAt: Date;
  sourceDomain: string;
  sourceWorkflowId: string;
  sourceRunId: string;
  causationId: string | null;
  deliveries: { subscriber: string; workflowId: string; outcome: string; detail: string | null }[];
}

/** Every event correlated with `correlationId` (an order id), in publish order, each with its deliveries (an aggregate per event). */
export async function eventTrail(db: Db, correlationId: string): Promise<TrailEvent[]> {
  const rows = await db.execute<{
    id: string;
    type: string;
    occurred_at: Date | string;
    source_domain: string;
    source_workflow_id: string;
    source_run_id: string;
    causation_id: string | null;
    deliveries: TrailEvent['deliveries'];
  }>(sql`
    select e.id, e.type, e.occurred_at, e.source_domain, e.source_workflow_id, e.source_run_id, e.causation_id,
           coalesce(jsonb_agg(jsonb_build_object('subscriber', d.subscriber, 'workflowId', d.workflow_id, 'outcome', d.outcome, 'detail', d.detail)
                              order by d.subscriber) filter (where d.event_id is not null), '[]'::jsonb) as deliveries
    from ${eventLog} e left join ${deliveries} d on d.event_id = e.id
    where e.correlation_id = ${correlationId}
    group by e.seq order by e.seq`);
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    occurredAt: new Date(r.occurred_at),
    sourceDomain: r.source_domain,
    sourceWorkflowId: r.source_workflow_id,
    sourceRunId: r.source_run_id,
    causationId: r.causation_id,
    deliveries: r.deliveries,
  }));
}

/** Appends an event to the log with the subscribers it was planned for; false when its id was already there (a retried or reset publish). */
export async function appendEvent(db: Db, event: EventEnvelope, subscribers: string[]): Promise<boolean> {
  const recorded = await db
    .insert(eventLog)
    .values({
      id: event.id,
      type: event.type,
      occurredAt: new Date(event.occurredAt),
      correlationId: event.correlationId,
      causationId: event.causationId,
      sourceDomain: event.source.domain,
      sourceWorkflowId: event.source.workflowId,
      sourceRunId: event.source.runId,
      data: event.data,
      subscribers,
    })
    .onConflictDoNothing({ target: eventLog.id })
    .returning({ id: eventLog.id });
  return recorded.length > 0;
}

/** Records how each delivery of an event ended; answers the ones recorded now (the first outcome stands). */
export async function recordDeliveries(db: Db, eventId: string, outcomes: DeliveryOutcome[]): Promise<{ subscriber: string; outcome: string }[]> {
  return db
    .insert(deliveries)
    .values(outcomes.map((o) => ({ eventId, subscriber: o.subscriber, workflowId: o.workflowId, outcome: o.outcome, detail: o.detail ?? null })))
    .onConflictDoNothing()
    .returning({ subscriber: deliveries.subscriber, outcome: deliveries.outcome });
}
