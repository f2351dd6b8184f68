/**
 * The ledger for admins (`/admin/accounting`, admin role only, every call audited): the trial
 * balance of a period and its journal entries with their lines; and the remedy of a close that
 * failed with UnbookedMoneyEvents — rebook a customer's ledger, then run the period's close again.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { unbookedMoneyEventsOf } from '../../../store/accounting/event-log';
import { ledgerEntries, trialBalanceView } from '../../../store/accounting/ledger-views';
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

  router.get('/trial-balance', async (req, res) => {
    const { period } = parseRequest(trialBalanceQuery, req.query, 'query');
    const view = await trialBalanceView(database.db, period);
    const totalDebitCents = view.accounts.reduce((s, a) => s + a.debitCents, 0);
    const totalCreditCents = view.accounts.reduce((s, a) => s + a.creditCents, 0);
    res.json({
      period,
      status: view.status,
      lockedAt: view.lockedAt ? new Date(view.lockedAt).toISOString() : null,
      accounts: view.accounts,
      totalDebitCents,
      totalCreditCents,
      balanced: totalDebitCents === totalCreditCents,
    });
  });

  router.get('/ledger', async (req, res) => {
    const { period, customerId, limit } = parseRequest(ledgerQuery, req.query, 'query');
    const entries = await ledgerEntries(database.db, { period, customerId, limit: limit + 1 });
    const page = entries.slice(0, limit);
    res.json({
      period,
      customerId: customerId ?? null,
      truncated: entries.length > limit,
      entries: page.map((e) => ({
        id: e.id,
        customerId: e.customerId,
        sequence: e.customerSeq,
        sourceEventId: e.sourceEventId,
        sourceEventType: e.sourceEventType,
        chargeKey: e.chargeKey,
        description: e.description,
        occurredAt: new Date(e.occurredAt).toISOString(),
        postedAt: new Date(e.postedAt).toISOString(),
        lines: e.lines,
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
