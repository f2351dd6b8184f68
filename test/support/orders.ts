/** Starting orders straight on Temporal, the way the API does, for flow tests. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ORDERS_TASK_QUEUE, orderWorkflowId, type Address, type OrderWorkflowInput } from '../../workflows/orders/contract';
import type { orderWorkflow } from '../../workflows/orders/workflows';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { uniqueId } from './system';

export const GOOD_ADDRESS: Address = { name: 'Ada Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' };

/** Starts an orderWorkflow with fresh ids; `overrides` set size, categories, address... */
export async function startOrder(
  client: Client,
  overrides: Partial<OrderWorkflowInput> = {},
): Promise<{ input: OrderWorkflowInput; handle: WorkflowHandle<typeof orderWorkflow> }> {
  const input: OrderWorkflowInput = {
    orderId: uniqueId('o'),
    customerId: uniqueId('c'),
    size: 'M',
    categories: ['dress', 'top'],
    itemCount: 2,
    address: GOOD_ADDRESS,
    ...overrides,
  };
  const handle = await client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
    taskQueue: ORDERS_TASK_QUEUE,
    workflowId: orderWorkflowId(input.orderId),
    args: [input],
    staticSummary: `Box ${input.orderId} for ${input.customerId} — ${input.itemCount} items, size ${input.size}`,
    typedSearchAttributes: [
      { key: OrderIdAttribute, value: input.orderId },
      { key: CustomerIdAttribute, value: input.customerId },
    ],
  });
  return { input, handle };
}
