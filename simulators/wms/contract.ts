/**
 * The HTTP contract between closetflow and the warehouse management system (WMS).
 *
 * Pure types and constants only: no Node built-ins, no runtime dependencies, so the API, the
 * workers and the simulator can all import it. Signing and verification (which need node:crypto)
 * live in ./signature.ts.
 */

/** Header that must accompany `POST /v1/instructions` (optional on cancel). */
export const WMS_IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Header carrying the callback signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WMS_SIGNATURE_HEADER = 'X-WMS-Signature';

/** How far (seconds) a callback timestamp may be from the receiver's clock before it is refused. */
export const WMS_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Every status a WMS callback can report, in the order a shipment normally reaches them. */
export const WMS_CALLBACK_STATUSES = ['picked', 'packed', 'shipped', 'delivered', 'return_arrived'] as const;
export type WmsCallbackStatus = (typeof WMS_CALLBACK_STATUSES)[number];

/** The forward steps a shipment goes through after an instruction is accepted. */
export const WMS_SHIPMENT_STEPS = ['picked', 'packed', 'shipped', 'delivered'] as const;
export type WmsShipmentStep = (typeof WMS_SHIPMENT_STEPS)[number];

/** State of an instruction as reported by `GET /v1/instructions/:instructionId`. */
export type WmsInstructionStatus = 'accepted' | WmsShipmentStep | 'cancelled';

export interface WmsAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postcode: string;
  country: string;
}

export interface WmsInstructionItem {
  itemId: string;
  sku: string;
}

/** Body of `POST /v1/instructions`. */
export interface WmsCreateInstructionRequest {
  orderId: string;
  customerId: string;
  items: WmsInstructionItem[];
  address: WmsAddress;
}

/** 201 body of `POST /v1/instructions`. */
export interface WmsCreateInstructionResponse {
  instructionId: string;
  status: 'accepted';
}

/** 200 body of `POST /v1/instructions/:instructionId/cancel`. */
export interface WmsCancelResponse {
  status: 'cancelled';
}

/** Body of `POST /v1/instructions/resolve`: the key of a create whose answer closetflow never got. */
export interface WmsResolveRequest {
  idempotencyKey: string;
}

/**
 * 200 body of `POST /v1/instructions/resolve`: what became of the create sent under the key.
 * `accepted`: the WMS holds an instruction for it (`status` as now); `refused`: it answered with a
 * final refusal (e.g. `address_rejected`); `voided`: it never received it, and from now on refuses
 * it (409 `idempotency_key_voided`), so a request still on its way can never take effect later.
 */
export type WmsResolveResponse =
  | { outcome: 'accepted'; instructionId: string; status: WmsInstructionStatus }
  | { outcome: 'refused'; error: WmsErrorCode; detail?: unknown }
  | { outcome: 'voided' };

/** 202 body of `POST /v1/instructions/:instructionId/return-arrival`. */
export interface WmsReturnArrivalResponse {
  status: 'return_arrived';
}

/** Body of `GET /v1/instructions/:instructionId`. */
export interface WmsInstructionView {
  instructionId: string;
  orderId: string;
  customerId: string;
  items: WmsInstructionItem[];
  address: WmsAddress;
  status: WmsInstructionStatus;
  trackingNumber?: string;
  createdAt: string;
  /** When each step (and cancellation / return arrival) happened, ISO timestamps. */
  history: { status: WmsInstructionStatus | 'return_arrived'; at: string }[];
  returnArrivedAt?: string;
}

/** Error codes the WMS answers with, and the HTTP status that carries each. */
export type WmsErrorCode =
  | 'invalid_request' // 400
  | 'missing_idempotency_key' // 400
  | 'not_found' // 404
  | 'already_shipped' // 409 (cancel after shipment)
  | 'not_delivered' // 409 (return arrival before delivery)
  | 'idempotency_key_reused' // 422
  | 'idempotency_key_voided' // 409 (the key was resolved as never received: it can no longer take effect)
  | 'address_rejected' // 422
  | 'unavailable' // 503 (random failure)
  | 'outage'; // 503 (outage window)

export interface WmsErrorBody {
  error: WmsErrorCode;
  detail?: unknown;
}

/** Body the WMS POSTs to closetflow's callback URL, signed with {@link WMS_SIGNATURE_HEADER}. */
export interface WmsCallback {
  /** Unique per logical callback (`<instructionId>:<status>`); redeliveries and duplicates reuse it. */
  callbackId: string;
  instructionId: string;
  orderId: string;
  customerId: string;
  status: WmsCallbackStatus;
  /** When the event happened at the warehouse (not when it was sent). */
  occurredAt: string;
  /** Present on `shipped` and `delivered` callbacks. */
  trackingNumber?: string;
}

/** The simulator's fault knobs (`GET/PUT /admin/faults`). */
export interface WmsFaults {
  /** 0..1: chance an instruction call is answered 503 `{ error: 'unavailable' }`. */
  failureRate: number;
  /** Added delay before every instruction call takes effect (the request is in flight meanwhile). */
  latencyMs: number;
  /** ISO time; until then every instruction call is answered 503 `{ error: 'outage' }`. */
  outageUntil: string | null;
  /** Case-insensitive substring; an address field containing it is refused 422. Empty disables. */
  rejectAddressPattern: string;
  /** 0..1: chance a callback is delivered twice (same callbackId). */
  duplicateRate: number;
  /** 0..1: chance an instruction's packed and shipped callbacks are sent in swapped order. */
  outOfOrderRate: number;
  /** Milliseconds between shipment steps. */
  stepMs: number;
  /** 0..1: chance a call takes effect and its answer is then lost (the connection is dropped). */
  lostAnswerRate: number;
  /** The next N calls take effect and their answers are lost (counts down; deterministic). */
  loseAnswers: number;
  /** A call takes effect at once and its answer is held this long (past the client's timeout it is lost). */
  answerDelayMs: number;
}
