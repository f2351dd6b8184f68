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
  | 'refund_exceeds_charge' // 422
  | 'idempotency_key_reused' // 422 (same key, different body)
  | 'unavailable' // 503 (random failure, flaky card)
  | 'outage'; // 503 (outage window)

export interface PspErrorBody {
  error: PspErrorCode;
  detail?: unknown;
}

/** The simulator's fault knobs (`GET/PUT /admin/faults`, `PSP_*` env). */
export interface PspFaults {
  /** 0..1: chance a charge or refund is answered 503 `unavailable` (not stored under the key). */
  failureRate: number;
  /** Added delay before every charge or refund is answered. */
  latencyMs: number;
  /** ISO time; until then every charge and refund is answered 503 `outage`. */
  outageUntil: string | null;
}
