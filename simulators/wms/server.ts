/**
 * WMS simulator: a real HTTP service standing in for the third-party warehouse management system.
 *
 * It accepts shipping instructions (idempotently), walks each shipment through picked → packed →
 * shipped → delivered on a timer, and reports every step to closetflow with a signed callback,
 * retrying with backoff like a real provider. Fault knobs (random 503s, latency, outage windows,
 * address rejection, duplicate and out-of-order callbacks, answers lost after the call took
 * effect) are adjustable at runtime through /admin/faults; all randomness comes from a seeded PRNG
 * so runs are repeatable. `POST /v1/instructions/resolve` tells a caller whose answer was lost what
 * became of its create, and closes a key it never received (like a provider's cancel-by-reference).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { answerFaultsSchema, answerOrLose, canonicalJson, isoOrNull, issues, listen, seededRandom, type StoredResponse } from '../shared';
import {
  WMS_IDEMPOTENCY_KEY_HEADER,
  WMS_SHIPMENT_STEPS,
  WMS_SIGNATURE_HEADER,
  type WmsCallback,
  type WmsCallbackStatus,
  type WmsCreateInstructionRequest,
  type WmsErrorBody,
  type WmsFaults,
  type WmsInstructionView,
  type WmsResolveResponse,
  type WmsShipmentStep,
} from './contract';
import { signWmsPayload } from './signature';

export interface WmsCallbackRetryOptions {
  /** Delay before the second attempt; doubles each time. Default 500. */
  initialDelayMs?: number;
  /** Upper bound for the delay between attempts. Default 10 000. */
  maxDelayMs?: number;
  /** Attempts per callback before it is given up (dead-lettered). Default 20. */
  maxAttempts?: number;
  /** Per-attempt HTTP timeout. Default 5 000. */
  timeoutMs?: number;
}

export interface WmsSimulatorOptions {
  /** Where callbacks are POSTed (closetflow's /v1/webhooks/wms). */
  callbackUrl: string;
  /** HMAC secret shared with closetflow. */
  webhookSecret: string;
  /** Initial fault knobs; unspecified knobs take {@link DEFAULT_WMS_FAULTS}. */
  faults?: Partial<WmsFaults>;
  /** PRNG seed for fault rolls (number or any string). Default 1. */
  seed?: number | string;
  callbackRetry?: WmsCallbackRetryOptions;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** Clock in epoch milliseconds. Default Date.now. */
  now?: () => number;
}

/** A callback that exhausted its retries. */
export interface WmsDeadLetter {
  callback: WmsCallback;
  attempts: number;
  lastError: string;
}

export interface WmsRunningServer {
  url: string;
  close(): Promise<void>;
}

export interface WmsSimulator {
  app: express.Express;
  /** Listens on `port` (0 = any free port). */
  start(port?: number, host?: string): Promise<WmsRunningServer>;
  /** The live fault knobs; mutate directly or through PUT /admin/faults. */
  faults: WmsFaults;
  /** Every instruction by id, as GET /v1/instructions/:id reports it. */
  instructions: Map<string, WmsInstructionView>;
  /** Callbacks that were given up after exhausting their retries. */
  deadLetters: WmsDeadLetter[];
  /** Stops every shipment timer and callback delivery (close() calls it). */
  stop(): void;
}

export const DEFAULT_WMS_FAULTS: WmsFaults = {
  failureRate: 0,
  latencyMs: 0,
  outageUntil: null,
  rejectAddressPattern: 'REJECT',
  duplicateRate: 0,
  outOfOrderRate: 0,
  stepMs: 2000,
  lostAnswerRate: 0,
  loseAnswers: 0,
  answerDelayMs: 0,
};

// ---------------------------------------------------------------------------------------------
// Validation

const nonEmpty = z.string().trim().min(1).max(500);

export const wmsCreateInstructionSchema = z.object({
  orderId: nonEmpty,
  customerId: nonEmpty,
  items: z
    .array(z.object({ itemId: nonEmpty, sku: nonEmpty }))
    .min(1)
    .max(100),
  address: z.object({
    name: nonEmpty,
    line1: nonEmpty,
    line2: z.string().trim().max(500).optional(),
    city: nonEmpty,
    postcode: nonEmpty,
    country: nonEmpty,
  }),
});

