/**
 * The workflow interceptor every bundle has (workers/workflow-bundle.ts): the box's `orderId` /
 * `customerId` (the OrderId / CustomerId search attributes) on every workflow log line, and the
 * order id in a header of every activity, for its log lines. Tracing has its own module
 * (./tracing-interceptors.ts), bundled only when tracing is on.
 * Workflow code logs with `log` from @temporalio/workflow: the SDK drops those lines on replay.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import {
  workflowInfo,
  type ActivityInput,
  type GetLogAttributesInput,
  type LocalActivityInput,
  type Next,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { ORDER_ID_HEADER } from './log-context';
import { CustomerIdAttribute, OrderIdAttribute } from './search-attributes';

function boxIds(): { orderId?: string; customerId?: string } {
  const attributes = workflowInfo().typedSearchAttributes;
  const orderId = attributes.get(OrderIdAttribute);
  const customerId = attributes.get(CustomerIdAttribute);
  return { ...(orderId ? { orderId } : {}), ...(customerId ? { customerId } : {}) };
}

function withOrderIdHeader<T extends ActivityInput | LocalActivityInput>(input: T): T {
  const { orderId } = boxIds();
  return orderId ? { ...input, headers: { ...input.headers, [ORDER_ID_HEADER]: defaultPayloadConverter.toPayload(orderId) } } : input;
}

/** Puts the box's ids on workflow log lines and hands the order id to activities. */
class BoxContextInterceptor implements WorkflowOutboundCallsInterceptor {
  getLogAttributes(input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>): Record<string, unknown> {
    return next({ ...boxIds(), ...input });
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return next(withOrderIdHeader(input));
  }

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    return next(withOrderIdHeader(input));
  }
}

/** The interceptors of every workflow (the SDK calls this once per workflow run). */
export const interceptors = (): WorkflowInterceptors => ({
  outbound: [new BoxContextInterceptor()],
});
