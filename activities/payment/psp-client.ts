/** HTTP client of the payment service provider. Maps its answers to retryable or typed permanent failures. */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../../workflows/failures';
import { postJson, type JsonAnswer } from '../http';

export interface PspChargeBody {
  amountCents: number;
  currency: 'EUR';
  cardToken: string;
  description: string;
  metadata: Record<string, string>;
}

/** Details of a {@link FailureType.CardDeclined} failure. */
export interface CardDeclinedDetails {
  code: string;
}

/** The calls closetflow makes to a PSP; tests may pass another implementation. */
export interface PspClient {
  /** Captures a charge; throws a non-retryable `CardDeclined` failure on a decline. */
  charge(idempotencyKey: string, body: PspChargeBody): Promise<{ chargeId: string }>;
  refund(idempotencyKey: string, body: { chargeId: string; amountCents: number }): Promise<{ refundId: string }>;
}

/** Creates a PSP client over fetch. */
export function createHttpPspClient({ baseUrl, timeoutMs = 10_000 }: { baseUrl: string; timeoutMs?: number }): PspClient {
  const post = (path: string, idempotencyKey: string, body: unknown): Promise<JsonAnswer> => postJson(baseUrl, path, idempotencyKey, body, timeoutMs);

  /** 5xx, 408, 429 and 409 (same key still in flight) are transient: a plain error, retried with backoff. */
  function failure(what: string, status: number, json: Record<string, unknown>): Error {
    if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
      return ApplicationFailure.create({ type: FailureType.PaymentRejected, message: `PSP refused the ${what} (${status}): ${JSON.stringify(json)}`, nonRetryable: true });
    }
    return new Error(`PSP unavailable for the ${what} (${status}): ${JSON.stringify(json)}`);
  }

  return {
    async charge(idempotencyKey, body) {
      const { status, json } = await post('/v1/charges', idempotencyKey, body);
      if (status === 200 || status === 201) return { chargeId: String(json.chargeId) };
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

    async refund(idempotencyKey, body) {
      const { status, json } = await post('/v1/refunds', idempotencyKey, body);
      if (status === 200 || status === 201) return { refundId: String(json.refundId) };
      throw failure('refund', status, json);
    },
  };
}
