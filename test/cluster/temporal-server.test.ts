/**
 * The production shape on this machine (issue 15): the Temporal server itself — not the dev
 * server — on PostgreSQL (scripts/temporal-cluster.ts), two replicas of every domain worker and two
 * API replicas. During a run of boxes one replica of every domain worker and one API process are
 * killed (-9) and the server is killed (-9) and restarted; every box still closes, and nothing is
 * repeated (one WMS instruction per box, one membership capture per member at the PSP, each
 * milestone published once), as test/flows/invariants.test.ts asserts on the dev server. The
 * survivors keep serving: a second run of boxes, placed after the kills, closes on them alone.
 * One replica of every domain and one API app run in this test's process; the others are
 * processes of their own (`workers/main.ts` and `api/main.ts`, as `npm run worker` and `npm run
 * api` run them), and those are the ones killed.
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
import { callApi, signUp, startListeningApi, TEST_JWT_SECRET, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { DOMAIN_WORKER_NAMES } from '../../workers/domains';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';
import { workflowBundle } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');

const BOXES = 4;

describe('the Temporal server on PostgreSQL, with replicas', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-cluster-'));
  let cluster: TemporalCluster;
  let env: TestWorkflowEnvironment;
  let api: ApiHarness & { url: string };
  /** The other API replica: a process of its own. */
  let apiProcess: ChildProcess;
  let apiUrls: string[] = [];
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
    api = await startListeningApi({ env });
    wmsSim = createWmsSimulator({ callbackUrl: `${api.url}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 1500 } });
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
    const apiPort = await freePort();
    apiProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'main.ts')], {
      cwd: ROOT,
      env: { ...workerEnv, API_PORT: String(apiPort), API_METRICS_PORT: '0', JWT_SECRET: TEST_JWT_SECRET, WMS_WEBHOOK_SECRET: TEST_WMS_SECRET, DATA_DIR: dir },
      stdio: 'ignore',
    });
    apiUrls = [api.url, `http://127.0.0.1:${apiPort}`];
    await eventually(async () => ((await fetch(`${apiUrls[1]}/healthz`).catch(() => undefined))?.ok ? true : undefined), 60_000, 'the API process healthy');
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
    for (const child of [...processes, apiProcess]) child?.kill('SIGKILL');
    await replica?.stop().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await wms?.close();
    await pspServer?.close();
    await env?.teardown();
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env.RETURNS_CLEANING_TIME;
  });

  it('closes every box through a kill -9 of a replica of every worker, of an API process and of the Temporal server, repeating nothing; the survivors serve on', async () => {
    const { size } = await seedItems(replica.database, ['dress', 'top'], BOXES * 4, 'XS');
    const statusOf = async (orderId: string, token: string) => String((await callApi(api.url, 'GET', `/v1/orders/${orderId}`, token)).body.status);
    /** Signs members up and places their boxes, alternating between `urls`. */
    const placeBoxes = async (urls: string[]) => {
      const members = await Promise.all(
        Array.from({ length: BOXES }, (_, i) => signUp(urls[i % urls.length]!, { size, preferredCategories: ['dress', 'top'] })),
      );
      return Promise.all(
        members.map(async (m, i) => {
          const res = await callApi(urls[i % urls.length]!, 'POST', '/v1/orders', m.token, { itemCount: 2 });
          expect(res.status).toBe(202);
          return { ...m, orderId: String(res.body.orderId) };
        }),
      );
    };
    /** Each box delivered, returned and closed. */
    const runToClosed = (boxes: { orderId: string; token: string }[]) =>
      Promise.all(
        boxes.map(async (o) => {
          await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'delivered' ? true : undefined), 120_000, `${o.orderId} delivered`);
          expect((await callApi(api.url, 'POST', `/v1/orders/${o.orderId}/return`, o.token, {})).status).toBe(202);
          await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'closed' ? true : undefined), 120_000, `${o.orderId} closed`);
        }),
      );

    // Both API replicas take signups and orders; the boxes are under way before the faults.
    const first = await placeBoxes(apiUrls);
    await eventually(
      async () => ((await Promise.all(first.map((o) => statusOf(o.orderId, o.token)))).every((s) => s !== 'placed') ? true : undefined),
      60_000,
      'every box past placed',
    );

    // The faults, mid-run: a replica of every domain worker and an API process die without a word
    // (kill -9), and so does the server, which comes back on the same database.
    const killed = [...processes, apiProcess].map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of [...processes, apiProcess]) child.kill('SIGKILL');
    await Promise.all(killed);
    await cluster.kill();
    cluster = await start();

    // The survivors serve on alone (the killed replicas never come back): the killed API refuses,
    // and a second run of boxes placed through the surviving one closes beside the first.
    await expect(fetch(`${apiUrls[1]}/healthz`)).rejects.toThrow();
    const second = await placeBoxes([api.url]);
    const orders = [...first, ...second];
    await runToClosed(orders);

    for (const o of orders) expect([...wmsSim.instructions.values()].filter((i) => i.orderId === o.orderId)).toHaveLength(1);
    const captures = new Map<string, number>();
    for (const c of psp.ledger) captures.set(c.metadata.chargeKey, (captures.get(c.metadata.chargeKey) ?? 0) + 1);
    for (const [chargeKey, count] of captures) expect({ chargeKey, count }).toEqual({ chargeKey, count: 1 });
    for (const m of orders) expect([...captures.keys()].filter((k) => k.startsWith(`membership:${m.customerId}:`))).toHaveLength(1);
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