const rate = z.number().min(0).max(1);
export const wmsFaultsPatchSchema = z
  .object({
    failureRate: rate,
    latencyMs: z.number().int().min(0).max(120_000),
    outageUntil: isoOrNull,
    rejectAddressPattern: z.string().max(200),
    duplicateRate: rate,
    outOfOrderRate: rate,
    stepMs: z.number().int().min(0).max(3_600_000),
    ...answerFaultsSchema,
  })
  .partial()
  .strict();

export const wmsResolveSchema = z.object({ idempotencyKey: z.string().trim().min(1).max(500) }).strict();

// ---------------------------------------------------------------------------------------------
// Helpers

function errorBody(error: WmsErrorBody['error'], detail?: unknown): WmsErrorBody {
  return detail === undefined ? { error } : { error, detail };
}

// ---------------------------------------------------------------------------------------------
// Simulator

/** Per-instruction moving parts: the step timer and the ordered callback queue. */
interface Pipeline {
  nextStep: number;
  stepTimer: NodeJS.Timeout | null;
  queue: WmsCallback[];
  delivering: boolean;
  retryTimer: NodeJS.Timeout | null;
  inFlight: AbortController | null;
  swapPackedShipped: boolean;
  heldPacked: WmsCallback | null;
  stopped: boolean;
}

