/**
 * Operations (`/admin`, admin role only, every call audited): trace one box across domains, list
 * workflows by status and domain, reset a workflow, list the activities that keep retrying, and
 * correct a box's shipping address (the fix of the address drill in docs/operations.md).
 * Everything reads Temporal's visibility and histories, so it shows what really ran.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { WorkflowNotFoundError } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { eventTrail } from '../../../store/bus/event-log';
import { correctShippingAddress, getOrder } from '../../../store/orders/orders';
import type { Config } from '../../../config';
import type { Database } from '../../../db/client';
import { addressSchema } from '../../../workflows/orders/contract';
import { OrderIdAttribute } from '../../../workflows/search-attributes';
import { principal } from '../../auth/middleware';
import { ProblemError } from '../../problems';
import { ctx } from '../../request-context';
import { parseBody, parseRequest } from '../../validation';
import { audit, auditEntries, auditFailure } from '../audit';

/** Ids that go into a visibility query verbatim: no quotes, no spaces. */
const queryToken = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'letters, digits and _ . : - only');
const reason = z.string().trim().min(3).max(500);
/** Visibility's ExecutionStatus values. */
const STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'] as const;

const traceParams = z.object({ orderId: queryToken }).strict();
const readQuery = z.object({ reason: reason.optional() }).strict();
const listQuery = z
  .object({
    status: z.enum(STATUSES).optional(),
    /** A domain is its task queue (`orders`, `payment`, `warehouse-integration`...). */
    domain: queryToken.optional(),
    type: queryToken.optional(),
    orderId: queryToken.optional(),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
    /** The `nextCursor` of the previous page. */
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,4096}$/)
      .optional(),
    reason: reason.optional(),
  })
  .strict();
const pendingQuery = z
  .object({
    domain: queryToken.optional(),
    /** Report an activity from this attempt on (or earlier, once it has a last failure). */
    minAttempts: z.coerce.number().int().min(1).max(1000).default(2),
    /** How many running workflows to look at, newest first. */
    scan: z.coerce.number().int().min(1).max(2000).default(500),
    reason: reason.optional(),
  })
  .strict();
const auditQuery = z
  .object({
    actorId: queryToken.optional(),
    /** A workflow id, an order id, or a list query, as recorded. */
    target: z.string().min(1).max(400).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The `nextCursor` of the previous page (rows older than it). */
    cursor: z.coerce.number().int().positive().optional(),
    reason: reason.optional(),
  })
  .strict();
const addressBody = z.object({ reason, address: addressSchema }).strict();
const workflowParams = z.object({ workflowId: z.string().min(1).max(400) }).strict();
const resetBody = z
  .object({
    reason,
    to: z.union([z.enum(['first-workflow-task', 'last-workflow-task']), z.object({ eventId: z.number().int().positive() }).strict()]),
    reapplySignals: z.boolean(),
    runId: z.string().uuid().optional(),
  })
  .strict();

export type ResetBody = z.input<typeof resetBody>;

const { EventType, PendingActivityState, ResetReapplyType } = temporal.api.enums.v1;
/** Events a reset may go back to (ResetWorkflowExecution's `workflowTaskFinishEventId`). */
const RESETTABLE = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
]);

type ResetRequest = temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest;

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;

