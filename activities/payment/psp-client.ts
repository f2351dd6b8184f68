/** HTTP client of the payment service provider. Maps its answers to retryable or typed permanent failures. */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../../workflows/failures';
import { postJson, type JsonAnswer } from '../http';
import type { CardDeclinedDetails } from '../../workflows/payment/contract';

export interface PspChargeBody {
  amountCents: number;
  currency: 'EUR';
  cardToken: string;
  description: string;
  metadata: Record<string, string>;
}

/**
 * What became of a charge sent under a key whose answer never came. `voided`: the PSP never
 * received it and refuses it from now on, so it can never capture later.
 */
export type ResolvedCharge =
  { outcome: 'captured'; chargeId: string } | { outcome: 'declined'; code: string } | { outcome: 'refused'; reason: string } | { outcome: 'voided' };

/** The calls closetflow makes to a PSP; tests may pass another implementation. */
export interface PspClient {
  /** Captures a charge; throws a non-retryable `CardDeclined` failure on a decline. */
  charge(idempotencyKey: string, body: PspChargeBody): Promise<{ chargeId: string }>;
  /**
   * Resolves an attempt whose answer never came, by its idempotency key. A key the PSP is still
   * processing is a plain (retryable) error: ask again until it has an answer.
   */
  resolveCharge(idempotencyKey: string): Promise<ResolvedCharge>;
  refund(idempotencyKey: string, body: { chargeId: string; amountCents: number }): Promise<{ refundId: string }>;
}

/** Creates a PSP client over fetch. */
export function createHttpPspClient({ baseUrl, timeoutMs = 10_000 }: { baseUrl: string; timeoutMs?: number }): PspClient {
  const post = (path: string, idempotencyKey: string, body: unknown): Promise<JsonAnswer> => postJson(baseUrl, path, idempotencyKey, body, timeoutMs);

  /** 5xx, 408, 429 and 409 (same key still in flight) are transient: a plain error, retried with backoff. */
  function failure(what: string, status: number, json: Record<string, unknown>): Error {
    if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
      return ApplicationFailure.create({
        type: FailureType.PaymentRejected,
        message: `PSP refused the ${what} (${status}): ${JSON.stringify(json)}`,
        nonRetryable: true,
      });
    }
    return new Error(`PSP unavailable for the ${what} (${status}): ${JSON.stringify(json)}`);
  }

  /** 409 `idempotency_key_voided`: this request can never take effect; not a transient 409. */
  function voided(what: string, status: number, json: Record<string, unknown>): ApplicationFailure | undefined {
    if (status !== 409 || json.error !== 'idempotency_key_voided') return undefined;
    return ApplicationFailure.create({
      type: FailureType.ChargeVoided,
      message: `PSP refused the ${what}: its key was voided when payment resolved the attempt`,
      nonRetryable: true,
    });
  }

  return {
    async charge(idempotencyKey, body) {
      const { status, json } = await post('/v1/charges', idempotencyKey, body);
      if (status === 200 || status === 201) return { chargeId: String(json.chargeId) };
      const wasVoided = voided('charge', status, json);
      if (wasVoided) throw wasVoided;
      if (status === 402) {
        const code = typeof json.error === 'string' ? json.error : 'card_declined';
        throw ApplicationFailure.create({
          type: FailureType.CardDeclined,
          message: `card declined: ${code}`,
          nonRetryable: true,
          details: [{ code } satisfies CardDeclinedDetails],
        });
      }
      throw failure('charge', status, json);
    },

    async resolveCharge(idempotencyKey) {
      const { status, json } = await post('/v1/charges/resolve', `${idempotencyKey}:resolve`, { idempotencyKey });
      // 409: the PSP is still processing the attempt; 5xx: down. Both: ask again.
      if (status !== 200) throw new Error(`PSP could not resolve ${idempotencyKey} yet (${status}): ${JSON.stringify(json)}`);
      switch (json.outcome) {
        case 'captured':
          return { outcome: 'captured', chargeId: String(json.chargeId) };
        case 'declined':
          return { outcome: 'declined', code: String(json.code) };
        case 'refused':
          return { outcome: 'refused', reason: `${String(json.status)} ${String(json.error)}` };
        case 'voided':
          return { outcome: 'voided' };
        default:
          throw new Error(`PSP answered an unknown resolve outcome for ${idempotencyKey}: ${JSON.stringify(json)}`);
      }
    },

    async refund(idempotencyKey, body) {
      const { status, json } = await post('/v1/refunds', idempotencyKey, body);
      if (status === 200 || status === 201) return { refundId: String(json.refundId) };
      throw failure('refund', status, json);
    },
  };
}
