/**
 * Inbound webhooks. `POST /v1/webhooks/wms`: the warehouse's signed shipment callbacks. The
 * signature is checked over the exact bytes received (this router gets the raw body), and only
 * a verified callback reaches the shipment workflow, by signal-with-start: a callback that beats
 * the shipment.requested event starts the workflow itself. `return_arrived` signal-with-starts the
 * box's returnReceiptWorkflow, which publishes return.arrived. A callback for a box whose cancel
 * warehouse integration confirmed starts nothing: the cancel is final, so a box that moves anyway
 * (a WMS that missed the cancel) is an anomaly for ops, not a shipment or a return.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { isShipmentCancelled } from '../../store/warehouse-integration/instructions';
import type { Config } from '../../config';
import { requireWmsWebhookSecret } from '../../config/secrets';
import type { Db } from '../../db/client';
import { WMS_CALLBACK_STATUSES, WMS_SIGNATURE_HEADER } from '../../simulators/wms/contract';
import { verifyWmsSignature } from '../../simulators/wms/signature';
import { boxSearchAttributes } from '../../workflows/search-attributes';
import {
  ReturnReceiptWorkflow,
  ShipmentWorkflow,
  returnArrivalSignal,
  returnReceiptWorkflowId,
  shipmentWorkflowId,
  wmsCallbackSignal,
  type ReturnReceiptInput,
  type WmsCallbackSignal,
} from '../../workflows/warehouse/contract';
import { signalWithStartWorkflow } from '../../workflows/workflow-ref';
import { ProblemError } from '../problems';
import { ctx } from '../request-context';
import { parseRequest } from '../validation';

/**
 * A WMS callback. Not `.strict()`: the sender is a third party that adds fields over time, and
 * refusing a verified callback for an unknown field would only make the WMS retry it forever.
 * Unknown fields are stripped, never forwarded.
 */
export const wmsCallbackSchema = z.object({
  callbackId: z.string().min(1).max(200),
  instructionId: z.string().min(1).max(200),
  orderId: z.string().regex(/^o_[0-9a-z]{1,64}$/),
  customerId: z.string().regex(/^c_[0-9a-z]{1,64}$/),
  status: z.enum(WMS_CALLBACK_STATUSES),
  occurredAt: z.iso.datetime({ offset: true }),
  trackingNumber: z.string().min(1).max(100).optional(),
});

export const wmsWebhookResultSchema = z.union([
  z.object({ status: z.literal('accepted') }).strict(),
  z.object({ status: z.literal('ignored'), reason: z.string() }).strict(),
]);

export function webhookRoutes({ config, db, temporal, now = () => Date.now() }: { config: Config; db: Db; temporal: Client; now?: () => number }): Router {
  // Checked once, here: without a real secret anyone could forge the warehouse's callbacks.
  const secret = requireWmsWebhookSecret(config.WMS_WEBHOOK_SECRET);
  const router = Router();

  router.post('/wms', async (req, res) => {
    const log = ctx(res).log;
    const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifyWmsSignature({
      secret,
      rawBody,
      header: req.get(WMS_SIGNATURE_HEADER),
      nowSeconds: now() / 1000,
    });
    if (!verdict.ok) {
      // Never log the body: it is unauthenticated input.
      log.warn({ reason: verdict.reason, bytes: rawBody.length }, 'WMS webhook refused: bad signature');
      throw new ProblemError('invalid-signature', `The ${WMS_SIGNATURE_HEADER} header did not verify.`);
    }

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ProblemError('malformed-json', 'The request body could not be parsed as JSON.');
    }
    const callback = parseRequest(wmsCallbackSchema, json, 'body');
    const fields = { orderId: callback.orderId, callbackId: callback.callbackId, wmsStatus: callback.status };

    if (await isShipmentCancelled(db, callback.orderId)) {
      // 200, so the WMS stops redelivering; the box's record says the cancel was confirmed.
      log.warn({ ...fields, instructionId: callback.instructionId }, 'WMS callback ignored: the box was cancelled');
      res.json({ status: 'ignored', reason: 'order cancelled' });
      return;
    }

    if (callback.status === 'return_arrived') {
      // One receipt per order: it publishes return.arrived once; duplicates signal it while it
      // runs, and REJECT_DUPLICATE refuses them once it has closed.
      const receipt: ReturnReceiptInput = {
        orderId: callback.orderId,
        customerId: callback.customerId,
        instructionId: callback.instructionId,
        callbackId: callback.callbackId,
      };
      const receiptId = returnReceiptWorkflowId(callback.orderId);
      try {
        await signalWithStartWorkflow(temporal.workflow, ReturnReceiptWorkflow, receipt, {
          workflowId: receiptId,
          signal: returnArrivalSignal,
          signalArgs: [{ callbackId: callback.callbackId }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: boxSearchAttributes(callback.orderId, callback.customerId),
          staticSummary: `Return of box ${callback.orderId} arrived at the warehouse`,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        log.info({ ...fields, workflowId: receiptId }, 'WMS return callback ignored: already received');
        res.json({ status: 'ignored', reason: 'return already received' });
        return;
      }
      log.info({ ...fields, workflowId: receiptId }, 'WMS return callback forwarded');
      res.json({ status: 'accepted' });
      return;
    }

    const signal: WmsCallbackSignal = {
      callbackId: callback.callbackId,
      instructionId: callback.instructionId,
      orderId: callback.orderId,
      customerId: callback.customerId,
      status: callback.status,
      occurredAt: callback.occurredAt,
      ...(callback.trackingNumber ? { trackingNumber: callback.trackingNumber } : {}),
    };
    const workflowId = shipmentWorkflowId(callback.orderId);
    try {
      await signalWithStartWorkflow(
        temporal.workflow,
        ShipmentWorkflow,
        { orderId: callback.orderId, customerId: callback.customerId },
        {
          workflowId,
          signal: wmsCallbackSignal,
          signalArgs: [signal],
          // A finished shipment is never started again by a late or duplicate callback.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: boxSearchAttributes(callback.orderId, callback.customerId),
          staticSummary: `Shipment of box ${callback.orderId} (started by a WMS callback)`,
        },
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      log.info({ ...fields, workflowId }, 'WMS callback ignored: shipment already closed');
      res.json({ status: 'ignored', reason: 'shipment closed' });
      return;
    }
    log.info({ ...fields, workflowId }, 'WMS callback forwarded');
    res.json({ status: 'accepted' });
  });

  return router;
}