/** The gRPC code of a raw WorkflowService error, if it has one. */
function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export function operationsAdminRoutes({ config, database, temporal: client }: { config: Config; database: Database; temporal: Client }): Router {
  const router = Router();
  const namespace = client.options.namespace;
  const uiBase = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const webUiLink = (workflowId: string, runId: string): string =>
    `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;

  const summarise = (w: WorkflowExecutionInfo) => ({
    workflowId: w.workflowId,
    runId: w.runId,
    type: w.type,
    domain: w.taskQueue,
    status: w.status.name,
    startTime: w.startTime.toISOString(),
    closeTime: w.closeTime?.toISOString() ?? null,
    orderId: w.typedSearchAttributes.get(OrderIdAttribute) ?? null,
    parent: w.parentExecution ? { workflowId: w.parentExecution.workflowId, runId: w.parentExecution.runId } : null,
    webUiLink: webUiLink(w.workflowId, w.runId),
  });

  const notFound = (what: string) => (err: unknown) => {
    if (err instanceof WorkflowNotFoundError || grpcCode(err) === GRPC_NOT_FOUND) throw new ProblemError('not-found', `${what} does not exist`);
    throw err;
  };

  /** Runs `fn` over `items`, at most `limit` at a time. */
  async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
          const i = next++;
          results[i] = await fn(items[i]);
        }
      }),
    );
    return results;
  }

  async function listAll(query: string, max: number): Promise<{ workflows: WorkflowExecutionInfo[]; truncated: boolean }> {
    const workflows: WorkflowExecutionInfo[] = [];
    for await (const w of client.workflow.list({ query, pageSize: Math.min(max + 1, 1000) })) {
      if (workflows.length === max) return { workflows, truncated: true };
      workflows.push(w);
    }
    return { workflows, truncated: false };
  }

  const noteRead = (res: Response, action: string, target: string, why?: string, details: Record<string, unknown> = {}) =>
    audit(res, { action, target, reason: why, details });

  router.get('/orders/:orderId/trace', async (req, res) => {
    const { orderId } = parseRequest(traceParams, req.params, 'params');
    const { reason: why } = parseRequest(readQuery, req.query, 'query');
    noteRead(res, 'trace-order', orderId, why);

    const { workflows, truncated } = await listAll(`${OrderIdAttribute.name} = "${orderId}"`, 200);
    const described = await mapLimit(workflows, 8, async (w) => {
      const description = await client.workflow
        .getHandle(w.workflowId, w.runId)
        .describe()
        .catch(() => undefined);
      return {
        ...summarise(w),
        summary: (await description?.staticSummary().catch(() => undefined)) ?? null,
        causedBy: (w.memo?.causedBy as string | undefined) ?? null,
      };
    });
    described.sort((a, b) => a.startTime.localeCompare(b.startTime) || a.workflowId.localeCompare(b.workflowId));

    const order = await getOrder(database.db, orderId);
    const events = await eventTrail(database.db, orderId);
    if (!order && !events.length && !described.length) throw new ProblemError('not-found', `no order, workflow or event is known for ${orderId}`);

    res.json({
      orderId,
      order: order ? { customerId: order.customerId, status: order.status, statusReason: order.statusReason } : null,
      webUiSearch: `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(`${OrderIdAttribute.name}="${orderId}"`)}`,
      truncated,
      workflows: described,
      events: events.map((e) => ({
        id: e.id,
        type: e.type,
        occurredAt: e.occurredAt.toISOString(),
        source: { domain: e.sourceDomain, workflowId: e.sourceWorkflowId, runId: e.sourceRunId },
        causedBy: e.causationId,
        deliveries: e.deliveries,
      })),
    });
  });

  // The address drill's fix: the instruction workflow reads the address fresh on every attempt,
  // so a reset after this ships to the corrected address.
  router.put('/orders/:orderId/address', async (req, res) => {
    const { orderId } = parseRequest(traceParams, req.params, 'params');
    const body = parseBody(req, addressBody);
    audit(res, { action: 'correct-address', target: orderId, reason: body.reason, details: { address: body.address } });
    if (!(await correctShippingAddress(database.db, orderId, body.address))) throw new ProblemError('not-found', `order ${orderId} does not exist`);
    res.json({ orderId, address: body.address });
  });

  // The audit trail itself, newest first; reading it is audited like every other admin call.
  router.get('/audit-log', async (req, res) => {
    const q = parseRequest(auditQuery, req.query, 'query');
    noteRead(res, 'read-audit-log', q.target ?? q.actorId ?? '(all)', q.reason, { cursor: q.cursor ?? null });
    const rows = await auditEntries(database.db, { actorId: q.actorId, target: q.target, before: q.cursor, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    res.json({
      entries: page.map((r) => ({ ...r, at: r.at.toISOString() })),
      nextCursor: rows.length > q.limit ? page[page.length - 1].id : null,
    });
  });

  router.get('/workflows', async (req, res) => {
    const q = parseRequest(listQuery, req.query, 'query');
    const conditions = [
      q.status && `ExecutionStatus = "${q.status}"`,
      q.domain && `TaskQueue = "${q.domain}"`,
      q.type && `WorkflowType = "${q.type}"`,
      q.orderId && `${OrderIdAttribute.name} = "${q.orderId}"`,
    ].filter(Boolean);
    const query = conditions.join(' AND ');
    noteRead(res, 'list-workflows', query || '(all)', q.reason, { cursor: q.cursor ?? null });

    const page = await client.workflowService
      .listWorkflowExecutions({ namespace, query, pageSize: q.pageSize, nextPageToken: q.cursor ? Buffer.from(q.cursor, 'base64url') : undefined })
      .catch((err: unknown) => {
        if (grpcCode(err) === GRPC_INVALID_ARGUMENT) throw new ProblemError('bad-request', `the workflow list was refused: ${(err as Error).message}`);
        throw err;
      });
    const workflows = await Promise.all((page.executions ?? []).map((raw) => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, namespace)));
    const token = page.nextPageToken?.length ? Buffer.from(page.nextPageToken).toString('base64url') : null;
    res.json({ query, workflows: workflows.map((w) => summarise(w as unknown as WorkflowExecutionInfo)), nextCursor: token });
  });

  router.post('/workflows/:workflowId/reset', async (req, res) => {
    const { workflowId } = parseRequest(workflowParams, req.params, 'params');
    const body = parseBody(req, resetBody);
    audit(res, {
      action: 'reset-workflow',
      target: workflowId,
      reason: body.reason,
      details: { to: body.to, reapplySignals: body.reapplySignals, runId: body.runId ?? null },
    });

    const description = await client.workflow
      .getHandle(workflowId, body.runId)
      .describe()
      .catch(notFound(`workflow ${workflowId}`));
    const { runId } = description;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const completedTasks = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    let eventId: number | undefined;
    if (body.to === 'first-workflow-task') eventId = Number(completedTasks[0]?.eventId ?? 0) || undefined;
    else if (body.to === 'last-workflow-task') eventId = Number(completedTasks.at(-1)?.eventId ?? 0) || undefined;
    else {
      const wanted = body.to.eventId;
      const event = events.find((e) => Number(e.eventId) === wanted);
      if (!event || !RESETTABLE.has(event.eventType ?? 0)) {
        throw new ProblemError('validation-error', 'One or more fields are invalid; see errors.', {
          errors: [
            {
              in: 'body',
              path: 'to.eventId',
              message: `event ${wanted} of run ${runId} is not a workflow task event (completed, failed, timed out or started)`,
              code: 'custom',
            },
          ],
        });
      }
      eventId = wanted;
    }
    if (!eventId) throw new ProblemError('bad-request', `run ${runId} of ${workflowId} has no completed workflow task to reset to`);

    const { requestId } = ctx(res);
    const response = await client.workflowService
      .resetWorkflowExecution({
        namespace,
        workflowExecution: { workflowId, runId },
        // protobufjs encodes a plain number into an int64 field; the typings only name Long.
        workflowTaskFinishEventId: eventId as unknown as ResetRequest['workflowTaskFinishEventId'],
        reason: `${body.reason} (admin ${principal(res).customerId}, request ${requestId})`,
        // The HTTP request id: a retried request (same X-Request-Id) does not reset twice.
        requestId,
        resetReapplyType: body.reapplySignals ? ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL : ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
      })
      .catch((err: unknown) => {
        const code = grpcCode(err);
        if (code === GRPC_NOT_FOUND) throw new ProblemError('not-found', `workflow ${workflowId} run ${runId} does not exist`);
        if (code === GRPC_INVALID_ARGUMENT || code === GRPC_FAILED_PRECONDITION)
          throw new ProblemError('bad-request', `the reset was refused: ${(err as Error).message}`);
        throw err;
      });
    const newRunId = response.runId ?? '';
    audit(res, { details: { previousRunId: runId, resetToEventId: eventId, newRunId } });
    ctx(res).log.info({ workflowId, previousRunId: runId, runId: newRunId, resetToEventId: eventId, reapplySignals: body.reapplySignals }, 'workflow reset');
    res.json({
      workflowId,
      previousRunId: runId,
      runId: newRunId,
      resetToEventId: eventId,
      reapplySignals: body.reapplySignals,
      webUiLink: webUiLink(workflowId, newRunId),
    });
  });

  router.get('/activities/pending', async (req, res) => {
    const q = parseRequest(pendingQuery, req.query, 'query');
    const query = ['ExecutionStatus = "Running"', q.domain && `TaskQueue = "${q.domain}"`].filter(Boolean).join(' AND ');
    noteRead(res, 'pending-activities', query, q.reason, { minAttempts: q.minAttempts });

    const { workflows, truncated } = await listAll(query, q.scan);
    const perWorkflow = await mapLimit(workflows, 8, async (w) => {
      // A workflow may close between the list and the describe: then it has nothing pending.
      const description = await client.workflow
        .getHandle(w.workflowId, w.runId)
        .describe()
        .catch(() => undefined);
      return (description?.raw.pendingActivities ?? [])
        .filter((a) => (a.attempt ?? 1) >= q.minAttempts || a.lastFailure)
        .map((a) => ({
          ...summarise(w),
          activityId: a.activityId,
          activityType: a.activityType?.name ?? null,
          state: PendingActivityState[a.state ?? 0]?.replace('PENDING_ACTIVITY_STATE_', '') ?? null,
          attempt: a.attempt ?? 1,
          // 0: no limit (retry until it succeeds or a business failure stops it).
          maximumAttempts: a.maximumAttempts ?? 0,
          lastFailure: a.lastFailure ? { message: a.lastFailure.message ?? '', type: a.lastFailure.applicationFailureInfo?.type ?? null } : null,
          scheduledTime: optionalTsToDate(a.scheduledTime)?.toISOString() ?? null,
          lastStartedTime: optionalTsToDate(a.lastStartedTime)?.toISOString() ?? null,
          nextAttemptScheduleTime: optionalTsToDate(a.nextAttemptScheduleTime)?.toISOString() ?? null,
        }));
    });
    const activities = perWorkflow.flat().sort((a, b) => b.attempt - a.attempt);
    res.json({ query, scanned: workflows.length, truncated, activities });
  });

  router.use(auditFailure);
  return router;
}
