/**
 * Member-facing orders (`/v1/orders`, all behind requireAuth). Placing an order commits it with a
 * start request for its orderWorkflow (the orders worker starts it); reads come from the orders
 * read model and the event log; cancelling is a workflow update whose validator decides whether
 * it is still allowed.
 */
import { WorkflowNotFoundError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { Router, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { acceptOrder, createOrderStartWaker } from '../../store/orders/workflow-starts';
import { startPendingOrder } from './pending-start';
import { getCustomerOrder, listCustomerOrders, orderingMember, type OrderPageKey, type OrderRow } from '../../store/orders/orders';
import type { Db } from '../../db/client';
import {
  SHIPPING_OPTIONS,
  cancelOrderUpdate,
  purchaseItemUpdate,
  requestReturnUpdate,
  orderWorkflowId,
  type Address,
  type CancelOrderResult,
  type OrderWorkflowInput,
} from '../../workflows/orders/contract';
import type { Overloaded } from '../backpressure';
import { principal } from '../auth/middleware';
import { answerForHeldKey, answerIfKeyHeld, idempotent, keyedRequest, sendAnswer, type KeyedRequest, type StoredAnswer } from '../idempotency';
import { ORDER_ID, newId } from '../ids';
import { ProblemError } from '../problems';
import { ctx } from '../request-context';
import { parseBody, parseRequest, RequestValidationError } from '../validation';
import { categoriesSchema, sizeSchema } from '../vocabulary';
import { orderTimeline } from '../../store/orders/timeline';

/** How long a cancel may wait for the workflow to accept (validate) it before answering 503. */
const CANCEL_ACCEPT_TIMEOUT_MS = 10_000;
/**
 * How long a return or purchase may wait for orderWorkflow to answer its update before 503
 * (with Retry-After): with the orders workers down an update would otherwise wait forever.
 */
const UPDATE_TIMEOUT_MS = 10_000;
/** How long a cancel may wait for the cancellation to complete before answering 202 `cancelling`. */
const CANCEL_RESULT_TIMEOUT_MS = 10_000;

export const placeOrderBody = z
  .object({
    itemCount: z.number().int().min(1).max(6).default(3),
    categories: categoriesSchema.optional(),
    size: sizeSchema.optional(),
    /** express: a fee (EXPRESS_SHIPPING_FEE_CENTS) charged now, refunded if the box is cancelled. */
    shipping: z.enum(SHIPPING_OPTIONS).default('standard'),
  })
  .strict();

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const cancelBody = z
  .object({
    reason: z.string().trim().min(1).max(500).default('cancelled by member'),
  })
  .strict();

export const orderIdParams = z.object({ orderId: z.string().regex(ORDER_ID).meta({ example: 'o_k3x9a0b1c2d3e4f5' }) }).strict();
export const itemParams = orderIdParams.extend({ itemId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/) }).strict();

export const orderLinksSchema = z.object({ self: z.string(), timeline: z.string(), cancel: z.string() }).strict();

/** An order as the API shows it. */
export const orderViewSchema = z
  .object({
    orderId: z.string(),
    customerId: z.string(),
    status: z.string().meta({ description: 'placed, styled, reserved, awaiting_shipment, shipped, delivered, returning, closed, cancelled, ...' }),
    statusReason: z.string().nullable(),
    size: z.string(),
    categories: z.array(z.string()),
    itemCount: z.number().int(),
    address: z.record(z.string(), z.unknown()),
    itemIds: z.array(z.string()),
    purchasedItemIds: z.array(z.string()),
    trackingNumber: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    links: orderLinksSchema,
  })
  .strict();

export const orderPageSchema = z.object({ data: z.array(orderViewSchema), nextCursor: z.string().nullable() }).strict();
export const orderAcceptedSchema = z.object({ orderId: z.string(), status: z.literal('placed'), links: orderLinksSchema }).strict();
export const timelineSchema = z
  .object({
    orderId: z.string(),
    events: z.array(
      z
        .object({
          seq: z.number().int(),
          id: z.string(),
          type: z.string(),
          occurredAt: z.string(),
          causationId: z.string().nullable(),
          source: z.object({ domain: z.string(), workflowId: z.string(), runId: z.string() }).strict(),
          data: z.unknown(),
          subscribers: z.array(z.string()),
        })
        .strict(),
    ),
  })
  .strict();
export const cancelResultSchema = z.union([
  z.object({ orderId: z.string(), status: z.literal('cancelled') }).strict(),
  z.object({ orderId: z.string(), status: z.literal('cancelling'), links: orderLinksSchema }).strict(),
]);
export const returnAcceptedSchema = z.object({ orderId: z.string(), status: z.literal('return_requested'), links: orderLinksSchema }).strict();
export const purchaseAcceptedSchema = z
  .object({ orderId: z.string(), itemId: z.string(), priceCents: z.number().int(), status: z.literal('purchase_requested'), links: orderLinksSchema })
  .strict();

/**
 * The order id of a request carrying an Idempotency-Key: derived from the member, the key and the
 * request's fingerprint, so the same request retried — even after its key was forgotten (expired)
 * — reaches the same order and workflow, while a *different* request reusing a forgotten key is a
 * new order, never silently answered with the old one.
 */
function orderIdFor(customerId: string, keyed: KeyedRequest): string {
  const digest = createHash('sha256').update(`${customerId}\n${keyed.key}\n${keyed.fingerprint}`).digest();
  return `o_${BigInt(`0x${digest.subarray(0, 11).toString('hex')}`)
    .toString(36)
    .padStart(16, '0')
    .slice(-16)}`;
}

const cursorSchema = z
  .object({
    c: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
    i: z.string().regex(ORDER_ID),
  })
  .strict();

function encodeCursor(key: OrderPageKey): string {
  return Buffer.from(JSON.stringify({ c: key.createdAt, i: key.id })).toString('base64url');
}

function decodeCursor(cursor: string): OrderPageKey {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) {
    throw new RequestValidationError([{ in: 'query', path: 'cursor', message: 'not a cursor this API returned', code: 'invalid_cursor' }]);
  }
  return { createdAt: parsed.data.c, id: parsed.data.i };
}

