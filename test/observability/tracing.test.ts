/**
 * Tracing: one POST /v1/orders is one OpenTelemetry trace, from the API's server span through
 * the outbox row (it carries the trace context to the relay that starts the workflow), the order workflow, the events it publishes (child starts and signals carry the context in
 * Temporal headers) and the workflows and activities of every domain they reach. Spans go to an
 * in-memory exporter; each domain's worker traces as its own service, as separate processes do.
 */
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createOrderStartRelay } from '../../workers/order-start-relay';
import { connectDatabase, type Database } from '../../db/client';
import { createTracing, type Tracing } from '../../observability/tracing';
import { createWmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { createDomainWorker } from '../../workers/create-worker';
import type { DomainWorkerName } from '../../workers/domains';
import { signUp, testConfig } from '../api/harness';
import { eventually, seedItems, timelineTypes } from '../support/system';
import { connectTestEnv, workflowBundle } from '../support/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

const DOMAINS: DomainWorkerName[] = ['orders', 'styling', 'inventory', 'warehouse-integration', 'warehouse'];
const exporter = new InMemorySpanExporter();
const spanProcessor = new SimpleSpanProcessor(exporter);
const tracingOf = (service: string): Tracing => createTracing({ serviceName: `closetflow-${service}`, spanProcessor });

let env: TestWorkflowEnvironment;
let database: Database;
let wmsServer: WmsRunningServer;
let workers: Worker[] = [];
let running: Promise<unknown>;
let relay: { stop(): Promise<void> } | undefined;
const workflowIds: string[] = [];

/** A client whose workflow calls carry the current trace, like the API's and the bus's. */
const tracedClient = (tracing: Tracing) =>
  new Client({
    connection: env.connection,
    namespace: 'default',
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] },
  });

beforeAll(async () => {
  env = await connectTestEnv();
  database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
  // Slow steps, callbacks to nowhere: the trace is followed up to the WMS instruction.
  wmsServer = await createWmsSimulator({
    callbackUrl: 'http://127.0.0.1:9/unused',
    webhookSecret: 'test-secret-0123456789',
    faults: { stepMs: 600_000 },
  }).start(0);
  const config = testConfig({ WMS_URL: wmsServer.url });
  workers = await Promise.all(
    DOMAINS.map((domain) => {
      const tracing = tracingOf(domain);
      return createDomainWorker({
        domain,
        connection: env.nativeConnection,
        namespace: 'default',
        config,
        database,
        client: tracedClient(tracing),
        tracing,
        workflowBundlePath: workflowBundle().codePath,
      });
    }),
  );
  running = Promise.all(workers.map((w) => w.run()));
  // As in the orders worker process: the outbox relay starts accepted orders with a traced client.
  relay = createOrderStartRelay({ database, client: tracedClient(tracingOf('orders')), log: pino({ level: 'silent' }), pollMs: 200 }).run();
});

afterAll(async () => {
  await relay?.stop();
  for (const id of workflowIds)
    await env.client.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch(() => undefined);
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await running;
  await wmsServer?.close();
  await database?.close();
  await env?.teardown();
});

const serviceOf = (span: ReadableSpan) => String(span.resource.attributes['service.name']);

describe('tracing', () => {
  it('follows one POST /v1/orders across the API and at least four domains in one trace', async () => {
    const api = tracingOf('api');
    const app = createApp({ config: testConfig(), database, temporal: tracedClient(api), tracer: api.tracer, logger: pino({ level: 'silent' }) });
    const member = await signUp(app);
    const { size } = await seedItems(database, ['dress', 'knitwear'], 3);
    await database.sql`update auth.customers set size = ${size} where id = ${member.customerId}`;

    const placed = await request(app).post('/v1/orders').set(member.auth).send({ itemCount: 2 }).expect(202);
    const orderId: string = placed.body.orderId;
    workflowIds.push(`order:${orderId}`);
    await eventually(async () => ((await timelineTypes(database, orderId)).includes('shipment.requested') ? true : undefined), 30_000, 'shipment.requested');

    const root = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/orders' && s.attributes['http.response.status_code'] === 202);
    expect(root).toBeDefined();
    const traceId = root!.spanContext().traceId;
    const expected = ['closetflow-api', 'closetflow-orders', 'closetflow-styling', 'closetflow-inventory', 'closetflow-warehouse-integration'];
    // Workflow spans leave the sandbox when their workflow task completes: wait for the last ones.
    const services = await eventually(
      async () => {
        const seen = new Set(
          exporter
            .getFinishedSpans()
            .filter((s) => s.spanContext().traceId === traceId)
            .map(serviceOf),
        );
        return expected.every((s) => seen.has(s)) ? seen : undefined;
      },
      20_000,
      'spans of every domain',
    );
    expect([...services].filter((s) => s !== 'closetflow-api').length).toBeGreaterThanOrEqual(4);

    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const names = new Set(inTrace.map((s) => `${serviceOf(s)} ${s.name}`));
    // The hops that carry the context: the outbox row (the orders worker's relay starts the order
    // in the request's trace), a workflow starting a subscriber as its child, and the activities
    // that run in each domain's worker.
    expect(names).toContain('closetflow-orders StartWorkflow:orderWorkflow');
    expect(names).toContain('closetflow-orders StartChildWorkflow:stylingWorkflow');
    expect(names).toContain('closetflow-styling RunActivity:pickItems');
    expect(names).toContain('closetflow-inventory RunActivity:reserveItems');
    expect(names).toContain('closetflow-warehouse-integration RunActivity:sendShippingInstruction');
    // Each publisher records its own events (a local activity in its worker).
    expect(names).toContain('closetflow-orders RunActivity:recordEvent');
    // The request is the root: nothing before it in this trace.
    expect(root!.parentSpanId).toBeUndefined();
  });
});
