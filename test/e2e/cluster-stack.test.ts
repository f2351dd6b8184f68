/**
 * End to end on the production shape (issue 15): `npm run start:cluster` boots the Temporal server
 * on PostgreSQL, two processes of every domain worker, two API processes behind the proxy and the
 * Temporal Web UI server; the README's walk-through runs over HTTP only — signup, the e-mailed
 * verification token, an order to `delivered`, its return to `closed` — and the Web UI lists every
 * workflow of the box by its OrderId.
 */
import { Connection } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownStackEnv } from '../../scripts/own-stack';
import { signUpVerified } from '../../scripts/member-signup';
import { DOMAIN_WORKERS, DOMAIN_WORKER_NAMES } from '../../workers/domains';
import { callApi } from '../api/harness';
import { descendants, isAlive, launchStack, type LaunchedStack } from '../support/launcher';

/** The fields of API answers this test reads. */
interface ApiBody {
  orderId: string;
  status: string;
  events: { type: string }[];
}

describe('the production shape (npm run start:cluster)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: string;
  let ui: string;
  let mailUrl: string;
  let temporalAddress: string;
  let stack: LaunchedStack | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-e2e-cluster-'));
    const own = await ownStackEnv({ dataDir, cluster: true });
    ({ api, ui, mail: mailUrl, temporalAddress } = own.urls);
    env = { ...own.env, API_METRICS_PORT: '0', WORKER_METRICS_BASE_PORT: '0', WMS_STEP_MS: '300', INVENTORY_CLEANING_TIME: '1 second', LOG_LEVEL: 'warn' };
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

  it('runs the README walk-through from signup to a closed box, with two processes of every worker and of the API, and the Web UI on the cluster', async () => {
    stack = await launchStack(env, ['--cluster']);
    const started = descendants(stack.child.pid!);
    const processes = started.map((p) => p.args);
    for (const domain of DOMAIN_WORKER_NAMES)
      expect({ domain, processes: processes.filter((p) => p.endsWith(`--domain ${domain}`)).length }).toEqual({ domain, processes: 2 });
    expect(processes.filter((p) => p.includes('api/main.ts'))).toHaveLength(2);
    expect(processes.filter((p) => p.includes('temporal-server') && p.includes(' start'))).toHaveLength(1);
    expect(processes.filter((p) => p.includes('temporal-ui') && p.includes(' start'))).toHaveLength(1);

    // Both processes of every domain poll its task queue on the cluster.
    const connection = await Connection.connect({ address: temporalAddress });
    try {
      for (const domain of DOMAIN_WORKER_NAMES) {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: DOMAIN_WORKERS[domain].taskQueue },
          taskQueueType: 1,
        });
        expect({ domain, pollers: new Set((pollers ?? []).map((p) => p.identity)).size }).toEqual({ domain, pollers: 2 });
      }
    } finally {
      await connection.close();
    }

    // The harness's one API caller, typed to the fields this test reads.
    const call = async (method: string, url: string, token: string, body?: unknown) => {
      const res = await callApi(api, method, url, token, body);
      return { status: res.status, body: res.body as unknown as ApiBody };
    };
    const { token } = await signUpVerified({
      apiUrl: api,
      mailUrl,
      body: {
        email: `e2e-cluster-${Date.now()}@example.com`,
        password: 'correct horse battery staple',
        name: 'Ada Member',
        size: 'M',
        preferredCategories: ['dress', 'top', 'jacket'],
        address: { name: 'Ada Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
      },
    });
    const placed = await call('POST', '/v1/orders', token, { itemCount: 3 });
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId;
    const waitFor = async (wanted: string) => {
      const deadline = Date.now() + 90_000;
      let status = '';
      while (status !== wanted && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        status = (await call('GET', `/v1/orders/${orderId}`, token)).body.status;
      }
      expect(status).toBe(wanted);
    };
    await waitFor('delivered');
    expect((await call('POST', `/v1/orders/${orderId}/return`, token, {})).status).toBe(202);
    await waitFor('closed');
    const timeline = await call('GET', `/v1/orders/${orderId}/timeline`, token);
    expect(timeline.body.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['order.placed', 'inventory.reserved', 'shipment.requested', 'shipment.delivered', 'return.completed']),
    );

    // The Web UI server reads the cluster: its API lists the box's workflows from six task queues.
    const query = encodeURIComponent(`OrderId="${orderId}"`);
    const listed = (await (await fetch(`${ui}/api/v1/namespaces/default/workflows?query=${query}`)).json()) as {
      executions?: { taskQueue: string }[];
    };
    expect([...new Set((listed.executions ?? []).map((e) => e.taskQueue))].sort()).toEqual([
      'inventory',
      'orders',
      'returns',
      'styling',
      'warehouse',
      'warehouse-integration',
    ]);

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    // Nothing it started outlives it (tsx's esbuild helpers leave when their parent's pipe closes: a moment).
    const survivors = () => started.filter((p) => isAlive(p.pid)).map((p) => p.args);
    for (const deadline = Date.now() + 10_000; survivors().length > 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 200));
    expect(survivors()).toEqual([]);
  }, 300_000);
});
