/**
 * Warehouse-integration activities: shipping instructions to the WMS, guarded against duplicates.
 *
 * Every attempt is recorded (`sending`, with its idempotency key) before the WMS is called, so an
 * attempt whose answer was lost is known to be *in doubt*, never mistaken for "nothing sent". A
 * cancel, a corrected address or a return pickup that meets an attempt in doubt resolves it with
 * the WMS by key first (`resolveInstruction`: accepted, refused, or voided so it can never take
 * effect later). The row moves only by compare-and-set (store/warehouse-integration/instructions.ts),
 * so racing runs (a reset beside its old run's attempt) never overwrite each other's outcome.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Db } from '../../db/client';
import { insertInstruction, instructionOf, moveInstruction, type InstructionRow, type InstructionStatus } from '../../store/warehouse-integration/instructions';
import { FailureType } from '../../workflows/failures';
import type { Address } from '../../workflows/orders/contract';
import { shippingInstructionKey } from '../../workflows/warehouse-integration/contract';
import { getShippingAddress } from '../../store/orders/orders';
import { addressFingerprint, type WmsClient } from './wms-client';
import type {
  SendShippingInstructionInput,
  SendShippingInstructionResult,
  CancelShippingInstructionInput,
  CancelShippingInstructionResult,
  WarehouseIntegrationActivities,
} from '../../workflows/warehouse-integration/contract';

const shipmentCancelled = (orderId: string): ApplicationFailure =>
  ApplicationFailure.create({ type: FailureType.ShipmentCancelled, message: `order ${orderId} is cancelled: no instruction is sent`, nonRetryable: true });

/** Creates the warehouse-integration activities over a database and a WMS client. */
export function createWarehouseIntegrationActivities({ db, wms }: { db: Db; wms: WmsClient }): WarehouseIntegrationActivities {
  const rowOf = (orderId: string) => instructionOf(db, orderId);
  const move = (orderId: string, from: InstructionStatus[], set: Partial<InstructionRow>, key?: string) => moveInstruction(db, orderId, from, set, key);

  /**
   * Settles an attempt in doubt by asking the WMS what became of its key. An accepted one is
   * adopted (`sent`); a refused or voided one can never ship, and is moved to `ifNotAccepted`.
   * Returns false when another run moved the row first (the caller reads it again).
   */
  async function resolveInDoubt(row: InstructionRow, ifNotAccepted: { status: InstructionStatus; detail: string }): Promise<boolean> {
    const resolved = await wms.resolveInstruction(row.idempotencyKey);
    log.info('instruction attempt in doubt resolved with the WMS', { orderId: row.orderId, idempotencyKey: row.idempotencyKey, outcome: resolved.outcome });
    if (resolved.outcome === 'accepted') {
      return move(row.orderId, ['sending'], { status: 'sent', instructionId: resolved.instructionId, detail: null }, row.idempotencyKey);
    }
    const detail = resolved.outcome === 'refused' ? `${ifNotAccepted.detail} (the WMS refused it: ${resolved.reason})` : ifNotAccepted.detail;
    return move(row.orderId, ['sending'], { status: ifNotAccepted.status, detail }, row.idempotencyKey);
  }

  /** Records an attempt under `key` before the WMS is called; false when the row changed meanwhile. */
  async function recordAttempt(orderId: string, row: InstructionRow | undefined, key: string): Promise<boolean> {
    if (!row) return insertInstruction(db, { orderId, idempotencyKey: key, status: 'sending' });
    if (row.status === 'sending' && row.idempotencyKey === key) return true;
    return move(orderId, [row.status], { idempotencyKey: key, status: 'sending', instructionId: null, detail: null }, row.idempotencyKey);
  }

  return {
    /**
     * Sends the order's shipping instruction once. The address is read fresh from the orders
     * domain (ops may have corrected it before a reset). An instruction the WMS already accepted
     * for this order is returned as is, so no retry, crash or reset ever ships a box twice; and an
     * earlier attempt under another address that is still in doubt is resolved with the WMS before
     * a new key is used (its acceptance is adopted rather than sending a second box).
     */
    async sendShippingInstruction(input: SendShippingInstructionInput): Promise<SendShippingInstructionResult> {
      const { orderId } = input;
      let row = await rowOf(orderId);
      let address: Address | undefined;
      let key: string | undefined;
      for (; ; row = await rowOf(orderId)) {
        if (row?.status === 'sent' && row.instructionId) return { instructionId: row.instructionId };
        // A confirmed cancel is final: a reset of a failed instruction workflow must not ship the box.
        if (row?.status === 'cancelled') throw shipmentCancelled(orderId);
        if (address === undefined || key === undefined) {
          address = await getShippingAddress(db, orderId);
          if (!address) {
            throw ApplicationFailure.create({ type: FailureType.NotFound, message: `order ${orderId} has no shipping address`, nonRetryable: true });
          }
          key = `${shippingInstructionKey(orderId)}:${addressFingerprint(address)}`;
        }
        if (row?.status === 'sending' && row.idempotencyKey !== key) {
          // The WMS may have accepted the attempt under the earlier address: a new key before
          // knowing would make a second instruction, and a second box.
          await resolveInDoubt(row, { status: 'rejected', detail: 'superseded by a corrected address' });
          continue;
        }
        if (await recordAttempt(orderId, row, key)) break;
      }

      try {
        const { instructionId } = await wms.sendInstruction(key, { ...input, address: address! });
        if (!(await move(orderId, ['sending'], { status: 'sent', instructionId, detail: null }, key))) {
          // A cancel resolved this attempt while the WMS answered: it adopted the instruction
          // (then cancelled it) or found it refused. Its record decides.
          const now = await rowOf(orderId);
          if (now?.status === 'cancelled') throw shipmentCancelled(orderId);
          if (now?.status !== 'sent' || now.instructionId !== instructionId) {
            throw new Error(`instruction ${instructionId} of ${orderId} accepted but its record moved to ${now?.status ?? 'nothing'}`);
          }
        }
        return { instructionId };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureType.AddressRejected) {
          await move(orderId, ['sending'], { status: 'rejected', detail: err.message }, key);
        } else if (err instanceof ApplicationFailure && err.type === FailureType.InstructionVoided && (await rowOf(orderId))?.status === 'cancelled') {
          throw shipmentCancelled(orderId);
        }
        // Anything else (timeout, reset connection, 5xx) leaves the attempt `sending`: in doubt
        // until a retry under the same key or a resolve by key settles it.
        log.warn('shipping instruction not accepted', { orderId, idempotencyKey: key, error: String(err) });
        throw err;
      }
    },

    /** Asks the WMS to pick the box up from the member (idempotent at the WMS: one return per instruction). */
    async requestReturnPickup(input: { orderId: string }): Promise<{ instructionId: string }> {
      let row = await rowOf(input.orderId);
      // Callbacks can carry a box to the member while the send's own answer is still in doubt.
      if (row?.status === 'sending') {
        await resolveInDoubt(row, { status: 'rejected', detail: 'never received by the WMS' });
        row = await rowOf(input.orderId);
      }
      if (!row?.instructionId || row.status !== 'sent') {
        throw ApplicationFailure.create({ type: FailureType.NotFound, message: `order ${input.orderId} has no shipped WMS instruction`, nonRetryable: true });
      }
      await wms.requestReturn(row.instructionId, `${shippingInstructionKey(input.orderId)}:return`);
      return { instructionId: row.instructionId };
    },

    /**
     * Cancels the order's instruction at the WMS, if one was accepted (idempotent). An attempt in
     * doubt is resolved by key first: accepted, it is cancelled like any other; never received, it
     * is voided at the WMS, so it can never ship the box later. The WMS's 409 (the box already
     * shipped) is an answer, not a failure: `already-shipped`.
     */
    async cancelShippingInstruction(input: CancelShippingInstructionInput): Promise<CancelShippingInstructionResult> {
      const { orderId } = input;
      for (;;) {
        const row = await rowOf(orderId);
        if (!row) {
          // Nothing was ever attempted. Recording the cancel keeps any later send (a reset of a
          // refused instruction) from shipping the box.
          const recorded = await insertInstruction(db, {
            orderId,
            idempotencyKey: shippingInstructionKey(orderId),
            status: 'cancelled',
            detail: 'cancelled before any instruction was sent',
          });
          if (recorded) return { outcome: 'nothing-to-cancel' };
          continue;
        }
        switch (row.status) {
          case 'cancelled':
            return row.instructionId ? { outcome: 'cancelled', instructionId: row.instructionId } : { outcome: 'nothing-to-cancel' };
          case 'rejected':
            if (await move(orderId, ['rejected'], { status: 'cancelled', detail: `cancelled after the WMS refused the instruction: ${row.detail ?? ''}` }))
              return { outcome: 'nothing-to-cancel' };
            continue;
          case 'sending':
            await resolveInDoubt(row, { status: 'cancelled', detail: 'cancelled while an attempt was in doubt; the WMS never accepted it' });
            continue;
          case 'sent': {
            const instructionId = row.instructionId!;
            try {
              await wms.cancelInstruction(instructionId, `${shippingInstructionKey(orderId)}:cancel`);
            } catch (err) {
              if (err instanceof ApplicationFailure && err.type === FailureType.AlreadyShipped) return { outcome: 'already-shipped', instructionId };
              throw err;
            }
            await move(orderId, ['sent'], { status: 'cancelled' });
            return { outcome: 'cancelled', instructionId };
          }
        }
      }
    },
  };
}
