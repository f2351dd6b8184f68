/** What the orders domain listens to: every milestone of its boxes (its handler table), to keep the order's status. */
import { OrderWorkflow, orderWorkflowId } from './contract';
import { ORDER_EVENTS } from './order-events';

/** Membership follows the payment outcome of each period's fee. */
export { membershipSubscriptions } from './membership-subscriptions';

export const ordersSubscriptions = ORDER_EVENTS.subscriptions((event) => ({
  name: `orders.track-${event.type}`,
  ...OrderWorkflow,
  workflowId: (e) => orderWorkflowId(e.correlationId),
  start: false,
}));
