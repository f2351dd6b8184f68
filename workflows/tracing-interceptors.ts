/**
 * OpenTelemetry in the workflow sandbox, bundled only when tracing is on (workers/workflow-bundle.ts):
 * spans for every workflow run, signal, update, activity, child start and continue-as-new, with the
 * trace context in Temporal headers, so one trace follows a box from the API request across every
 * domain. Spans leave the sandbox through the worker's `exporter` sink, which is not called on
 * replay. Off, they cost nothing: with them bundled, a worker spent about a sixth of its workflow
 * CPU creating spans nobody exported (measured: bench/results/pipeline.md).
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** Tracing interceptors of every workflow (the SDK calls this once per workflow run). */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
