/**
 * `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header) for POSTs that create
 * something. Keys are scoped to the authenticated member and remembered in `api.idempotency_keys`
 * for IDEMPOTENCY_KEY_TTL_HOURS:
 *  - first request with a key: runs, and its response is stored before it is sent;
 *  - same key, same method, path and body: the stored response again, with `Idempotent-Replayed: true`;
 *  - same key, another request: 422 `idempotency-key-reused`;
 *  - same key while the first request still runs: 409 `idempotency-key-in-flight` (Retry-After);
 *  - a 5xx (or a crash) releases the key, so the client's retry runs again.
 * Without the header a request runs as usual (the key is optional, as in Stripe's API).
 *
 * Two ways in: the {@link idempotent} middleware (claim the key, run the route, store its answer:
 * purchases), and an {@link AnsweredClaim} for a route whose answer is known before it writes
 * (placing an order): the store writes the key, the answer and the route's own rows in one
 * statement, so a refusal (400, 403) writes nothing and is not remembered, as Stripe does for
 * requests that fail validation. The records themselves are store/api/idempotency-keys.ts.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/client';
import { claimKey, completeKey, heldKey, releaseKey, type KeyedRequest, type StoredAnswer } from '../store/api/idempotency-keys';
import { principal } from './auth/middleware';
import { ProblemError } from './problems';
import { ctx } from './request-context';
import { RequestValidationError } from './validation';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** Printable ASCII without separators, up to 255 characters (a UUID is the usual choice). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:~-]{1,255}$/;
/** Response headers worth replaying. */
const REPLAYED_HEADERS = ['content-type', 'location'];

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests "the same": method, path and canonical JSON body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

/** The idempotency key of a request, validated; undefined when the header is absent. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new RequestValidationError([
      { in: 'header', path: IDEMPOTENCY_KEY_HEADER, message: 'must be 1-255 characters of A-Z a-z 0-9 . _ : ~ -', code: 'invalid_idempotency_key' },
    ]);
  }
  return key;
}

export type { AnsweredClaim, KeyedRequest, StoredAnswer } from '../store/api/idempotency-keys';

/** The keyed request behind `req` (after requireAuth); undefined without an Idempotency-Key. */
export function keyedRequest(req: Request, res: Response, ttlHours: number): KeyedRequest | undefined {
  const key = idempotencyKeyOf(req);
  if (key === undefined) return undefined;
  return {
    customerId: principal(res).customerId,
    key,
    fingerprint: requestFingerprint(req.method, req.originalUrl.split('?')[0], req.body),
    expiresAt: new Date(Date.now() + ttlHours * 3600_000),
  };
}

/** Sends a stored answer; `replayed` marks it as the answer to an earlier request. */
export function sendAnswer(res: Response, answer: StoredAnswer, replayed = false): void {
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (replayed) res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  res.status(answer.status).send(answer.body);
}

/**
 * Answers a request whose key another request holds or held: 422 if that was a different
 * request, 409 while it still runs, else its stored answer again.
 */
export async function answerForHeldKey(db: Db, res: Response, k: KeyedRequest): Promise<void> {
  const row = await heldKey(db, k);
  if (!row) throw new ProblemError('idempotency-key-in-flight', 'The key was released while we looked; retry.', {}, { 'Retry-After': '1' });
  if (row.fingerprint !== k.fingerprint)
    throw new ProblemError(
      'idempotency-key-reused',
      `This ${IDEMPOTENCY_KEY_HEADER} was first used with a different method, path or body; use a new key for a new request.`,
    );
  if (row.state === 'in_flight' || row.responseStatus === null || row.responseBody === null) {
    throw new ProblemError(
      'idempotency-key-in-flight',
      `The first request with this ${IDEMPOTENCY_KEY_HEADER} has not finished; retry shortly.`,
      {},
      { 'Retry-After': '1' },
    );
  }
  ctx(res).log.info({ idempotencyKey: k.key, status: row.responseStatus }, 'idempotent replay');
  sendAnswer(res, { status: row.responseStatus, headers: row.responseHeaders ?? {}, body: row.responseBody }, true);
}

/**
 * Answers a request whose key is already held, as {@link answerForHeldKey} does, and says whether
 * it did; a key nobody holds is left alone (false).
 */
export async function answerIfKeyHeld(db: Db, res: Response, k: KeyedRequest): Promise<boolean> {
  if (!(await heldKey(db, k))) return false;
  await answerForHeldKey(db, res, k);
  return true;
}

/**
 * Idempotency for one route (after requireAuth): claims the key, runs the route, and stores its
 * response (status < 500) before the client can see it; every write waits for the WAL flush, so a
 * replayed answer is one that was really given.
 */
export function idempotent({ db, ttlHours }: { db: Db; ttlHours: number }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const k = keyedRequest(req, res, ttlHours);
    if (k === undefined) return next();
    const { customerId, key } = k;

    if (!(await claimKey(db, k))) return answerForHeldKey(db, res, k);

    // Ours: run the route, and store its response before the client can see it.
    const log = ctx(res).log.child({ idempotencyKey: key });
    const release = (): Promise<unknown> => releaseKey(db, customerId, key).catch((err: unknown) => log.warn({ err }, 'could not release idempotency key'));
    const send = res.send.bind(res);
    let settled = false;
    res.send = ((body?: unknown) => {
      if (settled) return send(body);
      settled = true;
      const status = res.statusCode;
      if (status >= 500) {
        void release().then(() => send(body));
        return res;
      }
      const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : body === undefined ? '' : JSON.stringify(body);
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = res.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      completeKey(db, customerId, key, { status, headers, body: text }).then(
        () => send(body),
        (err: unknown) => {
          // Not stored, so not promised: release the key and let the client retry.
          log.error({ err }, 'could not store idempotent response');
          void release().then(() => {
            res.status(500);
            send(
              JSON.stringify({
                type: 'https://closetflow.dev/problems/internal',
                title: 'Internal server error',
                status: 500,
                requestId: ctx(res).requestId,
              }),
            );
          });
        },
      );
      return res;
    }) as Response['send'];
    // A response that never completes (client gone, crash in a handler) must not hold the key.
    res.on('close', () => {
      if (!settled) void release();
    });
    next();
  };
}
