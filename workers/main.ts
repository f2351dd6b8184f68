/**
 * One domain's worker process: `npm run worker -- --domain <name>`. SIGINT/SIGTERM drain the
 * worker (in-flight tasks finish) before the process exits. Logs are JSON lines (pino) with the
 * domain; WORKER_METRICS_PORT serves Prometheus metrics; OTEL_EXPORTER_OTLP_ENDPOINT turns on tracing.
 */
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics } from 'prom-client';
import { loadConfig } from '../config';
import { DB_POOL_MAX } from '../config/connections';
import { createLogger, createUnboundLogger } from '../config/logger';
import { businessMetrics } from '../observability/metrics';
import { tracingFromConfig } from '../observability/tracing';
import { temporalConnectionOptions } from '../config/temporal';
import { connectDatabase } from '../db/client';
import { ensureMonthlyCloseSchedule } from './monthly-close-schedule';
import { createOrderStartRelay } from './order-start-relay';
import { createDomainWorker } from './create-worker';
import { DOMAIN_WORKER_NAMES, type DomainWorkerName } from './domains';
import { freePort } from '../config/ports';
import { installWorkerRuntime, startWorkerMetricsServer } from './observability';

/** Named on the last-resort failure line too. */
let processDomain = 'worker';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { domain: { type: 'string' } } });
  const domain = (values.domain ?? process.env.WORKER_DOMAIN) as DomainWorkerName | undefined;
  if (!domain || !DOMAIN_WORKER_NAMES.includes(domain)) {
    throw new Error(`--domain must be one of: ${DOMAIN_WORKER_NAMES.join(', ')} (got ${domain ?? 'nothing'})`);
  }
  processDomain = domain;
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required for a worker');
  const logger = createLogger(domain, config.LOG_LEVEL);

  // The SDK's own logs, and the workflow and activity loggers, as the domain's JSON log; core's
  // Prometheus exporter on a loopback port, served with the business counters on WORKER_METRICS_PORT.
  // The metrics port is bound first: a free port picked for core afterwards can never be it.
  let corePort: number | undefined;
  // Metrics are not worth a crash loop: a taken port is logged and the worker runs without them.
  const metricsServer = config.WORKER_METRICS_PORT
    ? await startWorkerMetricsServer({
        port: config.WORKER_METRICS_PORT,
        coreMetricsUrl: () => (corePort ? `http://127.0.0.1:${corePort}/metrics` : undefined),
      }).catch((err: unknown) => {
        logger.error({ err, port: config.WORKER_METRICS_PORT }, 'metrics port unavailable; running without /metrics');
        return undefined;
      })
    : undefined;
  if (metricsServer) corePort = await freePort();
  installWorkerRuntime({
    logger: createUnboundLogger(config.LOG_LEVEL),
    defaultDomain: domain,
    level: config.LOG_LEVEL,
    coreMetricsAddress: corePort ? `127.0.0.1:${corePort}` : undefined,
  });
  if (metricsServer) {
    collectDefaultMetrics({ register: businessMetrics.registry });
    logger.info({ metrics: metricsServer.url }, 'metrics served');
  }
  const tracing = tracingFromConfig(config, domain);

  const database = connectDatabase(config.DATABASE_URL, { max: DB_POOL_MAX.worker });
  const connectionOptions = temporalConnectionOptions(config);
  const connection = await NativeConnection.connect(connectionOptions);
  // The bus signals subscribers through this client: with tracing on, signals carry the trace.
  const client = new Client({
    connection: await Connection.connect(connectionOptions),
    namespace: config.TEMPORAL_NAMESPACE,
    ...(tracing ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } } : {}),
  });
  const worker = await createDomainWorker({
    domain,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    config,
    database,
    client,
    workflowBundlePath: process.env.CLOSETFLOW_WORKFLOW_BUNDLE,
    tracing,
  });
  if (domain === 'accounting') logger.info({ schedule: await ensureMonthlyCloseSchedule(client) }, 'accounting-monthly-close schedule ensured');
  // Orders owns its workflows' starts: the API only writes accepted orders to the outbox.
  const relay =
    domain === 'orders'
      ? createOrderStartRelay({ database, client, log: logger, pollMs: config.ORDER_START_POLL_MS, keepStartedHours: config.ORDER_START_KEEP_HOURS }).run()
      : undefined;
  logger.info({ taskQueue: worker.options.taskQueue, orderStartRelay: !!relay }, 'worker started');
  await worker.run();
  await relay?.stop();
  logger.info('worker stopped');
  await connection.close();
  await client.connection.close();
  await database.close();
  await metricsServer?.close();
  await tracing?.shutdown();
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 50, domain: processDomain, msg: 'worker failed', err: String((err as Error)?.stack ?? err) })}\n`);
  process.exit(1);
});
