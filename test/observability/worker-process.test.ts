/**
 * A real worker process (`npm run worker -- --domain styling`) with WORKER_METRICS_PORT: its
 * stdout is JSON lines naming the domain, and its /metrics serves the Temporal SDK's metrics
 * next to the business counters and the process's own; SIGTERM stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../config/ports';
import { workflowBundle } from '../support/temporal';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

it('runs a worker process that logs JSON with its domain and serves SDK and business metrics on its metrics port', async () => {
  const port = await freePort();
  child = spawn(process.execPath, [require.resolve('tsx/cli'), 'workers/main.ts', '--domain', 'styling'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: process.env.DATABASE_URL,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      CLOSETFLOW_WORKFLOW_BUNDLE: workflowBundle().codePath,
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

  const deadline = Date.now() + 30_000;
  while (!out.includes('worker started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The SDK's poller gauges appear once the worker polls.
  let metrics = '';
  while (!/^temporal_num_pollers\{/m.test(metrics)) {
    if (Date.now() > deadline) throw new Error(`no SDK metrics on /metrics:\n${metrics}`);
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(metrics).toMatch(/^temporal_num_pollers\{[^}]*task_queue="styling"/m);
  expect(metrics).toContain('# TYPE closetflow_events_published_total counter');
  expect(metrics).toContain('# TYPE process_cpu_user_seconds_total counter');

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const lines = out.split('\n').filter((l) => l.trim());
  const parsed = lines.map((l) => JSON.parse(l) as { domain?: string; msg?: string });
  expect(parsed.every((l) => l.domain === 'styling')).toBe(true);
  expect(parsed.map((l) => l.msg)).toEqual(expect.arrayContaining(['metrics served', 'worker started', 'worker stopped']));
});
