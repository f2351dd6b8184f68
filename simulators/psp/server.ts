/**
 * PSP simulator: a real HTTP service standing in for the payment service provider.
 *
 * Charges and refunds follow real-PSP `Idempotency-Key` semantics: the first final answer for a
 * key (success *or* decline) is stored and replayed for every later request with the same key
 * and body; the same key with a different body is refused 422; a request whose key is still
 * being processed is refused 409. Transient failures (503) are not stored, so a retry with the
 * same key gets a fresh try. Test cards decline, fail intermittently or answer slowly; fault
 * knobs (random 503s, latency, outage window, refusals, answers lost after the charge took effect)
 * are adjustable at runtime through /admin/faults. `POST /v1/charges/resolve` tells a caller whose
 * answer was lost what became of its charge, and closes a key it never received.
 * Every capture goes into a ledger (`GET /admin/charges`) so tests can assert that no
 * idempotency key was ever captured twice.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { answerFaultsSchema, answerOrLose, canonicalJson, isoOrNull, issues, listen, seededRandom, type StoredResponse } from '../shared';
import {
  PSP_FLAKY_FAILURES,
  PSP_IDEMPOTENCY_KEY_HEADER,
  PSP_REPLAYED_HEADER,
  PSP_SLOW_MS,
  type PspCharge,
  type PspErrorBody,
  type PspFaults,
  type PspLedgerEntry,
  type PspRefund,
  type PspResolveResponse,
} from './contract';

export interface PspSimulatorOptions {
  /** Initial fault knobs; unspecified knobs take {@link DEFAULT_PSP_FAULTS}. */
  faults?: Partial<PspFaults>;
  /** PRNG seed for fault rolls (number or any string). Default 1. */
  seed?: number | string;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** Clock in epoch milliseconds. Default Date.now. */
  now?: () => number;
  /** Latency of `tok_slow` (default {@link PSP_SLOW_MS}). */
  slowMs?: number;
}

export interface PspRunningServer {
  url: string;
  close(): Promise<void>;
}

export interface PspSimulator {
  app: express.Express;
  /** Listens on `port` (0 = any free port). */
  start(port?: number, host?: string): Promise<PspRunningServer>;
  /** The live fault knobs; mutate directly or through PUT /admin/faults. */
  faults: PspFaults;
  /** Every capture, in order (what GET /admin/charges lists). */
  ledger: PspLedgerEntry[];
  /** Captured charges by id. */
  charges: Map<string, PspCharge>;
  /** Requests received per idempotency key of `POST /v1/charges` (replays included). */
  requestsByKey: Map<string, number>;
  /** Cancels pending latency timers (close() calls it). */
  stop(): void;
}

export const DEFAULT_PSP_FAULTS: PspFaults = {
  failureRate: 0,
  latencyMs: 0,
  outageUntil: null,
  refuseRate: 0,
  lostAnswerRate: 0,
  loseAnswers: 0,
  answerDelayMs: 0,
};

// ---------------------------------------------------------------------------------------------
// Validation

const key = z.string().trim().min(1).max(255);

export const pspChargeSchema = z
  .object({
    amountCents: z.number().int().positive().max(100_000_000),
    currency: z.literal('EUR'),
    cardToken: z.string().min(1).max(100),
    description: z.string().max(500),
    metadata: z.record(z.string().max(100), z.string().max(500)).default({}),
  })
  .strict();

export const pspRefundSchema = z
  .object({
    chargeId: z.string().min(1).max(100),
    amountCents: z.number().int().positive().max(100_000_000),
  })
  .strict();

export const pspFaultsPatchSchema = z
  .object({
    failureRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(120_000),
    outageUntil: isoOrNull,
    refuseRate: z.number().min(0).max(1),
    ...answerFaultsSchema,
  })
  .partial()
  .strict();

export const pspResolveSchema = z.object({ idempotencyKey: key }).strict();

// ---------------------------------------------------------------------------------------------
// Helpers

function errorBody(error: PspErrorBody['error'], detail?: unknown): PspErrorBody {
  return detail === undefined ? { error } : { error, detail };
}

/** A final answer (stored under the key) or a transient one (not stored: the key may be retried). */
interface Answer {
  status: number;
  body: unknown;
  store: boolean;
}

// ---------------------------------------------------------------------------------------------
// Simulator

