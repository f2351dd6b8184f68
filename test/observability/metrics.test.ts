/**
 * Prometheus metrics: the API counts and times requests per route template and status and serves
 * them on its own listener (createMetricsApp), never on the public app; a worker's /metrics serves
 * the Temporal SDK's runtime metrics and the business counters together.
 */
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createMetricsApp } from '../../api/observability';
import { connectDatabase, type Database } from '../../db/client';
import { createUnboundLogger } from '../../config/logger';
import { createDomainWorker } from '../../workers/create-worker';
import { freePort } from '../../config/ports';
import { installWorkerRuntime, startWorkerMetricsServer, type MetricsServer } from '../../workers/observability';
import { createWmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { cancelOrderUpdate } from '../../workflows/orders/contract';
import { signUp, testConfig } from '../api/harness';
import { startOrder } from '../support/orders';
import { eventually, seedItems, timelineTypes } from '../support/system';
import { connectTestEnv, workflowBundle } from '../support/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

/** The value of one sample line, e.g. `name{a="b"}`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let env: TestWorkflowEnvironment;
let database: Database;
let metricsServer: MetricsServer;
let workers: Worker[] = [];
let running: Promise<unknown>;
let wmsServer: WmsRunningServer | undefined;

beforeAll(async () => {
  // The Runtime exports core's metrics on a loopback port; the worker metrics server merges them.
  const corePort = await freePort();
  installWorkerRuntime({ logger: createUnboundLogger('silent'), defaultDomain: 'test', level: 'warn', coreMetricsAddress: `127.0.0.1:${corePort}` });
  metricsServer = await startWorkerMetricsServer({ port: 0, host: '127.0.0.1', coreMetricsUrl: `http://127.0.0.1:${corePort}/metrics` });
  env = await connectTestEnv();
  database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
});

afterAll(async () => {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await running;
  await metricsServer?.close();
  await wmsServer?.close();
  await database?.close();
  await env?.teardown();
});

describe('API metrics', () => {
  it('counts and times requests by route template and status, on the metrics listener only', async () => {
    const registry = new Registry();
    const app = createApp({ config: testConfig(), database, temporal: env.client, logger: pino({ level: 'silent' }), metrics: registry });
    const member = await signUp(app);
    await request(app).get('/v1/orders/o_does_not_exist').set(member.auth).expect(404);
    await request(app).get('/v1/orders/o_nor_this_one').set(member.auth).expect(404);
    await request(app).get('/no/such/path').expect(404);
    // The public app does not serve its metrics: it is a 404 like any unknown path.
    const hidden = await request(app).get('/metrics').expect(404);
    expect(hidden.text).not.toContain('closetflow_http_requests_total');

    const res = await request(createMetricsApp(registry)).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // Two requests, one series: the template, never the order ids.
    expect(sample(res.text, 'closetflow_http_requests_total{method="GET",route="/v1/orders/:orderId",status="404"}')).toBe(2);
    expect(res.text).not.toContain('o_does_not_exist');
    expect(sample(res.text, 'closetflow_http_requests_total{method="POST",route="/v1/auth/signup",status="202"}')).toBe(1);
    expect(sample(res.text, 'closetflow_http_requests_total{method="POST",route="/v1/auth/verify",status="201"}')).toBe(1);
    expect(sample(res.text, 'closetflow_http_requests_total{method="GET",route="(unmatched)",status="404"}')).toBe(2);
    await request(createMetricsApp(registry)).get('/healthz').expect(404);
    expect(sample(res.text, 'closetflow_http_request_duration_seconds_count{method="GET",route="/v1/orders/:orderId",status="404"}')).toBe(2);
    expect(res.text).toContain('# TYPE closetflow_http_request_errors_total counter');
  });
});

describe('worker metrics', () => {
  it('serves the SDK runtime metrics and the business counters after a box was reserved, handed to the WMS and cancelled', async () => {
    // Slow WMS steps, callbacks to nowhere: the box is cancelled before it ships.
    wmsServer = await createWmsSimulator({
      callbackUrl: 'http://127.0.0.1:9/unused',
      webhookSecret: 'test-secret-0123456789',
      faults: { stepMs: 600_000 },
    }).start(0);
    const config = testConfig({ WMS_URL: wmsServer.url });
    workers = await Promise.all(
      (['orders', 'styling', 'inventory', 'warehouse-integration'] as const).map((domain) =>
        createDomainWorker({
          domain,
          connection: env.nativeConnection,
          namespace: 'default',
          config,
          database,
          client: env.client,
          workflowBundlePath: workflowBundle().codePath,
        }),
      ),
    );
    running = Promise.all(workers.map((w) => w.run()));
    const scrape = async () => (await fetch(metricsServer.url)).text();
    const before = await scrape();

    const { size } = await seedItems(database, ['dress', 'top'], 2);
    const { input, handle } = await startOrder(env.client, { size });
    await eventually(
      async () => ((await timelineTypes(database, input.orderId)).includes('shipment.requested') ? true : undefined),
      30_000,
      'shipment.requested',
    );
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'metrics test' }] });
    await handle.result();

    // Undoing the box: the stock released, the WMS instruction cancelled (each counted once).
    const compensated = (text: string, activity: string, domain: string) =>
      sample(text, `closetflow_compensations_total{activity="${activity}",domain="${domain}"}`) ?? 0;
    const after = await eventually(
      async () => {
        const text = await scrape();
        return compensated(text, 'releaseItems', 'inventory') > compensated(before, 'releaseItems', 'inventory') ? text : undefined;
      },
      20_000,
      'the release counted',
    );
    expect(compensated(after, 'releaseItems', 'inventory') - compensated(before, 'releaseItems', 'inventory')).toBe(1);
    expect(
      compensated(after, 'cancelShippingInstruction', 'warehouse-integration') - compensated(before, 'cancelShippingInstruction', 'warehouse-integration'),
    ).toBe(1);

    // The Temporal SDK's own metrics (core's Prometheus exporter)...
    expect(after).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="orderWorkflow"[^}]*\} [1-9]/m);
    // The event layer's activities run as local activities in each publishing worker.
    expect(after).toMatch(/^temporal_local_activity_execution_latency(_seconds)?_count\{[^}]*activity_type="recordEvent"/m);
    // ...and the business counters, moved by this order.
    const placed = 'closetflow_orders_placed_total';
    expect((sample(after, placed) ?? 0) - (sample(before, placed) ?? 0)).toBe(1);
    const cancelled = 'closetflow_events_published_total{type="order.cancelled",domain="orders"}';
    expect((sample(after, cancelled) ?? 0) - (sample(before, cancelled) ?? 0)).toBe(1);
    expect(after).toMatch(/^closetflow_events_delivered_total\{type="order\.cancelled",subscriber_domain="inventory",outcome="(started|signalled)"\} [1-9]/m);
    expect(after).toMatch(/^closetflow_event_delivery_lag_seconds_count\{type="order\.cancelled"\} [1-9]/m);
  });
});
