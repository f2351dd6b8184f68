/** Warehouse-integration activities: shipping instructions to the WMS, guarded against duplicates. */
import { ApplicationFailure, log } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { instructions } from '../../db/schema/warehouse-integration';
import { FailureType } from '../../workflows/failures';
import { shippingInstructionKey } from '../../workflows/warehouse-integration/contract';
import { getShippingAddress } from '../orders';
import { addressFingerprint, type WmsClient } from './wms-client';

export interface SendShippingInstructionInput {
  orderId: string;
  customerId: string;
  items: { itemId: string; sku: string }[];
}
export interface SendShippingInstructionResult {
  instructionId: string;
}
export interface CancelShippingInstructionInput {
  orderId: string;
}
export interface CancelShippingInstructionResult {
  /** already-shipped: the WMS answered 409, the box has left (the instruction stays `sent`). */
  outcome: 'cancelled' | 'nothing-to-cancel' | 'already-shipped';
  instructionId?: string;
}

/** Creates the warehouse-integration activities over a database and a WMS client. */
export function createWarehouseIntegrationActivities({ db, wms }: { db: Db; wms: WmsClient }) {
  return {
    /**
     * Sends the order's shipping instruction once. The address is read fresh from the orders
     * domain (ops may have corrected it before a reset). An instruction the WMS already accepted
     * for this order is returned as is, so no retry, crash or reset ever ships a box twice.
     */
    async sendShippingInstruction(input: SendShippingInstructionInput): Promise<SendShippingInstructionResult> {
      const [row] = await db.select().from(instructions).where(eq(instructions.orderId, input.orderId));
      if (row?.status === 'sent' && row.instructionId) return { instructionId: row.instructionId };
      // A confirmed cancel is final: a reset of a failed instruction workflow must not ship the box.
      if (row?.status === 'cancelled') {
        throw ApplicationFailure.create({ type: FailureType.ShipmentCancelled, message: `order ${input.orderId} is cancelled: no instruction is sent`, nonRetryable: true });
      }

      const address = await getShippingAddress(db, input.orderId);
      if (!address) {
        throw ApplicationFailure.create({ type: FailureType.NotFound, message: `order ${input.orderId} has no shipping address`, nonRetryable: true });
      }
      const key = `${shippingInstructionKey(input.orderId)}:${addressFingerprint(address)}`;
      try {
        const { instructionId } = await wms.sendInstruction(key, { ...input, address });
        await db
          .insert(instructions)
          .values({ orderId: input.orderId, idempotencyKey: key, instructionId, status: 'sent' })
          .onConflictDoUpdate({ target: instructions.orderId, set: { idempotencyKey: key, instructionId, status: 'sent', detail: null } });
        return { instructionId };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureType.AddressRejected) {
          await db
            .insert(instructions)
            .values({ orderId: input.orderId, idempotencyKey: key, status: 'rejected', detail: err.message })
            .onConflictDoUpdate({ target: instructions.orderId, set: { idempotencyKey: key, status: 'rejected', detail: err.message } });
        }
        log.warn('shipping instruction not accepted', { orderId: input.orderId, error: String(err) });
        throw err;
      }
    },

    /** Asks the WMS to pick the box up from the member (idempotent at the WMS: one return per instruction). */
    async requestReturnPickup(input: { orderId: string }): Promise<{ instructionId: string }> {
      const [row] = await db.select().from(instructions).where(eq(instructions.orderId, input.orderId));
      if (!row?.instructionId || row.status !== 'sent') {
        throw ApplicationFailure.create({ type: FailureType.NotFound, message: `order ${input.orderId} has no shipped WMS instruction`, nonRetryable: true });
      }
      await wms.requestReturn(row.instructionId, `${shippingInstructionKey(input.orderId)}:return`);
      return { instructionId: row.instructionId };
    },

    /**
     * Cancels the order's instruction at the WMS, if one was accepted (idempotent). The WMS's 409
     * (the box already shipped) is an answer, not a failure: `already-shipped`.
     */
    async cancelShippingInstruction(input: CancelShippingInstructionInput): Promise<CancelShippingInstructionResult> {
      let [row] = await db.select().from(instructions).where(eq(instructions.orderId, input.orderId));
      if (row?.status === 'cancelled' && row.instructionId) return { outcome: 'cancelled', instructionId: row.instructionId };
      if (!row?.instructionId || row.status !== 'sent') {
        // Nothing accepted: the WMS never got an instruction it could act on. Record the cancel, so
        // that no later send (a reset of a refused instruction) can ship the box.
        const detail = 'cancelled before the WMS accepted an instruction';
        await db
          .insert(instructions)
          .values({ orderId: input.orderId, idempotencyKey: shippingInstructionKey(input.orderId), status: 'cancelled', detail })
          .onConflictDoUpdate({ target: instructions.orderId, set: { status: 'cancelled', detail }, setWhere: sql`${instructions.status} <> 'sent'` });
        [row] = await db.select().from(instructions).where(eq(instructions.orderId, input.orderId));
        // A send that won the race (a concurrent reset run) is cancelled at the WMS below.
        if (!row?.instructionId || row.status !== 'sent') return { outcome: 'nothing-to-cancel' };
      }
      try {
        await wms.cancelInstruction(row.instructionId, `${shippingInstructionKey(input.orderId)}:cancel`);
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureType.AlreadyShipped) return { outcome: 'already-shipped', instructionId: row.instructionId };
        throw err;
      }
      await db.update(instructions).set({ status: 'cancelled' }).where(eq(instructions.orderId, input.orderId));
      return { outcome: 'cancelled', instructionId: row.instructionId };
    },
  };
}
export type WarehouseIntegrationActivities = ReturnType<typeof createWarehouseIntegrationActivities>;
