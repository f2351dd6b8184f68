/** What each source event posts: pure functions from an event to a journal entry's lines. */
import { ApplicationFailure } from '@temporalio/activity';
import type { EventEnvelope } from '../../workflows/bus/contract';
import { FailureType } from '../../workflows/failures';
import { PaymentCaptured, PaymentRefunded, type ChargePurpose, type PaymentCapturedData, type PaymentRefundedData } from '../../workflows/payment/contract';
import { ItemSold, type AccountCode, type ItemSoldData } from '../../workflows/accounting/contract';

export interface EntryLine {
  account: AccountCode;
  debitCents: number;
  creditCents: number;
}
export interface EntrySpec {
  customerId: string;
  chargeKey: string | null;
  description: string;
  lines: EntryLine[];
}

/** The revenue account a captured charge credits, by its purpose. */
const REVENUE_ACCOUNT: Record<ChargePurpose, AccountCode> = { membership: 'membership_revenue', purchase: 'sales_revenue', shipping: 'shipping_revenue' };

const dr = (account: AccountCode, cents: number): EntryLine => ({ account, debitCents: cents, creditCents: 0 });
const cr = (account: AccountCode, cents: number): EntryLine => ({ account, debitCents: 0, creditCents: cents });

/** The entry an event posts; a non-retryable InvalidEvent failure for an event the ledger does not book. */
export function entryFor(event: EventEnvelope): EntrySpec {
  switch (event.type) {
    case PaymentCaptured.type: {
      const d = PaymentCaptured.schema.parse(event.data) as PaymentCapturedData;
      const revenue: AccountCode = REVENUE_ACCOUNT[d.purpose];
      const what =
        d.purpose === 'membership'
          ? `membership fee ${d.period ?? ''}`.trim()
          : d.purpose === 'shipping'
            ? `express shipping of order ${d.orderId ?? '?'}`
            : `purchase of ${d.itemId ?? 'item'} (order ${d.orderId ?? '?'})`;
      return {
        customerId: d.customerId,
        chargeKey: d.chargeKey,
        description: `Captured ${what}`,
        lines: [dr('cash', d.amountCents), cr(revenue, d.amountCents)],
      };
    }
    case PaymentRefunded.type: {
      const d = PaymentRefunded.schema.parse(event.data) as PaymentRefundedData;
      return {
        customerId: d.customerId,
        chargeKey: d.chargeKey,
        description: `Refunded charge ${d.chargeKey}`,
        lines: [dr('refunds', d.amountCents), cr('cash', d.amountCents)],
      };
    }
    case ItemSold.type: {
      const d = ItemSold.schema.parse(event.data) as ItemSoldData;
      if (d.costCents === 0) {
        return { customerId: d.customerId, chargeKey: null, description: `Sold ${d.itemId} (order ${d.orderId}) at no cost`, lines: [] };
      }
      return {
        customerId: d.customerId,
        chargeKey: null,
        description: `Cost of ${d.itemId} sold (order ${d.orderId}, price ${d.priceCents})`,
        lines: [dr('cost_of_goods_sold', d.costCents), cr('inventory', d.costCents)],
      };
    }
    default:
      throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `the ledger does not book ${event.type} (${event.id})`, nonRetryable: true });
  }
}
