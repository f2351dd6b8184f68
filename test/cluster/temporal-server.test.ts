/**
 * The production shape on this machine (issue 15): the Temporal server itself — not the dev
 * server — on PostgreSQL (scripts/temporal-cluster.ts), two replicas of every domain worker and two
 * API apps. During a run of boxes the server is killed (-9) and restarted, and one API app stops
 * for good; every box still closes, and nothing is repeated (one WMS instruction per box, one
 * membership capture per member at the PSP), as test/flows/invariants.test.ts asserts on the dev
 * server. One replica of every domain runs in this test's process, the other as its own worker
 * process (`workers/main.ts`, as `npm run worker` runs it), and those are killed -9 mid-run.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, freePortRun } from '../../config/ports';
import { setupClusterSchemas, startTemporalCluster, type TemporalCluster } from '../../scripts/temporal-cluster';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { callApi, signUp, startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { DOMAIN_WORKER_NAMES } from '../../workers/domains';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';
import { workflowBundle } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');

const BOXES = 4;

describe('the Temporal server on PostgreSQL, with replicas', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-cluster-'));
  let cluster: TemporalCluster;
  let env: TestWorkflowEnvironment;
  let apis: (ApiHarness & { url: string })[] = [];
  let replica: RunningSystem;
  /** The other replica of every domain: worker processes of their own. */
  let processes: ChildProcess[] = [];
  let wmsSim: WmsSimulator;
  let wms: WmsRunningServer;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  let start: () => Promise<TemporalCluster>;

  beforeAll(async () => {
    process.env.RETURNS_CLEANING_TIME = '1 second';
    const url = new URL(process.env.DATABASE_URL!);
    const pg = { host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    setupClusterSchemas(pg);
    // The internal ports stay below 32 768 (the server keeps membership ports in a smallint).
    const ports = { frontend: await freePort(), base: await freePortRun(9, 32_700) };
    start = () => startTemporalCluster({ dir, pg, ports });
    cluster = await start();
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: cluster.address });
    apis = [await startListeningApi({ env }), await startListeningApi({ env })];
    wmsSim = createWmsSimulator({ callbackUrl: `${apis[0]!.url}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 1500 } });
    wms = await wmsSim.start(0);
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    replica = await startSystem({ env, wmsUrl: wms.url, pspUrl: pspServer.url });
    const workerEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: cluster.address,
      WMS_URL: wms.url,
      PSP_URL: pspServer.url,
      CLOSETFLOW_WORKFLOW_BUNDLE: workflowBundle().codePath,
      LOG_LEVEL: 'warn',
      WORKER_METRICS_PORT: '0',
    };
    processes = DOMAIN_WORKER_NAMES.map((domain) =>
      spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers', 'main.ts'), '--domain', domain], { cwd: ROOT, env: workerEnv, stdio: 'ignore' }),
    );
    // Every process polls before the run: the task queues list two pollers' identities.
    await eventually(
      async () => {
        for (const domain of DOMAIN_WORKER_NAMES) {
          const { pollers } = await env.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: domain }, taskQueueType: 1 });
          if (new Set((pollers ?? []).map((p) => p.identity)).size < 2) return undefined;
        }
        return true;
      },
      120_000,
      'two replicas polling every domain task queue',
    );
  }, 240_000);

  afterAll(async () => {
    for (const child of processes) child.kill('SIGKILL');
    await replica?.stop().catch(() => undefined);
    for (const api of apis) await api.close().catch(() => undefined);
    await wms?.close();
    await pspServer?.close();
    await env?.teardown();
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env.RETURNS_CLEANING_TIME;
  });

  it('closes every box through a kill -9 and restart of the Temporal server and the loss of an API app and a worker replica, repeating nothing', async () => {
    const { size } = await seedItems(replica.database, ['dress', 'top'], BOXES * 2, 'XS');
    const members = await Promise.all(Array.from({ length: BOXES }, (_, i) => signUp(apis[i % 2]!.url, { size, preferredCategories: ['dress', 'top'] })));
    const orders = await Promise.all(
      members.map(async (m, i) => {
        const res = await callApi(apis[i % 2]!.url, 'POST', '/v1/orders', m.token, { itemCount: 2 });
        expect(res.status).toBe(202);
        return { ...m, orderId: String(res.body.orderId) };
      }),
    );
    const statusOf = async (orderId: string, token: string) => String((await callApi(apis[0]!.url, 'GET', `/v1/orders/${orderId}`, token)).body.status);
    await eventually(
      async () => ((await Promise.all(orders.map((o) => statusOf(o.orderId, o.token)))).every((s) => s !== 'placed') ? true : undefined),
      60_000,
      'every box past placed',
    );

    // The faults, mid-run: a replica of every domain worker dies (kill -9), the server dies without a
    // word and comes back on the same database, and an API app goes away for good.
    const killed = processes.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of processes) child.kill('SIGKILL');
    await Promise.all(killed);
    await cluster.kill();
    cluster = await start();
    await apis[1]!.close();
    apis = [apis[0]!];

    await Promise.all(
      orders.map(async (o) => {
        await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'delivered' ? true : undefined), 120_000, `${o.orderId} delivered`);
        expect((await callApi(apis[0]!.url, 'POST', `/v1/orders/${o.orderId}/return`, o.token, {})).status).toBe(202);
        await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'closed' ? true : undefined), 120_000, `${o.orderId} closed`);
      }),
    );

    for (const o of orders) expect([...wmsSim.instructions.values()].filter((i) => i.orderId === o.orderId)).toHaveLength(1);
    const captures = new Map<string, number>();
    for (const c of psp.ledger) captures.set(c.metadata.chargeKey, (captures.get(c.metadata.chargeKey) ?? 0) + 1);
    for (const [chargeKey, count] of captures) expect({ chargeKey, count }).toEqual({ chargeKey, count: 1 });
    for (const m of members) expect([...captures.keys()].filter((k) => k.startsWith(`membership:${m.customerId}:`))).toHaveLength(1);
    const { sql } = replica.database;
    for (const o of orders) {
      const rows = await sql<
        { type: string; n: number }[]
      >`select type, count(*)::int as n from events.event_log where correlation_id = ${o.orderId} group by type`;
      const counts = Object.fromEntries(rows.map((r) => [r.type, r.n]));
      for (const type of ['order.placed', 'inventory.reserved', 'shipment.requested', 'shipment.shipped', 'shipment.delivered', 'return.completed'])
        expect({ type, count: counts[type] }).toEqual({ type, count: 1 });
    }
  }, 400_000);
});
