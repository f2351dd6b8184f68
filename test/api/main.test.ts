/** `npm run api` as a real process: starts, serves, keeps its JWT secret across restarts, stops on SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { freePort } from '../../config/ports';

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
  output: () => string;
  exited: Promise<number | null>;
}

async function startApiProcess(): Promise<ApiProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    API_PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'api/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('API listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`API did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

test('the API process serves, keeps tokens valid across a restart, and exits cleanly on SIGTERM', async () => {
  const first = await startApiProcess();
  await request(first.url).get('/healthz').expect(200, { status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  const secretFile = path.join(dataDir, 'jwt-secret');
  expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);

  const signup = await request(first.url)
    .post('/v1/auth/signup')
    .send({
      email: `main-${Date.now()}@example.test`,
      password: 'correct horse battery',
      name: 'Grace',
      size: 'S',
      preferredCategories: ['top'],
      address: { name: 'Grace', line1: '1 Navy Way', city: 'Arlington', postcode: '22202', country: 'US' },
    })
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
  expect(findLogLine()).toMatchObject({ domain: 'api', method: 'POST', status: 201, requestId: expect.any(String), durationMs: expect.any(Number) });

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
