/**
 * Warehouse integration's instructions (`warehouse_integration.instructions`): one row per box,
 * the attempt's idempotency key and where it stands. The row moves only by compare-and-set, so
 * racing runs (a reset beside its old run's attempt) never overwrite each other's outcome.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { instructions } from '../../db/schema/warehouse-integration';

export type InstructionRow = typeof instructions.$inferSelect;
export type InstructionStatus = InstructionRow['status'];

/** The box's instruction row, if any attempt was ever recorded. */
export async function instructionOf(db: Db, orderId: string): Promise<InstructionRow | undefined> {
  const [row] = await db.select().from(instructions).where(eq(instructions.orderId, orderId));
  return row;
}

/** Whether the order's box was cancelled for good at the warehouse (read by the WMS webhook). */
export async function isShipmentCancelled(db: Db, orderId: string): Promise<boolean> {
  return (await instructionOf(db, orderId))?.status === 'cancelled';
}

/** Moves the row only if it is still in one of `from` (under `key` when given); true when it moved. */
export async function moveInstruction(db: Db, orderId: string, from: InstructionStatus[], set: Partial<InstructionRow>, key?: string): Promise<boolean> {
  const moved = await db
    .update(instructions)
    .set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(instructions.orderId, orderId), inArray(instructions.status, from), key === undefined ? undefined : eq(instructions.idempotencyKey, key)))
    .returning({ orderId: instructions.orderId });
  return moved.length > 0;
}

/** Writes the box's first row; false when one already exists (another run wrote it first). */
export async function insertInstruction(db: Db, row: typeof instructions.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(instructions).values(row).onConflictDoNothing().returning({ orderId: instructions.orderId });
  return inserted.length > 0;
}
