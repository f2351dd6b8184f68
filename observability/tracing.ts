/**
 * OpenTelemetry tracing for the Node side (API, worker activities, clients). One tracer per
 * service (`closetflow-api`, `closetflow-<domain>`), all feeding one span processor: OTLP/HTTP
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing otherwise (tracing is then off entirely).
 * Workflow spans are made inside the sandbox (workflows/interceptors.ts) and reach the same
 * processor through the worker's `exporter` sink (workers/observability.ts).
 */
import { context, propagation, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';

/** What a service traces with. */
export interface Tracing {
  tracer: Tracer;
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Flushes and stops the span processor (call once at process exit). */
  shutdown(): Promise<void>;
}

let globalsInstalled = false;

/**
 * Installs the process-wide context manager and W3C propagator (once). Without them a span made
 * in an Express handler would not be the parent of the workflow start it causes, and the Temporal
 * interceptors would put an empty context into headers.
 */
export function installTracingGlobals(): void {
  if (globalsInstalled) return;
  globalsInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
}

/** A tracer for one service over a span processor shared by every service of the process. */
export function createTracing({ serviceName, spanProcessor }: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  installTracingGlobals();
  const resource = Resource.default().merge(new Resource({ 'service.name': serviceName, 'service.namespace': 'closetflow' }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  return {
    tracer: provider.getTracer('closetflow'),
    resource,
    spanProcessor,
    shutdown: () => provider.shutdown(),
  };
}

/** Batches spans to an OTLP/HTTP collector (`<endpoint>/v1/traces`). */
export function otlpSpanProcessor(endpoint: string): SpanProcessor {
  return new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }));
}

/** The tracing of one service from the configuration, or undefined when no OTLP endpoint is set. */
export function tracingFromConfig(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>, service: string): Tracing | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return createTracing({ serviceName: `closetflow-${service}`, spanProcessor: otlpSpanProcessor(config.OTEL_EXPORTER_OTLP_ENDPOINT) });
}
