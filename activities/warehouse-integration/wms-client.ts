/** HTTP client of the third-party WMS. Maps its answers to retryable or typed permanent failures. */
import { ApplicationFailure } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { FailureType } from '../../workflows/failures';
import type { Address } from '../../workflows/orders/contract';
import { postJson, type JsonAnswer } from '../http';

export interface ShippingInstruction {
  orderId: string;
  customerId: string;
  items: { itemId: string; sku: string }[];
  address: Address;
}

/**
 * What became of an instruction sent under a key whose answer was lost. `voided`: the WMS never
 * received it and will refuse it from now on, so it can never ship a box later.
 */
export type ResolvedInstruction = { outcome: 'accepted'; instructionId: string } | { outcome: 'refused'; reason: string } | { outcome: 'voided' };

/** The calls closetflow makes to a WMS; tests may pass another implementation speaking real HTTP. */
export interface WmsClient {
  sendInstruction(idempotencyKey: string, instruction: ShippingInstruction): Promise<{ instructionId: string }>;
  /** Resolves a send whose answer never came (lost, timed out): asks the WMS by idempotency key. */
  resolveInstruction(idempotencyKey: string): Promise<ResolvedInstruction>;
  cancelInstruction(instructionId: string, idempotencyKey: string): Promise<{ status: 'cancelled' | 'not-found' }>;
  /** Asks the WMS to collect the box from the member (the simulator then reports `return_arrived`). */
  requestReturn(instructionId: string, idempotencyKey: string): Promise<{ status: 'return_requested' }>;
}

/** A fingerprint of the address, part of the idempotency key: a corrected address is a new request. */
export function addressFingerprint(address: Address): string {
  return createHash('sha256').update(JSON.stringify(address)).digest('hex').slice(0, 12);
}

/** Creates a WMS client over fetch. */
export function createHttpWmsClient({ baseUrl, timeoutMs = 10_000 }: { baseUrl: string; timeoutMs?: number }): WmsClient {
  const call = (path: string, idempotencyKey: string, body: unknown): Promise<JsonAnswer> => postJson(baseUrl, path, idempotencyKey, body, timeoutMs);

  return {
    async sendInstruction(idempotencyKey, instruction) {
      const { status, json } = await call('/v1/instructions', idempotencyKey, instruction);
      if (status === 200 || status === 201) return { instructionId: String(json.instructionId) };
      if (status === 409 && json.error === 'idempotency_key_voided') {
        throw ApplicationFailure.create({
          type: FailureType.InstructionVoided,
          message: 'the WMS refused the instruction: its key was voided when closetflow resolved the attempt (a cancel or a corrected address took its place)',
          nonRetryable: true,
        });
      }
      if (status === 422 && json.error === 'address_rejected') {
        throw ApplicationFailure.create({
          type: FailureType.AddressRejected,
          message: `WMS rejected the address: ${String(json.detail ?? 'no detail')}`,
          nonRetryable: true,
          details: [json],
        });
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw ApplicationFailure.create({
          type: FailureType.InstructionRejected,
          message: `WMS refused the instruction (${status}): ${JSON.stringify(json)}`,
          nonRetryable: true,
        });
      }
      // 5xx, 408, 429: the WMS is down or overloaded. A plain error is retried with backoff.
      throw new Error(`WMS unavailable (${status}): ${JSON.stringify(json)}`);
    },

    async resolveInstruction(idempotencyKey) {
      const { status, json } = await call('/v1/instructions/resolve', `${idempotencyKey}:resolve`, { idempotencyKey });
      if (status !== 200) throw new Error(`WMS could not resolve ${idempotencyKey} (${status}): ${JSON.stringify(json)}`);
      if (json.outcome === 'accepted') return { outcome: 'accepted', instructionId: String(json.instructionId) };
      if (json.outcome === 'refused') return { outcome: 'refused', reason: `${String(json.error)}: ${JSON.stringify(json.detail ?? null)}` };
      if (json.outcome === 'voided') return { outcome: 'voided' };
      throw new Error(`WMS answered an unknown resolve outcome for ${idempotencyKey}: ${JSON.stringify(json)}`);
    },

    async cancelInstruction(instructionId, idempotencyKey) {
      const { status, json } = await call(`/v1/instructions/${encodeURIComponent(instructionId)}/cancel`, idempotencyKey, {});
      if (status === 200) return { status: 'cancelled' };
      if (status === 404) return { status: 'not-found' };
      if (status === 409) {
        throw ApplicationFailure.create({ type: FailureType.AlreadyShipped, message: 'WMS has already shipped the box', nonRetryable: true });
      }
      throw new Error(`WMS cancel failed (${status}): ${JSON.stringify(json)}`);
    },

    async requestReturn(instructionId, idempotencyKey) {
      const { status, json } = await call(`/v1/instructions/${encodeURIComponent(instructionId)}/return-arrival`, idempotencyKey, {});
      if (status === 200 || status === 202) return { status: 'return_requested' };
      if (status === 404) {
        throw ApplicationFailure.create({ type: FailureType.NotFound, message: `WMS knows no instruction ${instructionId}`, nonRetryable: true });
      }
      // 409 not_delivered: the WMS has not recorded the delivery yet; 5xx: down. Both are retried.
      throw new Error(`WMS return request failed (${status}): ${JSON.stringify(json)}`);
    },
  };
}
