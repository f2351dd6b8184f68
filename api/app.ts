/**
 * The HTTP API: one Express app, one folder per resource, one error handler. Everything it needs
 * is passed in, so tests build it against the real database and Temporal server.
 */
import type { Client } from '@temporalio/client';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createLogger } from '../config/logger';
import type { Database } from '../db/client';
import { accountingAdminRoutes } from './admin/accounting/routes';
import { requireAdmin } from './admin/require-admin';
import { requireAuth } from './auth/middleware';
import { authRoutes } from './auth/routes';
import { createTokenService } from './auth/tokens';
import { errorHandler, notFoundHandler } from './errors';
import { healthRoutes } from './health/routes';
import { orderRoutes } from './orders/routes';
import { paymentRoutes } from './payment/routes';
import { requestContext, securityHeaders } from './request-context';
import { webhookRoutes } from './webhooks/routes';

export const BODY_LIMIT = '100kb';

export interface AppDeps {
  config: Config;
  database: Database;
  temporal: Client;
  logger?: Logger;
}

export function createApp({ config, database, temporal, logger }: AppDeps): express.Express {
  if (!config.JWT_SECRET) throw new Error('createApp needs config.JWT_SECRET (api/main.ts generates one when it is not set)');
  const baseLogger = logger ?? createLogger('api', config.LOG_LEVEL);
  const log = baseLogger.bindings().domain === 'api' ? baseLogger : baseLogger.child({ domain: 'api' });
  const tokens = createTokenService({ secret: config.JWT_SECRET, ttlSeconds: config.JWT_TTL_SECONDS });

  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(log));
  app.use(securityHeaders);

  app.use(healthRoutes({ database, temporal }));
  // Webhooks verify signatures over the exact bytes received: raw body, mounted before JSON parsing.
  app.use('/v1/webhooks', express.raw({ type: 'application/json', limit: BODY_LIMIT }), webhookRoutes({ config, temporal }));

  app.use(express.json({ limit: BODY_LIMIT }));
  app.use('/v1/auth', authRoutes({ db: database.db, tokens, temporal }));
  app.use('/v1/me', requireAuth(tokens), paymentRoutes({ db: database.db }));
  app.use('/v1/orders', requireAuth(tokens), orderRoutes({ db: database.db, temporal }));
  app.use('/admin/accounting', requireAuth(tokens), requireAdmin(), accountingAdminRoutes({ database }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