export function createWmsSimulator(options: WmsSimulatorOptions): WmsSimulator {
  const log = options.logger ?? pino({ level: 'silent' });
  const now = options.now ?? Date.now;
  const random = seededRandom(options.seed ?? 1);
  const retry = {
    initialDelayMs: options.callbackRetry?.initialDelayMs ?? 500,
    maxDelayMs: options.callbackRetry?.maxDelayMs ?? 10_000,
    maxAttempts: options.callbackRetry?.maxAttempts ?? 20,
    timeoutMs: options.callbackRetry?.timeoutMs ?? 5_000,
  };
  const faults: WmsFaults = { ...DEFAULT_WMS_FAULTS, ...options.faults };
  const instructions = new Map<string, WmsInstructionView>();
  const pipelines = new Map<string, Pipeline>();
  const idempotency = new Map<string, StoredResponse>();
  /** Keys resolved as never received: a create under one of them is refused from then on. */
  const voided = new Set<string>();
  const deadLetters: WmsDeadLetter[] = [];
  const sleepTimers = new Set<NodeJS.Timeout>();
  let sequence = 0;
  let stopped = false;

  const roll = (probability: number): boolean => random() < probability;
  const isoNow = (): string => new Date(now()).toISOString();
  /** Answers a closetflow call that has taken effect, unless the answer-loss knobs drop or delay it. */
  const answer = (res: Response, status: number, body: unknown, what: Record<string, unknown>): void =>
    answerOrLose(res, faults, random, () => res.status(status).json(body), { log, what, timers: sleepTimers });

  // --- callbacks -------------------------------------------------------------------------------

  function enqueue(pipeline: Pipeline, callback: WmsCallback): void {
    if (pipeline.stopped) return;
    pipeline.queue.push(callback);
    if (roll(faults.duplicateRate)) {
      log.info({ callbackId: callback.callbackId }, 'fault: duplicating callback');
      pipeline.queue.push(callback);
    }
    pump(pipeline);
  }

  function pump(pipeline: Pipeline): void {
    if (pipeline.stopped || pipeline.delivering || pipeline.queue.length === 0) return;
    pipeline.delivering = true;
    void deliver(pipeline, pipeline.queue[0]!, 1);
  }

  function finish(pipeline: Pipeline): void {
    pipeline.queue.shift();
    pipeline.delivering = false;
    pump(pipeline);
  }

  async function deliver(pipeline: Pipeline, callback: WmsCallback, attempt: number): Promise<void> {
    if (pipeline.stopped) return;
    const rawBody = JSON.stringify(callback);
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), retry.timeoutMs);
    pipeline.inFlight = controller;
    let failure: string | null = null;
    try {
      const res = await fetch(options.callbackUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WMS_SIGNATURE_HEADER]: signWmsPayload(options.webhookSecret, rawBody, Math.floor(now() / 1000)),
        },
        body: rawBody,
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined); // drain so the socket can be reused
      if (!res.ok) failure = `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      failure = err instanceof Error ? `${err.message}${cause ? ` (${cause.code ?? cause.message})` : ''}` : String(err);
    } finally {
      clearTimeout(timeout);
      pipeline.inFlight = null;
    }
    if (pipeline.stopped) return;

    const fields = { callbackId: callback.callbackId, instructionId: callback.instructionId, orderId: callback.orderId, attempt };
    if (failure === null) {
      log.info(fields, 'callback delivered');
      finish(pipeline);
      return;
    }
    if (attempt >= retry.maxAttempts) {
      log.error({ ...fields, error: failure }, 'callback given up after max attempts');
      deadLetters.push({ callback, attempts: attempt, lastError: failure });
      finish(pipeline);
      return;
    }
    const delay = Math.min(retry.initialDelayMs * 2 ** (attempt - 1), retry.maxDelayMs);
    log.warn({ ...fields, error: failure, retryInMs: delay }, 'callback refused, will retry');
    pipeline.retryTimer = setTimeout(() => {
      pipeline.retryTimer = null;
      void deliver(pipeline, callback, attempt + 1);
    }, delay);
  }

  function stopPipeline(pipeline: Pipeline): void {
    pipeline.stopped = true;
    if (pipeline.stepTimer) clearTimeout(pipeline.stepTimer);
    if (pipeline.retryTimer) clearTimeout(pipeline.retryTimer);
    pipeline.inFlight?.abort();
    pipeline.stepTimer = null;
    pipeline.retryTimer = null;
    pipeline.queue = [];
    pipeline.heldPacked = null;
    pipeline.delivering = false;
  }

  // --- shipment progression --------------------------------------------------------------------

  function makeCallback(view: WmsInstructionView, status: WmsCallbackStatus, occurredAt: string): WmsCallback {
    const callback: WmsCallback = {
      callbackId: `${view.instructionId}:${status}`,
      instructionId: view.instructionId,
      orderId: view.orderId,
      customerId: view.customerId,
      status,
      occurredAt,
    };
    if ((status === 'shipped' || status === 'delivered') && view.trackingNumber) {
      callback.trackingNumber = view.trackingNumber;
    }
    return callback;
  }

  function scheduleNextStep(view: WmsInstructionView, pipeline: Pipeline): void {
    if (pipeline.stopped || pipeline.nextStep >= WMS_SHIPMENT_STEPS.length) return;
    pipeline.stepTimer = setTimeout(() => {
      pipeline.stepTimer = null;
      advance(view, pipeline, WMS_SHIPMENT_STEPS[pipeline.nextStep++]!);
      scheduleNextStep(view, pipeline);
    }, faults.stepMs);
  }

  function advance(view: WmsInstructionView, pipeline: Pipeline, step: WmsShipmentStep): void {
    if (pipeline.stopped) return;
    const at = isoNow();
    view.status = step;
    view.history.push({ status: step, at });
    if (step === 'shipped') view.trackingNumber = `CFTRK${view.instructionId.slice(4).padStart(8, '0')}`;
    log.info({ instructionId: view.instructionId, orderId: view.orderId, status: step }, 'shipment step');
    const callback = makeCallback(view, step, at);
    if (step === 'packed' && pipeline.swapPackedShipped) {
      pipeline.heldPacked = callback; // sent after "shipped"
      return;
    }
    enqueue(pipeline, callback);
    if (step === 'shipped' && pipeline.heldPacked) {
      enqueue(pipeline, pipeline.heldPacked);
      pipeline.heldPacked = null;
    }
  }

  // --- HTTP ------------------------------------------------------------------------------------

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', instructions: instructions.size });
  });

  app.get('/admin/faults', (_req, res) => {
    res.json(faults);
  });

  app.put('/admin/faults', (req, res) => {
    const parsed = wmsFaultsPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    Object.assign(faults, parsed.data);
    log.info({ faults }, 'faults updated');
    res.json(faults);
  });

  /** Latency, outage and random failures for the calls closetflow makes. */
  async function injectFaults(_req: Request, res: Response, next: NextFunction): Promise<void> {
    if (faults.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          sleepTimers.delete(timer);
          resolve();
        }, faults.latencyMs);
        sleepTimers.add(timer);
      });
      if (res.destroyed) return;
    }
    if (faults.outageUntil !== null) {
      const until = Date.parse(faults.outageUntil);
      if (now() < until) {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil((until - now()) / 1000))));
        res.status(503).json(errorBody('outage', { until: faults.outageUntil }));
        return;
      }
    }
    if (roll(faults.failureRate)) {
      res.status(503).json(errorBody('unavailable'));
      return;
    }
    next();
  }

  app.post('/v1/instructions', injectFaults, (req, res) => {
    const key = req.get(WMS_IDEMPOTENCY_KEY_HEADER)?.trim();
    if (!key) {
      res.status(400).json(errorBody('missing_idempotency_key', `${WMS_IDEMPOTENCY_KEY_HEADER} header is required`));
      return;
    }
    const parsed = wmsCreateInstructionSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const body: WmsCreateInstructionRequest = parsed.data;
    const fingerprint = canonicalJson(body);

    const stored = idempotency.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        res.status(422).json(errorBody('idempotency_key_reused', 'this Idempotency-Key was used with a different body'));
        return;
      }
      log.info({ idempotencyKey: key }, 'replaying stored response');
      res.setHeader('Idempotent-Replayed', 'true');
      answer(res, stored.status, stored.body, { idempotencyKey: key, replay: true });
      return;
    }
    if (voided.has(key)) {
      // Checked after the latency fault: a create that was in flight while its key was resolved
      // arrives here and must not take effect.
      log.info({ idempotencyKey: key, orderId: body.orderId }, 'instruction refused: key voided');
      res.status(409).json(errorBody('idempotency_key_voided', 'this Idempotency-Key was resolved as never received and can no longer be used'));
      return;
    }

    const remember = (status: number, responseBody: unknown): void => {
      idempotency.set(key, { fingerprint, status, body: responseBody });
      answer(res, status, responseBody, { idempotencyKey: key, orderId: body.orderId, status });
    };

    const pattern = faults.rejectAddressPattern.toLowerCase();
    if (pattern !== '') {
      for (const [field, value] of Object.entries(body.address)) {
        if (typeof value === 'string' && value.toLowerCase().includes(pattern)) {
          log.info({ idempotencyKey: key, orderId: body.orderId, field }, 'address rejected');
          remember(422, errorBody('address_rejected', `cannot deliver to this address: ${field} "${value}" is not deliverable`));
          return;
        }
      }
    }

    const instructionId = `wms_${++sequence}`;
    const view: WmsInstructionView = {
      instructionId,
      orderId: body.orderId,
      customerId: body.customerId,
      items: body.items,
      address: body.address,
      status: 'accepted',
      createdAt: isoNow(),
      history: [{ status: 'accepted', at: isoNow() }],
    };
    const pipeline: Pipeline = {
      nextStep: 0,
      stepTimer: null,
      queue: [],
      delivering: false,
      retryTimer: null,
      inFlight: null,
      swapPackedShipped: roll(faults.outOfOrderRate),
      heldPacked: null,
      stopped,
    };
    instructions.set(instructionId, view);
    pipelines.set(instructionId, pipeline);
    log.info({ instructionId, orderId: body.orderId, idempotencyKey: key }, 'instruction accepted');
    scheduleNextStep(view, pipeline);
    remember(201, { instructionId, status: 'accepted' });
  });

  /**
   * What became of a create whose answer the caller never got. A key never received is voided,
   * so the answer is final: a create still on its way can no longer take effect.
   */
  app.post('/v1/instructions/resolve', injectFaults, (req, res) => {
    const parsed = wmsResolveSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const { idempotencyKey } = parsed.data;
    const stored = idempotency.get(idempotencyKey);
    let resolved: WmsResolveResponse;
    if (stored && stored.status === 201) {
      const instructionId = String((stored.body as { instructionId: string }).instructionId);
      resolved = { outcome: 'accepted', instructionId, status: instructions.get(instructionId)?.status ?? 'accepted' };
    } else if (stored) {
      const refusal = stored.body as WmsErrorBody;
      resolved = { outcome: 'refused', error: refusal.error, ...(refusal.detail === undefined ? {} : { detail: refusal.detail }) };
    } else {
      voided.add(idempotencyKey);
      resolved = { outcome: 'voided' };
    }
    log.info({ idempotencyKey, outcome: resolved.outcome }, 'instruction resolved by key');
    answer(res, 200, resolved, { idempotencyKey, resolve: true });
  });

  app.get('/v1/instructions/:instructionId', injectFaults, (req, res) => {
    const view = instructions.get(String(req.params.instructionId));
    if (!view) {
      res.status(404).json(errorBody('not_found'));
      return;
    }
    res.json(view);
  });

  app.post('/v1/instructions/:instructionId/cancel', injectFaults, (req, res) => {
    const instructionId = String(req.params.instructionId);
    const view = instructions.get(instructionId);
    const pipeline = pipelines.get(instructionId);
    if (!view || !pipeline) {
      res.status(404).json(errorBody('not_found'));
      return;
    }
    const what = { instructionId, orderId: view.orderId, cancel: true };
    if (view.status === 'cancelled') {
      answer(res, 200, { status: 'cancelled' }, what);
      return;
    }
    if (view.status === 'shipped' || view.status === 'delivered') {
      answer(res, 409, errorBody('already_shipped', { status: view.status }), what);
      return;
    }
    stopPipeline(pipeline);
    view.status = 'cancelled';
    view.history.push({ status: 'cancelled', at: isoNow() });
    log.info({ instructionId, orderId: view.orderId, idempotencyKey: req.get(WMS_IDEMPOTENCY_KEY_HEADER) }, 'instruction cancelled');
    answer(res, 200, { status: 'cancelled' }, what);
  });

  /** Simulation trigger (not a closetflow call, so no faults): the rented items came back. */
  app.post('/v1/instructions/:instructionId/return-arrival', (req, res) => {
    const instructionId = String(req.params.instructionId);
    const view = instructions.get(instructionId);
    const pipeline = pipelines.get(instructionId);
    if (!view || !pipeline) {
      res.status(404).json(errorBody('not_found'));
      return;
    }
    if (view.returnArrivedAt) {
      res.json({ status: 'return_arrived' });
      return;
    }
    if (view.status !== 'delivered') {
      res.status(409).json(errorBody('not_delivered', { status: view.status }));
      return;
    }
    const at = isoNow();
    view.returnArrivedAt = at;
    view.history.push({ status: 'return_arrived', at });
    log.info({ instructionId, orderId: view.orderId }, 'return arrived');
    enqueue(pipeline, makeCallback(view, 'return_arrived', at));
    res.status(202).json({ status: 'return_arrived' });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json(errorBody('not_found'));
  });

  // Express 5 forwards body-parser errors (malformed JSON, too large) here.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 400 && status < 500) {
      res.status(status).json(errorBody('invalid_request', (err as Error).message));
      return;
    }
    log.error({ err }, 'unhandled error');
    res.status(500).json({ error: 'internal' });
  });

  function stop(): void {
    stopped = true;
    for (const pipeline of pipelines.values()) stopPipeline(pipeline);
    for (const timer of sleepTimers) clearTimeout(timer);
    sleepTimers.clear();
  }

  async function start(port = 0, host = '127.0.0.1'): Promise<WmsRunningServer> {
    return listen(app, { port, host, name: 'wms simulator', log, onClose: stop });
  }

  return { app, start, faults, instructions, deadLetters, stop };
}
