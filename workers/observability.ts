/**
 * A worker's logs, metrics and traces:
 * - the Temporal Runtime's logger writes the SDK's, the workflows' and the activities' log lines
 *   as pino JSON, each with the `domain` of its task queue and, where they apply, `workflowId`,
 *   `runId`, `activityType`, `orderId`, `eventId`;
 * - the Runtime's Prometheus metrics (core, on a loopback port) and the business counters are
 *   served together on one `/metrics` port per worker (WORKER_METRICS_PORT);
 * - with tracing on, OpenTelemetry activity interceptors and the sink workflow spans leave by.
 */
import type { Tracer } from '@opentelemetry/api';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  DefaultLogger,
  Runtime,
  makeTelemetryFilterString,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { COMPENSATION_ACTIVITIES, PROMETHEUS_CONTENT_TYPE, businessMetrics } from '../observability/metrics';
import type { Tracing } from '../observability/tracing';
import { ORDER_ID_HEADER } from '../workflows/log-context';
import { DOMAIN_WORKERS } from './domains';
import { workflowBundleOptions } from './workflow-bundle';

const DOMAIN_OF_TASK_QUEUE = new Map<string, string>(Object.entries(DOMAIN_WORKERS).map(([domain, spec]) => [spec.taskQueue, domain]));

/** The domain whose worker polls `taskQueue`. */
export function domainOfTaskQueue(taskQueue: unknown): string | undefined {
  return typeof taskQueue === 'string' ? DOMAIN_OF_TASK_QUEUE.get(taskQueue) : undefined;
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** pino's level name as the SDK's. */
export function sdkLogLevel(level: string): LogLevel {
  const upper = level.toUpperCase();
  return upper in PINO_LEVEL ? (upper as LogLevel) : upper === 'FATAL' || upper === 'SILENT' ? 'ERROR' : 'INFO';
}

/**
 * The Runtime logger: every SDK, workflow and activity log line as one pino JSON line. `logger`
 * has no fixed domain (config/logger.ts createUnboundLogger): the line's task queue names it, so a
 * process hosting several domains (tests) still labels each line right; `defaultDomain` otherwise.
 */
export function createSdkLogger({ logger, defaultDomain, level }: { logger: Logger; defaultDomain: string; level: string }): DefaultLogger {
  return new DefaultLogger(sdkLogLevel(level), (entry) => {
    const { error, taskToken: _taskToken, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
    const fields = { domain: domainOfTaskQueue(meta.taskQueue) ?? defaultDomain, ...meta, ...(error !== undefined ? { err: error } : {}) };
    logger[PINO_LEVEL[entry.level]](fields, entry.message);
  });
}

/**
 * Installs the process's Temporal Runtime (once, before any connection): its logger, core's own
 * log lines forwarded to it (warnings and up), and core's Prometheus exporter on
 * `coreMetricsAddress` when given.
 */
export function installWorkerRuntime(options: { logger: Logger; defaultDomain: string; level: string; coreMetricsAddress?: string }): void {
  Runtime.install({
    logger: createSdkLogger(options),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(options.coreMetricsAddress ? { metrics: { prometheus: { bindAddress: options.coreMetricsAddress } } } : {}),
    },
  });
}

function orderIdOf(headers: Record<string, unknown>, args: unknown[]): string | undefined {
  const header = headers[ORDER_ID_HEADER];
  if (header) {
    const value = defaultPayloadConverter.fromPayload(header as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    if (typeof value === 'string') return value;
  }
  // Activities not called from a box's workflow (no OrderId attribute) may still name the order.
  const input = args[0] as { orderId?: unknown } | undefined;
  if (typeof input?.orderId === 'string') return input.orderId;
  return undefined;
}

/**
 * Activity log context and counters: `runId` and `orderId` on every activity log line (the SDK
 * calls the run id `workflowRunId` and does not know the order), and compensating activities
 * counted when they complete.
 */
export function activityContextInterceptors(domain: string): ActivityInterceptorsFactory {
  return (ctx) => {
    let orderId: string | undefined;
    return {
      inbound: {
        async execute(input, next) {
          orderId = orderIdOf(input.headers, input.args);
          const result = await next(input);
          if (COMPENSATION_ACTIVITIES.has(ctx.info.activityType)) businessMetrics.compensations.inc({ activity: ctx.info.activityType, domain });
          return result;
        },
      },
      outbound: {
        getLogAttributes(attributes, next) {
          const { workflowRunId, ...rest } = attributes;
          return next({ ...rest, ...(workflowRunId ? { runId: workflowRunId } : {}), ...(orderId ? { orderId } : {}) });
        },
      },
    };
  };
}

/**
 * The sinks every worker running the bundled workflows needs: the workflow interceptors export
 * spans through `exporter`, to the tracing's span processor, or nowhere when tracing is off.
 */
export function workflowSinks(tracing?: Tracing): InjectedSinks<OpenTelemetrySinks> {
  return { exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : { export: { fn: () => undefined } } };
}

/** Worker options for one domain's logs, counters and (with `tracing`) traces. */
export function workerObservabilityOptions({
  domain,
  tracing,
  prebuiltBundle = false,
}: {
  domain: string;
  tracing?: Tracing;
  prebuiltBundle?: boolean;
}): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const tracer: Tracer | undefined = tracing?.tracer;
  const activity: ActivityInterceptorsFactory[] = [activityContextInterceptors(domain)];
  if (tracer) {
    activity.push((ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }));
  }
  return {
    // Prebuilt bundles already contain the workflow interceptors; only a worker that bundles by itself names them.
    interceptors: { activity, ...(prebuiltBundle ? {} : { workflowModules: workflowBundleOptions({ tracing: !!tracing }).workflowInterceptorModules }) },
    sinks: workflowSinks(tracing),
  };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics`: the business counters (and whatever else is in their registry) followed
 * by the Temporal SDK's metrics scraped from core's exporter at `coreMetricsUrl`.
 */
export async function startWorkerMetricsServer({
  port,
  host = '0.0.0.0',
  coreMetricsUrl,
}: {
  port: number;
  host?: string;
  /** Read at every scrape: the worker binds this server first and picks core's port after (so core cannot take this one). */
  coreMetricsUrl?: string | (() => string | undefined);
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      const parts = [await businessMetrics.registry.metrics()];
      const coreUrl = typeof coreMetricsUrl === 'function' ? coreMetricsUrl() : coreMetricsUrl;
      if (coreUrl) {
        try {
          const core = await fetch(coreUrl, { signal: AbortSignal.timeout(5000) });
          parts.push(await core.text());
        } catch (err) {
          parts.push(`# Temporal SDK metrics unavailable: ${String(err).replace(/\n/g, ' ')}\n`);
        }
      }
      res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }).end(parts.join('\n'));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
