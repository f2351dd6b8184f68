/**
 * `npm run api` as a real process: starts, serves (metrics on their own port only), sends signup's
 * e-mails, keeps its JWT secret across restarts, stops on SIGTERM; refuses to start without a
 * real WMS webhook secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { freePort } from '../../config/ports';
import { TEST_WMS_SECRET, signupBody, verificationToken } from './harness';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-api-main-'));
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface ApiProcess {
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns `api/main.ts`; `env` adds to (or, set to undefined, removes from) the test settings. */
async function spawnApi(env: Record<string, string | undefined> = {}): Promise<ApiProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const settings: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    MAIL_URL: process.env.MAIL_URL,
    WMS_WEBHOOK_SECRET: TEST_WMS_SECRET,
    API_PORT: String(port),
    API_METRICS_PORT: String(metricsPort),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...env,
  };
  for (const [name, value] of Object.entries(settings)) if (value === undefined) delete settings[name];
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'api/main.ts'], { cwd: REPO_ROOT, env: settings, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, output: () => out, exited };
}

async function startApiProcess(): Promise<ApiProcess> {
  const api = await spawnApi();
  const deadline = Date.now() + 30_000;
  while (!api.output().includes('API listening')) {
    if (api.child.exitCode !== null || Date.now() > deadline) throw new Error(`API did not start:\n${api.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return api;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

test('the API process serves, keeps tokens valid across a restart, and exits cleanly on SIGTERM', async () => {
  const first = await startApiProcess();
  await request(first.url)
    .get('/healthz')
    .expect(200, { status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  const secretFile = path.join(dataDir, 'jwt-secret');
  expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);

  // The process's own mail relay sends the verification e-mail to the run's mail simulator.
  const body = signupBody({ email: `main-${Date.now()}@example.test`, name: 'Grace', size: 'S', preferredCategories: ['top'] });
  await request(first.url).post('/v1/auth/signup').send(body).expect(202);
  const signup = await request(first.url)
    .post('/v1/auth/verify')
    .send({ token: await verificationToken(body.email as string) })
    .expect(201);
  const findLogLine = () =>
    first
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'request' && l.path === '/v1/auth/signup');
  // The access line is written when the response finishes, which may be just after we read it.
  for (let i = 0; i < 40 && !findLogLine(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(findLogLine()).toMatchObject({ domain: 'api', method: 'POST', status: 202, requestId: expect.any(String), durationMs: expect.any(Number) });

  // Metrics on their own port; the public port answers 404 for them.
  const metrics = await fetch(first.metricsUrl);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^closetflow_http_requests_total\{method="POST",route="\/v1\/auth\/verify",status="201"\} 1$/m);
  await request(first.url).get('/metrics').expect(404);

  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  const second = await startApiProcess();
  try {
    await request(second.url).get('/v1/orders').set('Authorization', `Bearer ${signup.body.token}`).expect(200);
  } finally {
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }
});

test.each([
  ['unset', undefined, /WMS_WEBHOOK_SECRET is not set/],
  ['the former public default', 'closetflow-local-wms-webhook-secret', /WMS_WEBHOOK_SECRET is the former public default/],
])('the API process refuses to start with WMS_WEBHOOK_SECRET %s, naming the variable', async (_what, secret, message) => {
  const api = await spawnApi({ WMS_WEBHOOK_SECRET: secret });
  expect(await api.exited).toBe(1);
  expect(api.output()).toMatch(message);
  expect(api.output()).not.toContain('API listening');
});
