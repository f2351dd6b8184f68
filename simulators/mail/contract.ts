/**
 * The HTTP contract between closetflow and its transactional e-mail provider.
 *
 * Pure types and constants only (no Node built-ins), so the API, scripts and the simulator can
 * all import it.
 */

/** Header required on `POST /v1/messages`: one message per key, however often it is retried. */
export const MAIL_IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Set on a response that replays the stored answer of an earlier request with the same key. */
export const MAIL_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Body of `POST /v1/messages`: one plain-text message to one recipient. */
export interface MailSendRequest {
  to: string;
  subject: string;
  text: string;
  /** The sender's name for the kind of message (e.g. `verify-email`), for the provider's statistics. */
  tag?: string;
}

/** 202 body of `POST /v1/messages`: the provider accepted the message for delivery. */
export interface MailAccepted {
  messageId: string;
  status: 'accepted';
  acceptedAt: string;
}

/** A message as the simulator's inbox lists it (`GET /admin/messages?to=<email>`, newest first). */
export interface MailMessage extends MailSendRequest {
  messageId: string;
  idempotencyKey: string;
  acceptedAt: string;
}

/** Body of `GET /admin/messages`. */
export interface MailMessageList {
  messages: MailMessage[];
}

export type MailErrorCode =
  | 'invalid_request' // 400
  | 'missing_idempotency_key' // 400
  | 'not_found' // 404
  | 'idempotency_key_in_use' // 409 (the first request with this key is still being processed)
  | 'idempotency_key_reused' // 422 (same key, another message)
  | 'unavailable' // 503 (random failure)
  | 'outage'; // 503 (outage window)

/** Body of every non-2xx answer. */
export interface MailErrorBody {
  error: MailErrorCode;
  detail?: unknown;
}

/** Fault knobs (`GET`/`PUT /admin/faults`). */
export interface MailFaults {
  /** 0..1: chance a send is answered 503 `{ error: 'unavailable' }` (nothing is sent). */
  failureRate: number;
  /** Added delay before every send is answered. */
  latencyMs: number;
  /** ISO time; until then every send is answered 503 `{ error: 'outage' }`. */
  outageUntil: string | null;
}
