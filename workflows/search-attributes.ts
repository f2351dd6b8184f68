/**
 * The custom search attributes every workflow of a box carries, so one Web UI filter
 * (`OrderId = "o_..."`) finds them all. The dev server registers them (scripts, test setup);
 * production namespaces must have them registered as Keyword attributes.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The order (box) a workflow belongs to. */
export const OrderIdAttribute = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
/** The member a workflow belongs to. */
export const CustomerIdAttribute = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** The typed search attributes of every workflow of one box. */
export function boxSearchAttributes(orderId: string, customerId: string) {
  return [
    { key: OrderIdAttribute, value: orderId },
    { key: CustomerIdAttribute, value: customerId },
  ];
}
