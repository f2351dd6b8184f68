/** `GET /healthz`: is the API able to serve? Checks PostgreSQL and the Temporal frontend, each with a deadline. */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { ctx } from '../request-context';

const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = 'ok' | 'failing';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function healthRoutes({ database, temporal }: { database: Database; temporal: Client }): Router {
  const router = Router();

  router.get('/healthz', async (_req, res) => {
    const log = ctx(res).log;
    const run = async (name: string, check: () => Promise<unknown>): Promise<CheckResult> => {
      try {
        await withTimeout(check(), CHECK_TIMEOUT_MS);
        return 'ok';
      } catch (err) {
        log.warn({ check: name, err: (err as Error)?.message }, 'health check failing');
        return 'failing';
      }
    };
    const [databaseCheck, temporalCheck] = await Promise.all([
      run('database', () => database.db.execute(sql`select 1`)),
      run('temporal', () =>
        // getSystemInfo is what the SDK itself uses to probe a frontend; it needs no namespace.
        temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => temporal.workflowService.getSystemInfo({})),
      ),
    ]);
    const checks = { database: databaseCheck, temporal: temporalCheck };
    const healthy = databaseCheck === 'ok' && temporalCheck === 'ok';
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'ok' : 'unavailable', checks });
  });

  return router;
}