const orderLinks = (orderId: string) => ({
  self: `/v1/orders/${orderId}`,
  timeline: `/v1/orders/${orderId}/timeline`,
  cancel: `/v1/orders/${orderId}/cancel`,
});

function orderView(row: OrderRow) {
  return {
    orderId: row.id,
    customerId: row.customerId,
    status: row.status,
    statusReason: row.statusReason,
    size: row.size,
    categories: row.categories,
    itemCount: row.itemCount,
    address: row.address,
    itemIds: row.itemIds,
    purchasedItemIds: row.purchasedItemIds,
    trackingNumber: row.trackingNumber,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    links: orderLinks(row.id),
  };
}

export function orderRoutes({
  db,
  temporal,
  idempotencyTtlHours = 24,
  expressShippingFeeCents = 1500,
  logger,
  admission,
}: {
  db: Db;
  temporal: Client;
  logger: Logger;
  idempotencyTtlHours?: number;
  expressShippingFeeCents?: number;
  /** The refusal for new orders while the system is behind (api/backpressure.ts); unset, every order is admitted. */
  admission?: () => Overloaded | undefined;
}): Router {
  const router = Router();
  // The request's log lines (the access line too) name the order they are about.
  router.param('orderId', (_req, res, next, orderId: string) => {
    ctx(res).log = ctx(res).log.child({ orderId });
    next();
  });
  const withIdempotencyKey = idempotent({ db, ttlHours: idempotencyTtlHours });
  // Not awaited by the request: the order is accepted once committed (see createOrderStartWaker).
  const wakeRelay = createOrderStartWaker(db, logger);

  /** The caller's order, or 404 for unknown ids and other members' orders alike (never 403). */
  async function ownOrder(res: Response, orderId: string): Promise<OrderRow> {
    const row = ORDER_ID.test(orderId) ? await getCustomerOrder(db, principal(res).customerId, orderId) : undefined;
    if (!row) throw new ProblemError('not-found', `No order ${orderId} for this member.`);
    return row;
  }

  /** Runs a call on the order's workflow; an order accepted but not started yet is started first. */
  async function onOrderWorkflow<T>(orderId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError && (await startPendingOrder(db, temporal, orderId))) return call();
      throw err;
    }
  }

  /**
   * Places an order and answers 202 once it is durably accepted: the read-model row, the
   * workflow start request and the Idempotency-Key with this very answer are committed in one
   * statement; the orderWorkflow is started from that row by the orders worker, and styling,
   * reservation and shipping follow.
   */
  router.post('/', async (req, res) => {
    const body = parseBody(req, placeOrderBody);
    const keyed = keyedRequest(req, res, idempotencyTtlHours);
    // Behind: a new order is refused before anything is written, but a retry of an order already
    // accepted still gets its answer (it adds no work).
    const overloaded = admission?.();
    if (overloaded) {
      if (keyed && (await answerIfKeyHeld(db, res, keyed))) return;
      throw overloaded.refuse();
    }
    const { customerId } = principal(res);
    const customer = await orderingMember(db, customerId);
    if (!customer) throw new ProblemError('unauthorized', 'The account behind this token no longer exists.');
    if (customer.membershipStatus === 'suspended') {
      throw new ProblemError('membership-suspended', 'The membership fee could not be charged after every retry, so new boxes are on hold.');
    }

    // A keyed order's id derives from the key and the request, so even a retry that finds its key
    // forgotten (expired) reaches the same order rather than a second one.
    const orderId = keyed ? orderIdFor(customerId, keyed) : newId('o');
    const order: OrderWorkflowInput = {
      orderId,
      customerId,
      size: body.size ?? customer.size,
      categories: body.categories ?? customer.preferredCategories,
      itemCount: body.itemCount,
      address: customer.address as Address,
      ...(body.shipping === 'express' ? { shipping: 'express' as const, shippingFeeCents: expressShippingFeeCents } : {}),
    };
    const links = orderLinks(orderId);
    const answer: StoredAnswer = {
      status: 202,
      headers: { 'content-type': 'application/json; charset=utf-8', location: links.self },
      body: JSON.stringify({ orderId, status: 'placed', links }),
    };
    // Key, answer, read model and start request in one commit (one round trip): GET works the
    // moment we answer, the orders worker's relay starts the workflow from the row
    // (workers/order-start-relay.ts), and a retry with the key replays this answer.
    const { claimed, created } = await acceptOrder(db, order, keyed && { request: keyed, answer });
    if (!claimed) return answerForHeldKey(db, res, keyed!);
    if (created) wakeRelay();
    ctx(res).log.info({ orderId, workflowId: orderWorkflowId(orderId), itemCount: order.itemCount, size: order.size, replayedOrder: !created }, 'order placed');
    sendAnswer(res, answer);
  });

  router.get('/', async (req, res) => {
    const query = parseRequest(listQuery, req.query, 'query');
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listCustomerOrders(db, principal(res).customerId, { limit: query.limit + 1, after });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    res.json({
      data: page.map(orderView),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAtKey, id: last.id }) : null,
    });
  });

  router.get('/:orderId', async (req, res) => {
    res.json(orderView(await ownOrder(res, req.params.orderId)));
  });

  router.get('/:orderId/timeline', async (req, res) => {
    const order = await ownOrder(res, req.params.orderId);
    res.json({ orderId: order.id, events: await orderTimeline(db, order.id) });
  });

  router.post('/:orderId/cancel', async (req, res) => {
    const order = await ownOrder(res, req.params.orderId);
    const { reason } = parseBody(req, cancelBody);
    const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));
    let result: CancelOrderResult;
    try {
      const update = await onOrderWorkflow(order.id, () =>
        temporal.withDeadline(Date.now() + CANCEL_ACCEPT_TIMEOUT_MS, () =>
          // A fixed update id makes a retried request join the first one instead of being refused.
          handle.startUpdate(cancelOrderUpdate, { args: [{ reason }], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: `cancel:${order.id}` }),
        ),
      );
      ctx(res).log.info({ orderId: order.id, reason }, 'cancellation accepted');
      try {
        result = await temporal.withDeadline(Date.now() + CANCEL_RESULT_TIMEOUT_MS, () => update.result());
      } catch (err) {
        if ((err as Error)?.name !== 'WorkflowUpdateRPCTimeoutOrCancelledError') throw err;
        // Accepted but still releasing stock etc.: it will complete; say so instead of failing.
        res.status(202).json({ orderId: order.id, status: 'cancelling', links: orderLinks(order.id) });
        return;
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new ProblemError('order-not-cancellable', `Order ${order.id} is ${order.status} and already closed.`);
      }
      throw err; // OrderNotCancellable refusals are mapped by the error handler.
    }
    if (result.cancelRejected !== undefined) {
      // The cancel reached the WMS after the box had left: it is on its way, nothing was cancelled.
      throw new ProblemError(
        'order-not-cancellable',
        `Order ${order.id} was not cancelled: ${result.cancelRejected}. The box is on its way (status ${result.status}).`,
        {
          orderStatus: result.status,
          cancelRejected: result.cancelRejected,
        },
      );
    }
    res.json({ orderId: order.id, status: result.status });
  });

  /**
   * The member sends the box back. An update on orderWorkflow whose validator allows it only once
   * the box is delivered (409 return-not-allowed before, or once returning / closed). A fixed
   * update id makes a retried request join the first one.
   */
  router.post('/:orderId/return', async (req, res) => {
    const order = await ownOrder(res, req.params.orderId);
    // A closed order's workflow would answer a retried update id from its cache: refuse here.
    if (order.status === 'closed' || order.status === 'cancelled') throw new ProblemError('return-not-allowed', `Order ${order.id} is ${order.status}.`);
    const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));
    try {
      await onOrderWorkflow(order.id, () =>
        temporal.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(requestReturnUpdate, { args: [], updateId: `return:${order.id}` })),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ProblemError('return-not-allowed', `Order ${order.id} is ${order.status} and already closed.`);
      throw err;
    }
    ctx(res).log.info({ orderId: order.id }, 'return requested');
    res.status(202).json({ orderId: order.id, status: 'return_requested', links: orderLinks(order.id) });
  });

  /**
   * The member buys one item of the box they have at home. An update on orderWorkflow: refused
   * unless the box is with the member and holds the item (409 purchase-not-allowed), and a
   * second purchase of the same item is 409 already-purchased. The charge follows the
   * purchase.requested event; the item is sold once the payment is captured.
   */
  router.post('/:orderId/items/:itemId/purchase', withIdempotencyKey, async (req, res) => {
    const order = await ownOrder(res, String(req.params.orderId));
    const itemId = parseRequest(itemParams.pick({ itemId: true }), { itemId: String(req.params.itemId) }, 'params').itemId;
    const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));
    let result;
    try {
      result = await onOrderWorkflow(order.id, () =>
        temporal.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(purchaseItemUpdate, { args: [{ itemId }] })),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ProblemError('purchase-not-allowed', `Order ${order.id} is ${order.status} and already closed.`);
      throw err;
    }
    ctx(res).log.info({ orderId: order.id, itemId, priceCents: result.priceCents }, 'purchase requested');
    res.status(202).json({ orderId: order.id, itemId, priceCents: result.priceCents, status: 'purchase_requested', links: orderLinks(order.id) });
  });

  return router;
}
