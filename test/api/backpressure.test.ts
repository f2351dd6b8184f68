/**
 * Backpressure a caller can see: while accepted orders wait for their workflows to start past the
 * limit, POST /v1/orders answers 503 overloaded with Retry-After and places nothing; once the
 * backlog drains it accepts again. Ops read the lag at GET /admin/lag and on /metrics. Real
 * PostgreSQL and the dev server; no outbox relay runs until the test starts one, so the starts wait.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import request from 'supertest';
import { ensureAdminAccount } from '../../api/admin/bootstrap';
import { createApp } from '../../api/app';
import { DOMAIN_TASK_QUEUES, overloadOf, type LagReport } from '../../api/backpressure';
import { orderStartBacklog } from '../../store/orders/workflow-starts';
import { createOrderStartRelay } from '../../workers/order-start-relay';
import { connectDatabase, type Database } from '../../db/client';
import { orderWorkflowId } from '../../workflows/orders/contract';
import { eventually } from '../support/system';
import { connectTestEnv } from '../support/temporal';
import { signUp, terminateOrderWorkflows, testConfig, uniqueEmail } from './harness';

let env: TestWorkflowEnvironment;
let database: Database;
const started: string[] = [];

beforeAll(async () => {
  env = await connectTestEnv();
  database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
});
afterAll(async () => {
  await terminateOrderWorkflows({ env }, started);
  await database?.close();
  await env?.teardown();
});

describe('backpressure', () => {
  it('refuses new orders with 503 overloaded and Retry-After while accepted ones wait to start, places nothing, and accepts again once they started', async () => {
    // Whatever earlier tests left pending counts too: the limit is two more than that.
    const { pending } = await orderStartBacklog(database.db);
    const metrics = new Registry();
    const app = createApp({
      config: testConfig({
        LOAD_SAMPLE_INTERVAL_MS: '100',
        ORDER_BACKLOG_MAX_PENDING: String(pending + 2),
        ORDER_BACKLOG_MAX_AGE_SECONDS: '3600',
        TASK_BACKLOG_MAX_AGE_SECONDS: '3600',
      }),
      database,
      temporal: env.client,
      logger: pino({ level: 'silent' }),
      metrics,
    });
    const member = await signUp(app);
    const place = (key: string) => request(app).post('/v1/orders').set(member.auth).set('Idempotency-Key', key).send({ itemCount: 1 });
    const orderCount = async () =>
      (await database.sql<{ n: number }[]>`select count(*)::int as n from orders.orders where customer_id = ${member.customerId}`)[0].n;

    const accepted: string[] = [];
    // Orders are accepted until the sample sees more than the limit pending; then the brake.
    let attempt = 0;
    const refused = await eventually(
      async () => {
        const key = `bp-${++attempt}`;
        const res = await place(key);
        if (res.status === 202) {
          accepted.push(key);
          started.push(orderWorkflowId(res.body.orderId));
          return undefined;
        }
        return res;
      },
      10_000,
      'the brake',
    );
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ type: 'https://closetflow.dev/problems/overloaded', status: 503, lag: { pendingStarts: pending + accepted.length } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    expect(await orderCount()).toBe(accepted.length);
    // A retry of an order already accepted still gets its answer while overloaded.
    const replay = await place(accepted[0]).expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await orderCount()).toBe(accepted.length);
    const metricsText = await metrics.metrics();
    expect(metricsText).toMatch(/^closetflow_overloaded 1$/m);
    expect(metricsText).toMatch(/^closetflow_orders_refused_overloaded_total [1-9]/m);

    // The orders worker's relay catches up: the refused key now places its order.
    const relay = createOrderStartRelay({ database, client: env.client, log: pino({ level: 'silent' }), pollMs: 100 }).run();
    try {
      const placed = await eventually(
        async () => {
          const res = await place(`bp-${attempt}`);
          return res.status === 202 ? res : undefined;
        },
        20_000,
        'accepted again',
      );
      started.push(orderWorkflowId(placed.body.orderId));
      expect(await orderCount()).toBe(accepted.length + 1);
    } finally {
      await relay.stop();
    }
  });

  it("shows each domain's lag at GET /admin/lag and on /metrics", async () => {
    const metrics = new Registry();
    // Limits no leftover of earlier tests on the shared dev server can reach: this is about the report.
    const app = createApp({
      config: testConfig({
        LOAD_SAMPLE_INTERVAL_MS: '100',
        ORDER_BACKLOG_MAX_PENDING: '1000000',
        ORDER_BACKLOG_MAX_AGE_SECONDS: '1000000',
        TASK_BACKLOG_MAX_AGE_SECONDS: '1000000',
      }),
      database,
      temporal: env.client,
      logger: pino({ level: 'silent' }),
      metrics,
    });
    const email = uniqueEmail('ops');
    await ensureAdminAccount(database.db, { email, password: 'ops lag password' });
    const login = await request(app).post('/v1/auth/login').send({ email, password: 'ops lag password' }).expect(200);
    const res = await request(app)
      .get('/admin/lag?reason=checking%20lag')
      .set({ Authorization: `Bearer ${login.body.accessToken as string}` })
      .expect(200);
    expect(res.body).toMatchObject({ orderStarts: { pending: expect.any(Number), oldestAgeSeconds: expect.any(Number) }, overloaded: null });
    const queues = (res.body.taskQueues as { taskQueue: string; type: string }[]).map((q) => `${q.taskQueue}/${q.type}`).sort();
    expect(queues).toEqual(DOMAIN_TASK_QUEUES.flatMap((q) => [`${q}/activity`, `${q}/workflow`]).sort());
    await eventually(
      async () => ((await metrics.metrics()).match(/^closetflow_task_queue_backlog_age_seconds\{task_queue="orders",type="workflow"\} /m) ? true : undefined),
      10_000,
      'lag on /metrics',
    );
  });

  it("calls the system overloaded when a domain's workflow tasks wait longer than the limit for a worker", () => {
    const report: LagReport = {
      at: new Date().toISOString(),
      orderStarts: { pending: 0, oldestAgeSeconds: 0 },
      taskQueues: [
        { taskQueue: 'styling', type: 'workflow', backlog: 120, backlogAgeSeconds: 45, addRate: 3, dispatchRate: 1, pollers: 2 },
        { taskQueue: 'orders', type: 'workflow', backlog: 2, backlogAgeSeconds: 1, addRate: 3, dispatchRate: 3, pollers: 2 },
        { taskQueue: 'styling', type: 'activity', backlog: 999, backlogAgeSeconds: 999, addRate: 0, dispatchRate: 0, pollers: 0 },
      ],
    };
    const limits = { maxPendingStarts: 100, maxStartAgeSeconds: 30, maxTaskBacklogAgeSeconds: 30 };
    expect(overloadOf(report, limits)).toMatchObject({ reason: expect.stringContaining('styling'), retryAfterSeconds: 12, figures: { stylingBacklog: 120 } });
    expect(overloadOf(report, { ...limits, maxTaskBacklogAgeSeconds: 60 })).toBeUndefined();
  });

  it('does not call a domain with no worker polling overloaded: its backlog is an outage that refusing orders would not drain', () => {
    const report: LagReport = {
      at: new Date().toISOString(),
      orderStarts: { pending: 0, oldestAgeSeconds: 0 },
      taskQueues: [
        { taskQueue: 'payment', type: 'workflow', backlog: 1, backlogAgeSeconds: 31, addRate: 0, dispatchRate: 0, pollers: 0 },
        { taskQueue: 'orders', type: 'workflow', backlog: 0, backlogAgeSeconds: 0, addRate: 1, dispatchRate: 1, pollers: 2 },
      ],
    };
    expect(overloadOf(report, { maxPendingStarts: 100, maxStartAgeSeconds: 30, maxTaskBacklogAgeSeconds: 30 })).toBeUndefined();
  });
});
