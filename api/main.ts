/**
 * The API process (`npm run api`): validated config, a PostgreSQL pool, a Temporal client, the
 * Express app on API_PORT, its Prometheus metrics on API_METRICS_PORT, and the mail relay that
 * sends signup e-mails from the outbox to MAIL_URL. It refuses to start without a real
 * WMS_WEBHOOK_SECRET. SIGINT/SIGTERM stop accepting requests, let in-flight ones finish, then
 * stop the relay and close the connections.
 */
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError, loadConfig } from '../config';
import { DB_POOL_MAX } from '../config/connections';
import { createLogger } from '../config/logger';
import { requireWmsWebhookSecret } from '../config/secrets';
import { temporalConnectionOptions } from '../config/temporal';
import { connectDatabase } from '../db/client';
import { tracingFromConfig } from '../observability/tracing';
import { ensureAdminAccount } from './admin/bootstrap';
import { createApp } from './app';
import { createMailRelay } from './auth/mail-outbox';
import { loadOrCreateJwtSecret } from './auth/secret';
import { createMetricsApp } from './observability';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required for the API');
  // Before anything connects: no process but npm start's may run on a secret anyone can read.
  requireWmsWebhookSecret(config.WMS_WEBHOOK_SECRET);
  const logger = createLogger('api', config.LOG_LEVEL);
  const jwtSecret = config.JWT_SECRET ?? loadOrCreateJwtSecret(config.DATA_DIR);

  const database = connectDatabase(config.DATABASE_URL, { max: DB_POOL_MAX.api });
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD)
    logger.info(await ensureAdminAccount(database.db, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }), 'admin account ensured');
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, each request is a span and the workflows it starts,
  // signals or updates continue its trace (the client interceptor puts the context in headers).
  const tracing = tracingFromConfig(config, 'api');
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    ...(tracing ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } } : {}),
  });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  // Signup only writes the outbox; this relay sends, so a mail provider outage never reaches signup.
  const mailRelay = createMailRelay({ database, mailUrl: config.MAIL_URL, log: logger.child({ component: 'mail-relay' }) });
  const mailing = mailRelay.run();
  const app = createApp({
    config: { ...config, JWT_SECRET: jwtSecret },
    database,
    temporal,
    logger,
    tracer: tracing?.tracer,
    metrics,
    mailQueued: mailRelay.wake,
  });
  // Prometheus scrapes its own port, kept off the public edge (the public app answers 404 there).
  const metricsServer = config.API_METRICS_PORT
    ? createMetricsApp(metrics).listen(config.API_METRICS_PORT, (err?: Error) => {
        if (err) logger.error({ err, port: config.API_METRICS_PORT }, 'metrics port unavailable; running without /metrics');
        else logger.info({ port: config.API_METRICS_PORT }, `API metrics on port ${config.API_METRICS_PORT}`);
      })
    : undefined;

  const server = app.listen(config.API_PORT, (err?: Error) => {
    if (err) {
      logger.fatal({ err }, 'API could not listen');
      process.exit(1);
    }
    const { port } = server.address() as AddressInfo;
    logger.info(
      { port, publicUrl: config.API_PUBLIC_URL, temporal: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE },
      `API listening on port ${port}`,
    );
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'API stopping');
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    metricsServer?.close();
    server.close(async () => {
      await mailing.stop().catch((err: unknown) => logger.warn({ err }, 'mail relay did not stop cleanly'));
      await Promise.allSettled([connection.close(), database.close(), tracing?.shutdown()]);
      logger.info('API stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  // A configuration refusal names the variable; its stack would only bury that.
  const detail = err instanceof ConfigError ? err.message : String((err as Error)?.stack ?? err);
  process.stderr.write(`${JSON.stringify({ level: 60, domain: 'api', msg: 'API failed to start', err: detail })}\n`);
  process.exit(1);
});
