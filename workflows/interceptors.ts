/**
 * Workflow interceptors, bundled with the workflow code (workers/workflow-bundle.ts):
 * - OpenTelemetry spans for every workflow run, signal, update, activity, child start and
 *   continue-as-new, with the trace context in Temporal headers, so one trace follows a box from
 *   the API request across every domain. Spans leave the sandbox through the worker's `exporter`
 *   sink, which is not called on replay.
 * - The box's `orderId` / `customerId` (the OrderId / CustomerId search attributes) on every
 *   workflow log line, and the order id in a header of every activity, for its log lines.
 * Workflow code logs with `log` from @temporalio/workflow: the SDK drops those lines on replay.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
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
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor(), new BoxContextInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
