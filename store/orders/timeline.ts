/** An order's cross-domain timeline: every event correlated with it, in global publish order. */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { eventLog } from '../../db/schema/events';

export interface TimelineEvent {
  seq: number;
  id: string;
  type: string;
  occurredAt: string;
  causationId: string | null;
  source: { domain: string; workflowId: string; runId: string };
  data: unknown;
  subscribers: string[];
}

/** Events of `events.event_log` whose correlation id is the order id, by seq. */
export async function orderTimeline(db: Db, orderId: string): Promise<TimelineEvent[]> {
  const rows = await db.select().from(eventLog).where(eq(eventLog.correlationId, orderId)).orderBy(asc(eventLog.seq));
  return rows.map((r) => ({
    seq: r.seq,
    id: r.id,
    type: r.type,
    occurredAt: r.occurredAt.toISOString(),
    causationId: r.causationId,
    source: { domain: r.sourceDomain, workflowId: r.sourceWorkflowId, runId: r.sourceRunId },
    data: r.data,
    subscribers: r.subscribers,
  }));
}
