/**
 * Every typed business failure in one place. A business failure is non-retryable and carries
 * one of these types; any other error is treated as transient and retried. The API maps these
 * types to HTTP statuses in its one error handler.
 */
export const FailureType = {
  /** An event's data does not match its schema: a publisher bug, never retried. */
  InvalidEvent: 'InvalidEvent',
  /** The WMS refused the shipping address for good. */
  AddressRejected: 'AddressRejected',
  /** The WMS refused an instruction for another permanent reason (bad request). */
  InstructionRejected: 'InstructionRejected',
  /** Cancelling an order that has already shipped, or is already closed. */
  OrderNotCancellable: 'OrderNotCancellable',
  /** The order's cancel is confirmed: no shipping instruction may be sent for it any more (e.g. after a reset). */
  ShipmentCancelled: 'ShipmentCancelled',
  /** The WMS has already shipped the box, so the instruction can no longer be cancelled. */
  AlreadyShipped: 'AlreadyShipped',
  /**
   * The WMS refused an instruction under a key closetflow voided while resolving an attempt in
   * doubt: a cancel or a newer instruction (corrected address) took its place. Never retried.
   */
  InstructionVoided: 'InstructionVoided',
  /** A referenced business object does not exist. */
  NotFound: 'NotFound',
  /** The PSP declined the card (or the member has none on file); payment's dunning retries later with a new key. */
  CardDeclined: 'CardDeclined',
  /** The PSP refused a charge or refund request for good (bad request, key reused): a bug, never retried. */
  PaymentRejected: 'PaymentRejected',
  /** The PSP refused an attempt whose key payment voided while resolving it (a newer run settled the charge). */
  ChargeVoided: 'ChargeVoided',
  /** The charge key has failed for good (or stopped): no further attempt may be made at the PSP. */
  ChargeClosed: 'ChargeClosed',
  /** An ops retry of a charge that is not waiting for a dunning retry (captured, failed for good, or charging now). */
  ChargeNotRetryable: 'ChargeNotRetryable',
  /** Returns: the box is not with the member (not delivered yet, or already returning / closed). */
  ReturnNotAllowed: 'ReturnNotAllowed',
  /** Purchases: the box is not with the member, or the item is not in it. */
  PurchaseNotAllowed: 'PurchaseNotAllowed',
  /** Purchases: the item is already bought (or being bought). */
  AlreadyPurchased: 'AlreadyPurchased',
  /** Inventory: an item state change outside the item state machine (also refused by the database trigger). */
  IllegalItemTransition: 'IllegalItemTransition',
  /** Accounting: the trial balance of a period does not balance (debits ≠ credits). */
  LedgerUnbalanced: 'LedgerUnbalanced',
  /** Accounting: the period is locked; nothing may be posted into it. */
  PeriodLocked: 'PeriodLocked',
  /**
   * Accounting: the month-end close found money events of the period without a journal entry
   * (their ledger closed, or still in flight when its wait ran out); details list them and why.
   */
  UnbookedMoneyEvents: 'UnbookedMoneyEvents',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
