/**
 * Mail simulator: a real HTTP service standing in for the transactional e-mail provider.
 *
 * `POST /v1/messages` accepts one plain-text message under an `Idempotency-Key`, with real-provider
 * semantics: the first answer for a key is stored and replayed for every retry with the same
 * message (so a retried send is delivered once); the same key with another message is 422; a key
 * still being processed is 409. Transient failures (503: an outage window, random failures) are
 * not stored, so a retry gets a fresh try. Accepted messages land in an inbox that tests and
 * people read at `GET /admin/messages?to=<email>` (newest first); the fault knobs change live
 * through `PUT /admin/faults`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { canonicalJson, isoOrNull, issues, listen, seededRandom, type StoredResponse } from '../shared';
import { MAIL_IDEMPOTENCY_KEY_HEADER, MAIL_REPLAYED_HEADER, type MailAccepted, type MailErrorBody, type MailFaults, type MailMessage } from './contract';

export interface MailSimulatorOptions {
  /** Initial fault knobs; unspecified knobs take {@link DEFAULT_MAIL_FAULTS}. */
  faults?: Partial<MailFaults>;
  /** PRNG seed for fault rolls (number or any string). Default 1. */
  seed?: number | string;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** Clock in epoch milliseconds. Default Date.now. */
  now?: () => number;
}

export interface MailRunningServer {
  url: string;
  close(): Promise<void>;
}

export interface MailSimulator {
  app: express.Express;
  /** Listens on `port` (0 = any free port). */
  start(port?: number, host?: string): Promise<MailRunningServer>;
  /** The live fault knobs; mutate directly or through PUT /admin/faults. */
  faults: MailFaults;
  /** Every accepted message, oldest first. */
  messages: MailMessage[];
  /** Send requests received per idempotency key (replays and refused ones included). */
  requestsByKey: Map<string, number>;
  /** Cancels pending latency timers (close() calls it). */
  stop(): void;
}

export const DEFAULT_MAIL_FAULTS: MailFaults = { failureRate: 0, latencyMs: 0, outageUntil: null };

/** Body of `POST /v1/messages`. */
export const mailSendSchema = z
  .object({
    to: z.email().max(254),
    subject: z.string().min(1).max(500),
    text: z.string().min(1).max(100_000),
    tag: z.string().min(1).max(100).optional(),
  })
  .strict();

export const mailFaultsPatchSchema = z
  .object({
    failureRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(120_000),
    outageUntil: isoOrNull,
  })
  .partial()
  .strict();

const idempotencyKeySchema = z.string().trim().min(1).max(255);
const inboxQuery = z.object({ to: z.string().trim().toLowerCase().max(254).optional() });

const errorBody = (error: MailErrorBody['error'], detail?: unknown): MailErrorBody => (detail === undefined ? { error } : { error, detail });

/** Builds the simulator (not listening yet: see `start`). */
export function createMailSimulator(options: MailSimulatorOptions = {}): MailSimulator {
  const log = options.logger ?? pino({ level: 'silent' });
  const now = options.now ?? Date.now;
  const random = seededRandom(options.seed ?? 1);
  const faults: MailFaults = { ...DEFAULT_MAIL_FAULTS, ...options.faults };
  const stored = new Map<string, StoredResponse>();
  const inFlight = new Set<string>();
  const requestsByKey = new Map<string, number>();
  const messages: MailMessage[] = [];
  const sleepTimers = new Set<NodeJS.Timeout>();
  let sequence = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleepTimers.delete(timer);
        resolve();
      }, ms);
      sleepTimers.add(timer);
    });

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', messages: messages.length });
  });

  app.get('/admin/faults', (_req, res) => {
    res.json(faults);
  });

  app.put('/admin/faults', (req, res) => {
    const parsed = mailFaultsPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    Object.assign(faults, parsed.data);
    log.info({ faults }, 'faults updated');
    res.json(faults);
  });

  /** The inbox, newest first; `?to=` keeps one recipient's messages (case-insensitive). */
  app.get('/admin/messages', (req, res) => {
    const parsed = inboxQuery.safeParse(req.query);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const { to } = parsed.data;
    const list = (to ? messages.filter((m) => m.to.toLowerCase() === to) : messages).slice().reverse();
    res.json({ messages: list });
  });

  app.post('/v1/messages', async (req, res) => {
    const parsedKey = idempotencyKeySchema.safeParse(req.get(MAIL_IDEMPOTENCY_KEY_HEADER));
    if (!parsedKey.success) {
      res.status(400).json(errorBody('missing_idempotency_key', `${MAIL_IDEMPOTENCY_KEY_HEADER} header is required`));
      return;
    }
    const idempotencyKey = parsedKey.data;
    requestsByKey.set(idempotencyKey, (requestsByKey.get(idempotencyKey) ?? 0) + 1);
    const parsed = mailSendSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(errorBody('invalid_request', issues(parsed.error)));
      return;
    }
    const body = parsed.data;
    const fingerprint = canonicalJson(body);

    const previous = stored.get(idempotencyKey);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        res.status(422).json(errorBody('idempotency_key_reused', `this ${MAIL_IDEMPOTENCY_KEY_HEADER} was used with another message`));
        return;
      }
      log.info({ idempotencyKey }, 'replaying stored response');
      res.setHeader(MAIL_REPLAYED_HEADER, 'true');
      res.status(previous.status).json(previous.body);
      return;
    }
    if (inFlight.has(idempotencyKey)) {
      res.status(409).json(errorBody('idempotency_key_in_use', 'a request with this key is still being processed; retry later'));
      return;
    }
    inFlight.add(idempotencyKey);
    try {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      if (faults.outageUntil !== null && now() < Date.parse(faults.outageUntil)) {
        res.status(503).json(errorBody('outage', { until: faults.outageUntil }));
        return;
      }
      if (random() < faults.failureRate) {
        res.status(503).json(errorBody('unavailable'));
        return;
      }
      const accepted: MailAccepted = { messageId: `msg_${++sequence}`, status: 'accepted', acceptedAt: new Date(now()).toISOString() };
      messages.push({ ...body, messageId: accepted.messageId, idempotencyKey, acceptedAt: accepted.acceptedAt });
      stored.set(idempotencyKey, { fingerprint, status: 202, body: accepted });
      // Never the text: it may carry a secret (a verification token).
      log.info({ idempotencyKey, messageId: accepted.messageId, tag: body.tag }, 'message accepted');
      if (!res.destroyed) res.status(202).json(accepted);
    } finally {
      inFlight.delete(idempotencyKey);
    }
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

  async function start(port = 0, host = '127.0.0.1'): Promise<MailRunningServer> {
    return listen(app, { port, host, name: 'mail simulator', log, onClose: stop });
  }

  return { app, start, faults, messages, requestsByKey, stop };
}
