/**
 * End to end, the way a new developer meets the project: `npm start` boots the embedded stack,
 * a member signs up (the verification token from the mail simulator) and orders over HTTP only,
 * the box reaches `delivered` (the WMS's webhooks signed with the secret npm start generated),
 * Ctrl-C stops everything, and a second start still has the data.
 */
import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMAIN_WORKER_NAMES, type DomainWorkerName } from '../../workers/domains';
import { ownStackEnv } from '../../scripts/own-stack';
import { WMS_WEBHOOK_SECRET_FILE } from '../../config/secrets';
import { signUpVerified } from '../../scripts/member-signup';
import { freePortRun, launchStack, type LaunchedStack } from '../support/launcher';

/** The fields of API answers this test reads. */
interface ApiBody {
  token: string;
  orderId: string;
  status: string;
  events: { type: string }[];
}

describe('the embedded stack (npm start)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: string;
  let metricsBase: number;
  let apiMetrics: string;
  let mailUrl: string;
  let stack: LaunchedStack | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-e2e-'));
    const own = await ownStackEnv({ dataDir });
    ({ api, apiMetrics, mail: mailUrl } = own.urls);
    // Worker i serves /metrics on metricsBase + i (the ports after a free one are very likely free too).
    metricsBase = await freePortRun(DOMAIN_WORKER_NAMES.length);
    env = { ...own.env, WMS_STEP_MS: '300', LOG_LEVEL: 'warn', WORKER_METRICS_BASE_PORT: String(metricsBase) };
    // npm start generates its own WMS webhook secret into DATA_DIR.
    delete env.WMS_WEBHOOK_SECRET;
  });

  afterAll(async () => {
    if (stack && stack.child.exitCode === null) {
      stack.child.kill('SIGINT');
      await stack.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes an order placed over HTTP to delivered, stops cleanly on Ctrl-C and keeps the data on restart', async () => {
    stack = await launchStack(env);
    const call = async (method: string, url: string, body?: unknown, token?: string) => {
      const res = await fetch(`${api}${url}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as ApiBody };
    };
    const credentials = { email: `e2e-${Date.now()}@example.com`, password: 'correct horse battery staple' };
    expect(fs.statSync(path.join(dataDir, WMS_WEBHOOK_SECRET_FILE)).mode & 0o777).toBe(0o600);
    const { token } = await signUpVerified({
      apiUrl: api,
      mailUrl,
      body: {
        ...credentials,
        name: 'Ada Member',
        size: 'M',
        preferredCategories: ['dress', 'top', 'jacket'],
        address: { name: 'Ada Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
      },
    });

    const placed = await call('POST', '/v1/orders', { itemCount: 3 }, token);
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId as string;

    const started = Date.now();
    let status = '';
    while (status !== 'delivered' && Date.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await call('GET', `/v1/orders/${orderId}`, undefined, token)).body.status;
    }
    expect(status).toBe('delivered');

    const timeline = await call('GET', `/v1/orders/${orderId}/timeline`, undefined, token);
    expect(timeline.body.events.map((e) => e.type)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.reserved',
      'shipment.requested',
      'shipment.shipped',
      'shipment.delivered',
    ]);

    // Every workflow of the box is found by its OrderId, across at least five task queues.
    const connection = await Connection.connect({ address: `127.0.0.1:${env.EMBEDDED_TEMPORAL_PORT}` });
    try {
      const client = new Client({ connection });
      const queues = new Set<string>();
      for await (const wf of client.workflow.list({ query: `OrderId = "${orderId}"` })) queues.add(wf.taskQueue);
      // Delivery opens the rental window: the box's returnWorkflow runs on the returns queue.
      expect([...queues].sort()).toEqual(['inventory', 'orders', 'returns', 'styling', 'warehouse', 'warehouse-integration']);
    } finally {
      await connection.close();
    }

    // Each domain worker serves its own /metrics; the API serves its own on its metrics port, not the public one.
    const scrape = async (url: string) => (await fetch(url)).text();
    const workerMetrics = (domain: DomainWorkerName) => scrape(`http://127.0.0.1:${metricsBase + DOMAIN_WORKER_NAMES.indexOf(domain)}/metrics`);
    // The orders worker publishes order.placed itself (the event layer runs in every worker).
    const orders = await workerMetrics('orders');
    expect(orders).toMatch(/^closetflow_orders_placed_total [1-9]/m);
    expect(orders).toMatch(/^temporal_num_pollers\{[^}]*task_queue="orders"/m);
    expect(orders).toMatch(/^temporal_workflow_task_execution_latency\w*\{[^}]*task_queue="orders"/m);
    expect(await scrape(apiMetrics)).toMatch(/^closetflow_http_requests_total\{method="POST",route="\/v1\/orders",status="202"\} 1$/m);
    expect((await fetch(`${api}/metrics`)).status).toBe(404);

    // Ctrl-C: everything stops and the launcher exits 0.
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).toContain('stopped');

    // A second start keeps the data: the member logs in and still sees the delivered box.
    stack = await launchStack(env);
    const login = await call('POST', '/v1/auth/login', credentials);
    expect(login.status).toBe(200);
    const again = await call('GET', `/v1/orders/${orderId}`, undefined, login.body.token);
    expect(again.body.status).toBe('delivered');
  }, 240_000);
});
