/**
 * The ledger for admins (`/admin/accounting`, admin role only, every call audited): the trial
 * balance of a period and its journal entries with their lines; and the remedy of a close that
 * failed with UnbookedMoneyEvents — rebook a customer's ledger, then run the period's close again.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { unbookedMoneyEventsOf } from '../../../store/accounting/event-log';
import type { Database } from '../../../db/client';
import {
  ACCOUNTING_TASK_QUEUE,
  ledgerWorkflowId,
  monthlyCloseWorkflowId,
  periodBounds,
  periodSchema,
  sweepLedgerSignal,
} from '../../../workflows/accounting/contract';
import type { ledgerWorkflow, monthlyCloseWorkflow } from '../../../workflows/accounting/workflows';
import { CustomerIdAttribute } from '../../../workflows/search-attributes';
import { principal } from '../../auth/middleware';
import { ProblemError } from '../../problems';
import { ctx } from '../../request-context';
import { parseBody, parseRequest } from '../../validation';
import { audit, auditFailure } from '../audit';

const trialBalanceQuery = z.object({ period: periodSchema }).strict();
const ledgerQuery = z
  .object({
    period: periodSchema,
    customerId: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
const reason = z.string().trim().min(3).max(500);
const ledgerParams = z.object({ customerId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'letters, digits and _ . : - only') }).strict();
const rebookBody = z.object({ reason }).strict();
const periodParams = z.object({ period: periodSchema }).strict();
const closeBody = z
  .object({
    reason,
    /** How long step 1 may wait for money events in flight (default: the close's own, 6 hours). */
    maxWaitMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 86_400_000)
      .optional(),
  })
  .strict();
/** Unbooked events a rebook answer names (the ledger books all of them, in batches). */
const REBOOK_LISTED = 100;