export function createPspSimulator(options: PspSimulatorOptions = {}): PspSimulator {
  const log = options.logger ?? pino({ level: 'silent' });
  const now = options.now ?? Date.now;
  const random = seededRandom(options.seed ?? 1);
  const slowMs = options.slowMs ?? PSP_SLOW_MS;
  const faults: PspFaults = { ...DEFAULT_PSP_FAULTS, ...options.faults };
  const stored = new Map<string, StoredResponse>();
  const inFlight = new Set<string>();
  const flakyAttempts = new Map<string, number>();
  /** Charge keys resolved as never received: a charge under one of them is refused from then on. */
  const voided = new Set<string>();
  const requestsByKey = new Map<string, number>();
  const charges = new Map<string, PspCharge>();
  const refunds = new Map<string, PspRefund>();
  const ledger: PspLedgerEntry[] = [];
  const sleepTimers = new Set<NodeJS.Timeout>();
  let sequence = 0;

  const isoNow = (): string => new Date(now()).toISOString();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleepTimers.delete(timer);
        resolve();
      }, ms);
      sleepTimers.add(timer);
    });

  /** The outage window and random 503s (not stored: the key may be retried); undefined when the call may go ahead. */
  function transientFailure(): Answer | undefined {
    if (faults.outageUntil !== null && now() < Date.parse(faults.outageUntil)) {
      return { status: 503, body: errorBody('outage', { until: faults.outageUntil }), store: false };
    }
    if (random() < faults.failureRate) return { status: 503, body: errorBody('unavailable'), store: false };
    return undefined;
  }

  /** Transient failures, then a refusal for good (stored under the key, like any final answer). */
  function injectedFailure(): Answer | undefined {
    const transient = transientFailure();
    if (transient) return transient;
    if (faults.refuseRate > 0 && random() < faults.refuseRate)
      return { status: 400, body: errorBody('invalid_request', 'refused by the PSP (refuseRate fault)'), store: true };
    return undefined;
  }

  /** Answers a call that has taken effect, unless the answer-loss knobs drop or delay it. */
  const answer = (res: Response, status: number, body: unknown, what: Record<string, unknown>): void =>
    answerOrLose(res, faults, random, () => res.status(status).json(body), { log, what, timers: sleepTimers });

  /**
   * Runs `handle` under the idempotency rules: replay a stored answer, refuse a reused key or a
   * key still in flight, otherwise process once and store the answer if it is final.
   */
  async function idempotent(scope: string, req: Request, res: Response, body: unknown, handle: (key: string) => Promise<Answer>): Promise<void> {
    const parsedKey = key.safeParse(req.get(PSP_IDEMPOTENCY_KEY_HEADER));
    if (!parsedKey.success) {
      res.status(400).json(errorBody('missing_idempotency_key', `${PSP_IDEMPOTENCY_KEY_HEADER} header is required`));
      return;
    }
    const idempotencyKey = parsedKey.data;
    const scoped = `${scope}:${idempotencyKey}`;
    if (scope === 'charges') requestsByKey.set(idempotencyKey, (requestsByKey.get(idempotencyKey) ?? 0) + 1);
    const fingerprint = canonicalJson(body);

    const previous = stored.get(scoped);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        res.status(422).json(errorBody('idempotency_key_reused', `this ${PSP_IDEMPOTENCY_KEY_HEADER} was used with a different body`));
        return;
      }
      log.info({ idempotencyKey, status: previous.status }, 'replaying stored response');
      res.setHeader(PSP_REPLAYED_HEADER, 'true');
      answer(res, previous.status, previous.body, { idempotencyKey, replay: true });
      return;
    }
    if (inFlight.has(scoped)) {
      res.status(409).json(errorBody('idempotency_key_in_use', 'a request with this key is still being processed; retry later'));
      return;
    }
    inFlight.add(scoped);
    try {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      // Checked after the latency: a charge in flight while its key was resolved must not take effect.
      if (voided.has(scoped)) {
        log.info({ idempotencyKey }, 'request refused: key voided');
        res
          .status(409)
          .json(errorBody('idempotency_key_voided', `this ${PSP_IDEMPOTENCY_KEY_HEADER} was resolved as never received and can no longer be used`));
        return;
      }
      const result = injectedFailure() ?? (await handle(idempotencyKey));
      if (result.store) stored.set(scoped, { fingerprint, status: result.status, body: result.body });
      if (!res.destroyed) answer(res, result.status, result.body, { idempotencyKey, status: result.status });
    } finally {
      inFlight.delete(scoped);
    }
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', charges: charges.size });
  });

  app.get('/admin/faults', (_req, res) => {
    res.json(faults);
  });

  app.put('/admin/faults', (req, res) => {
    const parsed = pspFaultsPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    Object.assign(faults, parsed.data);
    log.info({ faults }, 'faults updated');
    res.json(faults);
  });

  /** Every capture with its idempotency key, oldest first. */
  app.get('/admin/charges', (_req, res) => {
    res.json({ charges: ledger });
  });

  app.post('/v1/charges', async (req, res) => {
    const parsed = pspChargeSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const body = parsed.data;
    await idempotent('charges', req, res, body, async (idempotencyKey) => {
      switch (body.cardToken) {
        case 'tok_decline':
          log.info({ idempotencyKey }, 'card declined');
          return { status: 402, body: errorBody('card_declined', 'the card was declined'), store: true };
        case 'tok_insufficient_funds':
          log.info({ idempotencyKey }, 'insufficient funds');
          return { status: 402, body: errorBody('insufficient_funds', 'the card has insufficient funds'), store: true };
        case 'tok_flaky': {
          const attempt = (flakyAttempts.get(idempotencyKey) ?? 0) + 1;
          flakyAttempts.set(idempotencyKey, attempt);
          if (attempt <= PSP_FLAKY_FAILURES) return { status: 503, body: errorBody('unavailable', { attempt }), store: false };
          break;
        }
        case 'tok_slow':
          await sleep(slowMs);
          break;
      }
      const charge: PspCharge = {
        chargeId: `ch_${++sequence}`,
        status: 'captured',
        amountCents: body.amountCents,
        currency: body.currency,
        cardToken: body.cardToken,
        description: body.description,
        metadata: body.metadata,
        refundedCents: 0,
        createdAt: isoNow(),
      };
      charges.set(charge.chargeId, charge);
      ledger.push({
        chargeId: charge.chargeId,
        idempotencyKey,
        amountCents: charge.amountCents,
        cardToken: charge.cardToken,
        metadata: charge.metadata,
        capturedAt: charge.createdAt,
      });
      // The caller's chargeKey and customerId tie the line to closetflow's logs.
      log.info(
        {
          idempotencyKey,
          chargeId: charge.chargeId,
          amountCents: charge.amountCents,
          chargeKey: charge.metadata.chargeKey,
          customerId: charge.metadata.customerId,
        },
        'charge captured',
      );
      return { status: 201, body: charge, store: true };
    });
  });

  /**
   * What became of a charge whose answer the caller never got: its stored answer, or — for a key
   * never received — `voided`, after which the key can never capture. A key still being processed
   * is 409 `idempotency_key_in_use`: the caller asks again.
   */
  app.post('/v1/charges/resolve', (req, res) => {
    const parsed = pspResolveSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const failure = transientFailure();
    if (failure) {
      res.status(failure.status).json(failure.body);
      return;
    }
    const { idempotencyKey } = parsed.data;
    const scoped = `charges:${idempotencyKey}`;
    if (inFlight.has(scoped)) {
      res.status(409).json(errorBody('idempotency_key_in_use', 'the charge under this key is still being processed; ask again'));
      return;
    }
    const previous = stored.get(scoped);
    let resolved: PspResolveResponse;
    if (!previous) {
      voided.add(scoped);
      resolved = { outcome: 'voided' };
    } else if (previous.status === 201) {
      const charge = previous.body as PspCharge;
      resolved = { outcome: 'captured', chargeId: charge.chargeId, amountCents: charge.amountCents };
    } else if (previous.status === 402) {
      resolved = { outcome: 'declined', code: (previous.body as PspErrorBody).error };
    } else {
      resolved = { outcome: 'refused', status: previous.status, error: (previous.body as PspErrorBody).error };
    }
    log.info({ idempotencyKey, outcome: resolved.outcome }, 'charge resolved by key');
    answer(res, 200, resolved, { idempotencyKey, resolve: true });
  });

  app.get('/v1/charges/:chargeId', (req, res) => {
    const charge = charges.get(String(req.params.chargeId));
    if (!charge) {
      res.status(404).json(errorBody('not_found'));
      return;
    }
    res.json(charge);
  });

  app.post('/v1/refunds', async (req, res) => {
    const parsed = pspRefundSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const body = parsed.data;
    await idempotent('refunds', req, res, body, async (idempotencyKey) => {
      const charge = charges.get(body.chargeId);
      if (!charge) return { status: 404, body: errorBody('not_found', `no charge ${body.chargeId}`), store: true };
      if (charge.refundedCents + body.amountCents > charge.amountCents) {
        return {
          status: 422,
          body: errorBody('refund_exceeds_charge', { amountCents: charge.amountCents, refundedCents: charge.refundedCents }),
          store: true,
        };
      }
      charge.refundedCents += body.amountCents;
      const refund: PspRefund = {
        refundId: `re_${++sequence}`,
        chargeId: charge.chargeId,
        amountCents: body.amountCents,
        status: 'succeeded',
        createdAt: isoNow(),
      };
      refunds.set(refund.refundId, refund);
      log.info({ idempotencyKey, refundId: refund.refundId, chargeId: charge.chargeId }, 'refund succeeded');
      return { status: 201, body: refund, store: true };
    });
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
    for (const timer of sleepTimers) clearTimeout(timer);
    sleepTimers.clear();
  }

  async function start(port = 0, host = '127.0.0.1'): Promise<PspRunningServer> {
    return listen(app, { port, host, name: 'psp simulator', log, onClose: stop });
  }

  return { app, start, faults, ledger, charges, requestsByKey, stop };
}
