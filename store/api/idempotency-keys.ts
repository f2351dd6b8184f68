/**
 * Idempotency-Key records (`api.idempotency_keys`): taking a key, completing it with the answer,
 * releasing it, and the key claim another domain's statement can embed so its rows and the key
 * commit together (store/orders/workflow-starts.ts). The HTTP side is api/idempotency.ts.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { idempotencyKeys } from '../../db/schema/api';

/** A request holding a key longer than this is presumed dead (crashed process): another may take over. */
const IN_FLIGHT_LOCK_MS = 60_000;

/** The key a request holds, for one member, and what makes a repeat "the same request". */
export interface KeyedRequest {
  customerId: string;
  key: string;
  fingerprint: string;
  expiresAt: Date;
}

/** An answer as stored for replay: status, the replayed headers, the body as sent. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A key taken together with the answer its request will give (a route whose answer is known before it writes). */
export interface AnsweredClaim {
  request: KeyedRequest;
  answer: StoredAnswer;
}

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/**
 * Takes the key: a new row, or one whose remembered response expired (forgotten), or one whose
 * in-flight holder is presumed dead (crashed; same request only). Returns the key when taken,
 * no row when someone else has it. With `answer` the row is written completed, answer included.
 * A statement of its own (one upsert with a conditional update is not something drizzle's builder says).
 */
export function claimKeySql(k: KeyedRequest, answer?: StoredAnswer): SQL {
  const [state, status, headers, body] = answer ? ['completed', answer.status, JSON.stringify(answer.headers), answer.body] : ['in_flight', null, null, null];
  return sql`
    insert into ${idempotencyKeys} (customer_id, key, fingerprint, state, expires_at, response_status, response_headers, response_body)
    values (${k.customerId}, ${k.key}, ${k.fingerprint}, ${state}, ${k.expiresAt.toISOString()}::text::timestamptz, ${status}::int, ${headers}::text::jsonb, ${body}::text)
    on conflict (customer_id, key) do update set
      fingerprint = excluded.fingerprint, state = excluded.state, locked_at = now(), response_status = excluded.response_status,
      response_headers = excluded.response_headers, response_body = excluded.response_body, expires_at = excluded.expires_at, created_at = now()
    where idempotency_keys.expires_at < now()
      or (idempotency_keys.state = 'in_flight' and idempotency_keys.locked_at < now() - ${`${IN_FLIGHT_LOCK_MS} milliseconds`}::interval
          and idempotency_keys.fingerprint = excluded.fingerprint)
    returning key`;
}

/** Takes the key for a request still to run (in flight); false when someone else holds it. */
export async function claimKey(db: Db, k: KeyedRequest): Promise<boolean> {
  return (await db.execute(claimKeySql(k))).length > 0;
}

/** The key's row, whoever holds it. */
export async function heldKey(db: Db, k: KeyedRequest): Promise<IdempotencyKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.customerId, k.customerId), eq(idempotencyKeys.key, k.key)))
    .limit(1);
  return row;
}

/** Lets go of a key still in flight (a 5xx, a crash, a client gone), so the client's retry runs again. */
export async function releaseKey(db: Db, customerId: string, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key), eq(idempotencyKeys.state, 'in_flight')));
}

/** Completes a key with the answer its request gave. */
export async function completeKey(db: Db, customerId: string, key: string, answer: StoredAnswer): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ state: 'completed', responseStatus: answer.status, responseHeaders: answer.headers, responseBody: answer.body })
    .where(and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key)));
}