/** The routes under `/admin/accounting`; `temporal` starts and signals the accounting workflows. */
export function accountingAdminRoutes({ database, temporal }: { database: Database; temporal: Client }): Router {
  const router = Router();
  const { sql } = database;

  router.get('/trial-balance', async (req, res) => {
    const { period } = parseRequest(trialBalanceQuery, req.query, 'query');
    const rows = await sql<{ account: string; name: string; kind: string; debit: string; credit: string }[]>`
      select a.code as account, a.name, a.kind,
             coalesce(sum(l.debit_cents), 0)::text as debit, coalesce(sum(l.credit_cents), 0)::text as credit
      from accounting.accounts a
      left join (accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id and e.period = ${period})
        on l.account = a.code
      group by a.code, a.name, a.kind order by a.code`;
    const [status] = await sql<{ status: string; locked_at: Date | null }[]>`select status, locked_at from accounting.periods where period = ${period}`;
    const accounts = rows.map((r) => ({ account: r.account, name: r.name, kind: r.kind, debitCents: Number(r.debit), creditCents: Number(r.credit) }));
    const totalDebitCents = accounts.reduce((s, a) => s + a.debitCents, 0);
    const totalCreditCents = accounts.reduce((s, a) => s + a.creditCents, 0);
    res.json({
      period,
      status: status?.status ?? 'open',
      lockedAt: status?.locked_at ? new Date(status.locked_at).toISOString() : null,
      accounts,
      totalDebitCents,
      totalCreditCents,
      balanced: totalDebitCents === totalCreditCents,
    });
  });

  router.get('/ledger', async (req, res) => {
    const { period, customerId, limit } = parseRequest(ledgerQuery, req.query, 'query');
    const entries = await sql<
      {
        id: string;
        customer_id: string;
        customer_seq: number;
        source_event_id: string;
        source_event_type: string;
        charge_key: string | null;
        description: string;
        occurred_at: Date;
        posted_at: Date;
      }[]
    >`
      select id, customer_id, customer_seq, source_event_id, source_event_type, charge_key, description, occurred_at, posted_at
      from accounting.journal_entries
      where period = ${period} ${customerId ? sql`and customer_id = ${customerId}` : sql``}
      order by customer_id, customer_seq
      limit ${limit + 1}`;
    const page = entries.slice(0, limit);
    const lines = page.length
      ? await sql<{ entry_id: string; account: string; debit: string; credit: string }[]>`
          select entry_id, account, debit_cents::text as debit, credit_cents::text as credit
          from accounting.journal_lines where entry_id in ${sql(page.map((e) => e.id))} order by id`
      : [];
    res.json({
      period,
      customerId: customerId ?? null,
      truncated: entries.length > limit,
      entries: page.map((e) => ({
        id: e.id,
        customerId: e.customer_id,
        sequence: e.customer_seq,
        sourceEventId: e.source_event_id,
        sourceEventType: e.source_event_type,
        chargeKey: e.charge_key,
        description: e.description,
        occurredAt: new Date(e.occurred_at).toISOString(),
        postedAt: new Date(e.posted_at).toISOString(),
        lines: lines.filter((l) => l.entry_id === e.id).map((l) => ({ account: l.account, debitCents: Number(l.debit), creditCents: Number(l.credit) })),
      })),
    });
  });

  // The remedy for a money event its ledger never booked: signal-with-start makes a running ledger
  // sweep and starts a closed (failed, terminated) one, whose fresh run sweeps first thing.
  router.post('/ledgers/:customerId/rebook', async (req, res) => {
    const { customerId } = parseRequest(ledgerParams, req.params, 'params');
    const body = parseBody(req, rebookBody);
    const workflowId = ledgerWorkflowId(customerId);
    audit(res, { action: 'rebook-ledger', target: workflowId, reason: body.reason, details: { customerId } });
    const unbooked = await unbookedMoneyEventsOf(database.db, customerId, REBOOK_LISTED + 1);
    const { requestId } = ctx(res);
    // Marks a run this request started, told apart below from a running one it only signalled.
    const causedBy = `admin-rebook:${requestId}`;
    let runId: string;
    try {
      const handle = await temporal.workflow.signalWithStart<typeof ledgerWorkflow, [{ reason?: string }]>('ledgerWorkflow', {
        workflowId,
        taskQueue: ACCOUNTING_TASK_QUEUE,
        args: [{ customerId }],
        signal: sweepLedgerSignal,
        signalArgs: [{ reason: body.reason }],
        // A ledger never completes; one that failed or was terminated gets a new run.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: [{ key: CustomerIdAttribute, value: customerId }],
        memo: { causedBy },
        staticSummary: `Ledger of customer ${customerId}`,
        staticDetails: `Started by an admin rebook (admin ${principal(res).customerId}, request ${requestId}): ${body.reason}`,
      });
      runId = handle.signaledRunId;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ProblemError('bad-request', `${workflowId} completed and cannot run again`);
      throw err;
    }
    const description = await temporal.workflow.getHandle(workflowId, runId).describe();
    const outcome = description.memo?.causedBy === causedBy ? 'started' : 'signalled';
    audit(res, { details: { runId, outcome, unbookedEvents: unbooked.length } });
    ctx(res).log.info({ customerId, workflowId, runId, outcome, unbookedEvents: unbooked.length }, 'ledger rebook requested');
    res.json({
      customerId,
      workflowId,
      runId,
      outcome,
      unbookedEvents: unbooked.slice(0, REBOOK_LISTED).map((e) => ({ eventId: e.id, type: e.type, occurredAt: e.occurredAt })),
      truncated: unbooked.length > REBOOK_LISTED,
    });
  });

  // Runs the close of a period that has ended, as the Schedule would (`close:<period>`, again only
  // after a failure: a succeeded close is never repeated, a running one is answered as such).
  router.post('/periods/:period/close', async (req, res) => {
    const { period } = parseRequest(periodParams, req.params, 'params');
    const body = parseBody(req, closeBody);
    const workflowId = monthlyCloseWorkflowId(period);
    audit(res, { action: 'run-period-close', target: workflowId, reason: body.reason, details: { period, maxWaitMs: body.maxWaitMs ?? null } });
    if (periodBounds(period).end.getTime() > Date.now())
      throw new ProblemError('bad-request', `period ${period} has not ended yet: its close would lock it while it still takes entries`);
    const { requestId } = ctx(res);
    let runId: string;
    let outcome: 'started' | 'running' | 'already-closed';
    try {
      const handle = await temporal.workflow.start<typeof monthlyCloseWorkflow>('monthlyCloseWorkflow', {
        workflowId,
        taskQueue: ACCOUNTING_TASK_QUEUE,
        args: [{ period, ...(body.maxWaitMs ? { maxWaitMs: body.maxWaitMs } : {}) }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        staticSummary: `Close ${period}`,
        staticDetails: `Run by an admin (admin ${principal(res).customerId}, request ${requestId}): ${body.reason}`,
      });
      runId = handle.firstExecutionRunId;
      outcome = 'started';
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await temporal.workflow.getHandle(workflowId).describe();
      runId = description.runId;
      outcome = description.status.name === 'RUNNING' ? 'running' : 'already-closed';
    }
    audit(res, { details: { runId, outcome } });
    res.json({ period, workflowId, runId, outcome });
  });

  router.use(auditFailure);
  return router;
}
