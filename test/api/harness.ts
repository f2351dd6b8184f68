import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
/**
 * Builds the real API for tests: the real PostgreSQL started by global-setup (DATABASE_URL), a
 * real Temporal client on the shared dev server (TEMPORAL_ADDRESS), a mail relay sending to the
 * run's mail simulator (MAIL_URL), and a pino logger whose JSON lines are captured so tests can
 * assert on logs.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../api/app';
import { createMailRelay, type MailRelay } from '../../api/auth/mail-outbox';
import { createOrderStartRelay } from '../../workers/order-start-relay';
import { loadConfig, type Config } from '../../config';
import { connectDatabase, type Database } from '../../db/client';
import { readVerificationToken } from '../../scripts/member-signup';
import { connectTestEnv } from '../support/temporal';

export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
export const TEST_WMS_SECRET = 'test-wms-webhook-secret-0123456789';

export interface LogLine {
  level: number;
  msg: string;
  domain?: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface ApiHarness {
  app: Express;
  config: Config;
  database: Database;
  env: TestWorkflowEnvironment;
  logs: LogLine[];
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    JWT_SECRET: TEST_JWT_SECRET,
    WMS_WEBHOOK_SECRET: TEST_WMS_SECRET,
    MAIL_URL: process.env.MAIL_URL,
    LOG_LEVEL: 'debug',
    // No background lag sampling in tests that do not test it (test/api/backpressure.test.ts does).
    LOAD_SAMPLE_INTERVAL_MS: '0',
    // Every test app is a deployment of its own: its rate limits and login throttles are its own
    // budget, not the run's (the windows live in the shared database).
    RATE_LIMIT_NAMESPACE: `test-${randomUUID()}`,
    ...overrides,
  });
}

/** A pino logger writing JSON lines into `logs`. */
export function captureLogger(logs: LogLine[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return pino({ level: 'debug', base: { domain: 'api' } }, stream);
}

/** The run's mail simulator (global-setup.ts). */
export function testMailUrl(): string {
  const url = process.env.MAIL_URL;
  if (!url) throw new Error('MAIL_URL is not set; is jest running with test/support/global-setup.ts?');
  return url;
}

export async function startApi(opts: { database?: Database; env?: TestWorkflowEnvironment } = {}): Promise<ApiHarness> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set; is jest running with test/support/global-setup.ts?');
  const database = opts.database ?? connectDatabase(url, { max: 5 });
  // The run's shared dev server, unless the test brought its own (closed with it: a drill's server).
  const env = opts.env ?? (await connectTestEnv());
  const config = testConfig();
  const logs: LogLine[] = [];
  // As api/main.ts runs it: signup's e-mails go to the run's mail simulator.
  const mailRelay = createMailRelay({ database, mailUrl: testMailUrl(), log: pino({ level: 'silent' }), pollMs: 100 });
  const mail = mailRelay.run();
  const app = createApp({ config, database, temporal: env.client, logger: captureLogger(logs), mailQueued: mailRelay.wake });
  // In production the orders worker runs it: accepted orders get their workflows started.
  const relay = createOrderStartRelay({ database, client: env.client, log: pino({ level: 'silent' }), pollMs: 200 }).run();
  return {
    app,
    config,
    database,
    env,
    logs,
    async close() {
      await relay.stop();
      await mail.stop();
      if (!opts.env) await env.teardown();
      await database.close();
    },
  };
}

/** An API harness listening on a free loopback port (for the WMS simulator's webhooks); close() stops both. */
export async function startListeningApi(opts: { env?: TestWorkflowEnvironment } = {}): Promise<ApiHarness & { url: string }> {
  const api = await startApi(opts);
  const server = api.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    ...api,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await api.close();
    },
  };
}

let counter = 0;
/** An email no other test (or earlier run against the same database) uses. */
export function uniqueEmail(tag = 'member'): string {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${process.pid}-${counter}@example.test`;
}

export function signupBody(overrides: Record<string, unknown> = {}) {
  return {
    email: uniqueEmail(),
    password: 'correct horse battery',
    name: 'Ada Lovelace',
    size: 'M',
    preferredCategories: ['dress', 'knitwear'],
    address: { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    ...overrides,
  };
}

export interface Member {
  customerId: string;
  token: string;
  email: string;
  auth: { Authorization: string };
}

/**
 * A relay of signUp's own, for apps built with createApp alone (no harness relay running): it
 * sends what is due while signUp waits for the e-mail. Closed after the test file.
 */
let ownRelay: { database: Database; relay: MailRelay } | undefined;
afterAll(async () => {
  await ownRelay?.database.close();
  ownRelay = undefined;
});

/** The verification token the run's mail simulator received for `email`; sends due e-mails meanwhile. */
export async function verificationToken(email: string): Promise<string> {
  ownRelay ??= (() => {
    const database = connectDatabase(process.env.DATABASE_URL!, { max: 1 });
    return { database, relay: createMailRelay({ database, mailUrl: testMailUrl(), log: pino({ level: 'silent' }) }) };
  })();
  const deadline = Date.now() + 20_000;
  for (;;) {
    // Rows another relay holds are skipped here (SKIP LOCKED); that relay sends them.
    await ownRelay.relay.sweep();
    const token = await readVerificationToken({ mailUrl: testMailUrl(), email, timeoutMs: 0 }).catch(() => undefined);
    if (token) return token;
    if (Date.now() > deadline) throw new Error(`no verification e-mail for ${email} within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Signs a new member up through the API (an app, or the URL of a listening one): signup, the e-mail's token, verify. */
export async function signUp(app: Express | string, overrides: Record<string, unknown> = {}): Promise<Member> {
  const body = signupBody(overrides);
  await request(app).post('/v1/auth/signup').send(body).expect(202);
  const verified = await request(app)
    .post('/v1/auth/verify')
    .send({ token: await verificationToken(body.email as string) })
    .expect(201);
  const { customerId, token } = verified.body as { customerId: string; token: string };
  return { customerId, token, email: body.email as string, auth: { Authorization: `Bearer ${token}` } };
}

/** Fails if a response body looks like it leaks internals (stack frames, file paths). */
export function expectNoInternals(body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)/);
  expect(text).not.toMatch(/node_modules|\/work\/|\.ts:\d+/);
  expect(text).not.toMatch(/"stack"/);
}

/**
 * Ends order workflows a test started. Their starts are asynchronous (the outbox relay), so each
 * is waited for first: terminating before the relay started it would leave it running for the
 * next test's orders worker.
 */
export async function terminateOrderWorkflows(api: Pick<ApiHarness, 'env'>, workflowIds: readonly string[]): Promise<void> {
  for (const id of workflowIds) {
    const handle = api.env.client.workflow.getHandle(id);
    for (
      let i = 0;
      i < 100 &&
      !(await handle.describe().then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    await handle.terminate('test cleanup').catch(() => undefined);
  }
}

/** One call to a listening API as a member: status and JSON body (empty when there is none). */
export async function callApi(
  baseUrl: string,
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
