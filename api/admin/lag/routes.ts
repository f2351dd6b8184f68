/**
 * `GET /admin/lag` (admin role only, audited): how far behind each domain is — the order outbox
 * (accepted orders not started yet) and every domain task queue's backlog on Temporal (tasks
 * waiting for a worker and how long the oldest has waited) — read now, with the backpressure
 * verdict the API applies to new orders (api/backpressure.ts).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { LagReport, LoadMonitor } from '../../backpressure';
import { parseRequest } from '../../validation';
import { audit, auditFailure } from '../audit';

const lagQuery = z.object({ reason: z.string().trim().min(3).max(500).optional() }).strict();

export const lagReportSchema = z
  .object({
    at: z.string(),
    orderStarts: z.object({ pending: z.number().int(), oldestAgeSeconds: z.number() }).strict(),
    taskQueues: z.array(
      z
        .object({
          taskQueue: z.string(),
          type: z.enum(['workflow', 'activity']),
          backlog: z.number().int(),
          backlogAgeSeconds: z.number(),
          addRate: z.number(),
          dispatchRate: z.number(),
          pollers: z.number().int(),
        })
        .strict(),
    ),
    overloaded: z
      .object({ reason: z.string(), retryAfterSeconds: z.number().int() })
      .strict()
      .nullable()
      .meta({ description: 'Set while POST /v1/orders answers 503 overloaded' }),
  })
  .strict();

export function lagAdminRoutes({ read, monitor }: { read: () => Promise<LagReport>; monitor?: LoadMonitor }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const { reason } = parseRequest(lagQuery, req.query, 'query');
    audit(res, { action: 'read-lag', reason });
    const report = await read();
    const verdict = monitor?.overload() ?? null;
    res.json({ ...report, overloaded: verdict ? { reason: verdict.reason, retryAfterSeconds: verdict.retryAfterSeconds } : null });
  });
  router.use(auditFailure);
  return router;
}
