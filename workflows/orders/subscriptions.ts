/** What the orders domain listens to: every milestone of its boxes (its handler table), to keep the order's status. */
import { subscribe } from '../bus/contract';
import { ORDERS_TASK_QUEUE, orderWorkflowId } from './contract';
import { ORDER_EVENTS } from './order-events';

/** Membership follows the payment outcome of each period's fee. */
export { membershipSubscriptions } from './membership-subscriptions';

const follow = (event: Parameters<typeof subscribe>[0]) =>
  subscribe(event, {
    name: `orders.track-${event.type}`,
    domain: 'orders',
    workflowType: 'orderWorkflow',
    taskQueue: ORDERS_TASK_QUEUE,
    workflowId: (e) => orderWorkflowId(e.correlationId),
    start: false,
  });

export const ordersSubscriptions = ORDER_EVENTS.events.map(follow);
