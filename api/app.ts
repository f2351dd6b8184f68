/**
 * The HTTP API: one Express app, one folder per resource, one error handler. Everything it needs
 * is passed in, so tests build it against the real database and Temporal server.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import express from 'express';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Config } from '../config';
import { createLogger } from '../config/logger';
import type { Database } from '../db/client';
import { createHttpMetrics, createOrderStartMetrics } from '../observability/metrics';
import { observeHttp } from './observability';
import { accountingAdminRoutes } from './admin/accounting/routes';
import { auditTrail } from './admin/audit';
import { operationsAdminRoutes } from './admin/operations/routes';
import { lagAdminRoutes } from './admin/lag/routes';
import { paymentAdminRoutes } from './admin/payments/routes';
import { createLoadMonitor, orderAdmission, readLag } from './backpressure';
import { requireAdmin } from './admin/require-admin';
import { requireAuth } from './auth/middleware';
import { authRoutes } from './auth/routes';
import { createSessionStore } from './auth/sessions';
import { createTokenService } from './auth/tokens';
import { cors } from './cors';
import { errorHandler, notFoundHandler } from './errors';
import { healthRoutes } from './health/routes';
import { openApiRoutes } from './openapi/routes';
import { orderRoutes } from './orders/routes';
import { orderStartBacklog } from '../store/orders/workflow-starts';
import { paymentRoutes } from './payment/routes';
import { rateLimit } from './rate-limit';
import { requestContext, securityHeaders } from './request-context';
import { webhookRoutes } from './webhooks/routes';

export const BODY_LIMIT = '100kb';

export interface AppDeps {
  config: Config;
  database: Database;
  temporal: Client;
  logger?: Logger;
  /** Traces every request (a server span, parent of the workflow calls it makes); unset: no spans. */
  tracer?: Tracer;
  /** Registry for the request metrics (api/main.ts serves it with createMetricsApp on API_METRICS_PORT); a new one otherwise. */
  metrics?: Registry;
  /** Called when a signup queued an e-mail: api/main.ts wakes its mail relay (api/auth/mail-outbox.ts). */
  mailQueued?: () => void;
}

export function createApp({ config, database, temporal, logger, tracer, metrics = new Registry(), mailQueued }: AppDeps): express.Express {
  if (!config.JWT_SECRET) throw new Error('createApp needs config.JWT_SECRET (api/main.ts generates one when it is not set)');
  const baseLogger = logger ?? createLogger('api', config.LOG_LEVEL);
  const log = baseLogger.bindings().domain === 'api' ? baseLogger : baseLogger.child({ domain: 'api' });
  createOrderStartMetrics(metrics, () => orderStartBacklog(database.db));
  // Backpressure: the lag of the outbox and of every domain, sampled in the background.
  const readSystemLag = () => readLag({ temporal, db: database.db });
  const loadMonitor =
    config.LOAD_SAMPLE_INTERVAL_MS > 0
      ? createLoadMonitor({
          read: readSystemLag,
          intervalMs: config.LOAD_SAMPLE_INTERVAL_MS,
          log,
          metrics,
          limits: {
            maxPendingStarts: config.ORDER_BACKLOG_MAX_PENDING,
            maxStartAgeSeconds: config.ORDER_BACKLOG_MAX_AGE_SECONDS,
            maxTaskBacklogAgeSeconds: config.TASK_BACKLOG_MAX_AGE_SECONDS,
          },
        })
      : undefined;
  const sessions = createSessionStore({ db: database.db, ttlSeconds: config.REFRESH_TOKEN_TTL_SECONDS });
  const tokens = createTokenService({ secret: config.JWT_SECRET, ttlSeconds: config.JWT_TTL_SECONDS, sessions });
  const limitWindow = config.RATE_LIMIT_WINDOW_SECONDS;
  // After requireAuth: each member has their own budget, whichever addresses they call from.
  const perCustomer = rateLimit({
    db: database.db,
    name: `${config.RATE_LIMIT_NAMESPACE}:per customer`,
    max: config.RATE_LIMIT_PER_CUSTOMER,
    windowSeconds: limitWindow,
    keyOf: (_req, res) => (res.locals.auth as { customerId?: string } | undefined)?.customerId,
  });

  const app = express();
  app.disable('x-powered-by');
  // Responses are `Cache-Control: no-store`: an ETag (a hash of every body) would buy nothing.
  app.set('etag', false);
  app.use(observeHttp({ metrics: createHttpMetrics(metrics), tracer }));
  // req.ip (rate limits, login throttling, logs) is the client's only behind the proxies trusted here.
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestContext(log));
  app.use(securityHeaders);
  app.use(cors(config.CORS_ALLOWED_ORIGINS));
  app.use(
    rateLimit({
      db: database.db,
      name: `${config.RATE_LIMIT_NAMESPACE}:per IP`,
      max: config.RATE_LIMIT_PER_IP,
      windowSeconds: limitWindow,
      keyOf: (req) => (req.path === '/healthz' ? undefined : (req.ip ?? 'unknown')),
    }),
  );
  app.use(openApiRoutes({ config }));

  app.use(healthRoutes({ database, temporal }));
  // Webhooks verify signatures over the exact bytes received: raw body, mounted before JSON parsing.
  app.use('/v1/webhooks', express.raw({ type: 'application/json', limit: BODY_LIMIT }), webhookRoutes({ config, db: database.db, temporal }));

  app.use(express.json({ limit: BODY_LIMIT }));
  const limits = {
    maxFailuresPerAccountAndIp: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP,
    maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
    lockoutSeconds: config.LOGIN_LOCKOUT_SECONDS,
    namespace: config.RATE_LIMIT_NAMESPACE,
  };
  const mail = {
    publicUrl: config.API_PUBLIC_URL,
    verificationTtlSeconds: config.SIGNUP_VERIFICATION_TTL_SECONDS,
    maxPerAddress: config.SIGNUP_MAILS_PER_ADDRESS,
    windowSeconds: config.SIGNUP_MAIL_WINDOW_SECONDS,
    queued: mailQueued,
  };
  app.use('/v1/auth', authRoutes({ db: database.db, tokens, temporal, sessions, limits, mail }));
  app.use('/v1/me', requireAuth(tokens), perCustomer, paymentRoutes({ db: database.db }));
  app.use(
    '/v1/orders',
    requireAuth(tokens),
    perCustomer,
    orderRoutes({
      db: database.db,
      temporal,
      logger: baseLogger,
      idempotencyTtlHours: config.IDEMPOTENCY_KEY_TTL_HOURS,
      expressShippingFeeCents: config.EXPRESS_SHIPPING_FEE_CENTS,
      admission: loadMonitor ? orderAdmission(loadMonitor, metrics) : undefined,
    }),
  );
  // Every /admin call (refused ones too) leaves an admin.audit_log row: who, what, why, outcome.
  app.use('/admin', requireAuth(tokens), auditTrail({ db: database.db }), requireAdmin());
  app.use('/admin', operationsAdminRoutes({ config, database, temporal }));
  app.use('/admin/payments', paymentAdminRoutes({ db: database.db, temporal }));
  app.use('/admin/lag', lagAdminRoutes({ read: readSystemLag, monitor: loadMonitor }));
  app.use('/admin/accounting', requireAuth(tokens), requireAdmin(), accountingAdminRoutes({ database, temporal }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
