/**
 * Payment operations (`/admin/payments`, admin role only, audited): look at one charge, and retry a
 * declined charge now with the member's current card. A reset cannot do the latter: a re-run meets
 * the recorded decline of every attempt it repeats (the PSP would replay it for the same key), so
 * only a *new* attempt — its own key, the card on file now — can succeed.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { attemptsOf, chargeOf } from '../../../store/payment/charges';
import { chargeStateQuery, chargeWorkflowId, retryChargeUpdate, type ChargeState } from '../../../workflows/payment/contract';
import { ProblemError } from '../../problems';
import { ctx } from '../../request-context';
import { parseBody, parseRequest } from '../../validation';
import { audit, auditFailure } from '../audit';

/** A charge key as payment builds them (`membership:<customerId>:<period>`, `purchase:…`, `shipping:…`). */
const chargeParams = z.object({ chargeKey: z.string().regex(/^(membership|purchase|shipping):[A-Za-z0-9_.:-]{1,300}$/) }).strict();
export const retryChargeBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();

/** How long a retry may wait for its attempt's answer (the PSP call) before 503. */
const RETRY_TIMEOUT_MS = 30_000;

export const chargeAttemptViewSchema = z
  .object({ attempt: z.number().int(), status: z.string(), cardToken: z.string().nullable(), declineCode: z.string().nullable(), attemptedAt: z.string() })
  .strict();
export const chargeViewSchema = z
  .object({
    chargeKey: z.string(),
    customerId: z.string(),
    purpose: z.string(),
    amountCents: z.number().int(),
    status: z.string().meta({ description: 'payment.charges status: pending, captured, failed, refunded' }),
    workflow: z
      .object({
        status: z.string().meta({ description: 'charging, dunning, captured, failed, refunded, refund_failed, cancelled' }),
        attempts: z.number().int(),
        nextAttemptAt: z.string().optional(),
        lastDecline: z.string().optional(),
        failureReason: z.string().optional(),
      })
      .nullable()
      .meta({ description: "The running (or last) chargeWorkflow's own state; null if it cannot be asked" }),
    attempts: z.array(chargeAttemptViewSchema),
  })
  .strict();

function workflowView(state: ChargeState) {
  return {
    status: state.status,
    attempts: state.attempts,
    ...(state.nextAttemptAt ? { nextAttemptAt: state.nextAttemptAt } : {}),
    ...(state.lastDecline ? { lastDecline: state.lastDecline } : {}),
    ...(state.failureReason ? { failureReason: state.failureReason } : {}),
  };
}

export function paymentAdminRoutes({ db, temporal }: { db: Db; temporal: Client }): Router {
  const router = Router();

  async function chargeView(chargeKey: string, state?: ChargeState) {
    const charge = await chargeOf(db, chargeKey);
    if (!charge) throw new ProblemError('not-found', `no charge ${chargeKey}`);
    const attempts = await attemptsOf(db, chargeKey);
    const workflow =
      state ??
      (await temporal.workflow
        .getHandle(chargeWorkflowId(chargeKey))
        .query(chargeStateQuery)
        .catch(() => undefined));
    return {
      chargeKey,
      customerId: charge.customerId,
      purpose: charge.purpose,
      amountCents: charge.amountCents,
      status: charge.status,
      workflow: workflow ? workflowView(workflow) : null,
      attempts: attempts.map((a) => ({
        attempt: a.attempt,
        status: a.status,
        cardToken: a.cardToken,
        declineCode: a.declineCode,
        attemptedAt: a.attemptedAt.toISOString(),
      })),
    };
  }

  router.get('/charges/:chargeKey', async (req, res) => {
    const { chargeKey } = parseRequest(chargeParams, req.params, 'params');
    audit(res, { action: 'read-charge', target: chargeKey });
    res.json(await chargeView(chargeKey));
  });

  /**
   * Makes the next attempt of a charge in dunning now (the `retryCharge` update), after the member
   * (or ops) put a working card on file. 409 `charge-not-retryable` unless the charge is waiting for
   * a dunning retry; answers the charge after that attempt.
   */
  router.post('/charges/:chargeKey/retry', async (req, res) => {
    const { chargeKey } = parseRequest(chargeParams, req.params, 'params');
    const { reason } = parseBody(req, retryChargeBody);
    audit(res, { action: 'retry-charge', target: chargeKey, reason });
    const handle = temporal.workflow.getHandle(chargeWorkflowId(chargeKey));
    let state: ChargeState;
    try {
      state = await temporal.withDeadline(Date.now() + RETRY_TIMEOUT_MS, () => handle.executeUpdate(retryChargeUpdate, { args: [{ reason }] }));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new ProblemError('charge-not-retryable', `charge ${chargeKey} has no running charge workflow: it has ended (see its status).`);
      throw err;
    }
    audit(res, { details: { status: state.status, attempts: state.attempts } });
    ctx(res).log.info({ chargeKey, status: state.status, attempts: state.attempts }, 'charge retried by ops');
    res.json(await chargeView(chargeKey, state));
  });

  router.use(auditFailure);
  return router;
}
