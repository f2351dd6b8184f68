/**
 * The HTTP contract between closetflow and the payment service provider (PSP).
 *
 * Pure types and constants only (no Node built-ins), so the API, the payment worker and the
 * simulator can all import it.
 */

/** Header required on every `POST` (charges and refunds). */
export const PSP_IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Set on a response that replays the stored answer of an earlier request with the same key. */
export const PSP_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Test card tokens and what the PSP does with them:
 * - `tok_visa`: succeeds.
 * - `tok_decline`: 402 `card_declined`.
 * - `tok_insufficient_funds`: 402 `insufficient_funds`.
 * - `tok_flaky`: 503 on the first 2 attempts of each idempotency key, then succeeds.
 * - `tok_slow`: answers after 3 s.
 */
export const PSP_TEST_CARDS = ['tok_visa', 'tok_decline', 'tok_insufficient_funds', 'tok_flaky', 'tok_slow'] as const;
export type PspTestCard = (typeof PSP_TEST_CARDS)[number];

/** How many attempts of one key `tok_flaky` answers 503 before it succeeds. */
export const PSP_FLAKY_FAILURES = 2;
/** Latency of `tok_slow`. */
export const PSP_SLOW_MS = 3000;

/** Body of `POST /v1/charges`. */
export interface PspChargeRequest {
  amountCents: number;
  currency: 'EUR';
  cardToken: string;
  description: string;
  metadata: Record<string, string>;
}

/** A captured charge: 201 body of `POST /v1/charges` and body of `GET /v1/charges/:id`. */
export interface PspCharge {
  chargeId: string;
  status: 'captured';
  amountCents: number;
  currency: 'EUR';
  cardToken: string;
  description: string;
  metadata: Record<string, string>;
  refundedCents: number;
  createdAt: string;
}

/** Body of `POST /v1/refunds`. */
export interface PspRefundRequest {
  chargeId: string;
  amountCents: number;
}

/** 201 body of `POST /v1/refunds`. */
export interface PspRefund {
  refundId: string;
  chargeId: string;
  amountCents: number;
  status: 'succeeded';
  createdAt: string;
}

/** One capture in the PSP's ledger (`GET /admin/charges`): what a test asserts "charged at most once" on. */
export interface PspLedgerEntry {
  chargeId: string;
  idempotencyKey: string;
  amountCents: number;
  cardToken: string;
  metadata: Record<string, string>;
  capturedAt: string;
}

/** Error codes the PSP answers with, and the HTTP status that carries each. */
export type PspErrorCode =
  | 'invalid_request' // 400
  | 'missing_idempotency_key' // 400
  | 'card_declined' // 402
  | 'insufficient_funds' // 402
  | 'not_found' // 404
  | 'idempotency_key_in_use' // 409 (a request with this key is still being processed)
  | 'idempotency_key_voided' // 409 (the key was resolved as never received: it can no longer take effect)
  | 'refund_exceeds_charge' // 422
  | 'idempotency_key_reused' // 422 (same key, different body)
  | 'unavailable' // 503 (random failure, flaky card)
  | 'outage'; // 503 (outage window)

export interface PspErrorBody {
  error: PspErrorCode;
  detail?: unknown;
}

/** Body of `POST /v1/charges/resolve`: the key of a charge whose answer closetflow never got. */
export interface PspResolveRequest {
  idempotencyKey: string;
}

/**
 * 200 body of `POST /v1/charges/resolve`: what became of the charge sent under the key.
 * `captured` / `declined` / `refused` (another final 4xx): its stored answer; `voided`: the PSP
 * never received it, and from now on refuses it (409 `idempotency_key_voided`), so a request still
 * on its way can never capture later — the simulator's form of a provider's "technical cancel" by
 * merchant reference. A key still being processed answers 409 `idempotency_key_in_use` (ask again).
 */
export type PspResolveResponse =
  | { outcome: 'captured'; chargeId: string; amountCents: number }
  | { outcome: 'declined'; code: PspErrorCode }
  | { outcome: 'refused'; status: number; error: PspErrorCode }
  | { outcome: 'voided' };

/** The simulator's fault knobs (`GET/PUT /admin/faults`, `PSP_*` env). */
export interface PspFaults {
  /** 0..1: chance a charge or refund is answered 503 `unavailable` (not stored under the key). */
  failureRate: number;
  /** Added delay before every charge or refund takes effect (the key is in flight meanwhile). */
  latencyMs: number;
  /** ISO time; until then every charge and refund is answered 503 `outage`. */
  outageUntil: string | null;
  /** 0..1: chance a charge or refund is refused for good, 400 `invalid_request` (stored under the key). */
  refuseRate: number;
  /** 0..1: chance a call takes effect and its answer is then lost (the connection is dropped). */
  lostAnswerRate: number;
  /** The next N calls take effect and their answers are lost (counts down; deterministic). */
  loseAnswers: number;
  /** A call takes effect and its answer is held this long (past the client's timeout it is lost). */
  answerDelayMs: number;
}
