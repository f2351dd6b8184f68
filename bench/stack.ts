/**
 * The stack a benchmark runs against: scripts/api-stack.ts in a child process (the whole of
 * `npm start`, or of `npm run start:cluster` with `cluster`, or with `apiOnly` just Temporal + PostgreSQL + the API + the orders worker), with
 * the rate limits raised (one member sends everything) and logs at warn.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

export interface BenchStack {
  url: string;
  /** The API's Prometheus endpoint (its own port, API_METRICS_PORT, not the public one). */
  metricsUrl: string;
  mailUrl: string;
  wmsUrl: string;
  pspUrl: string;
  temporalAddress: string;
  token: string;
  databaseUrl: string;
  /** The api-stack process: every process of the stack descends from it. */
  pid: number;
  stop(): Promise<void>;
}

export async function startBenchStack({
  apiOnly,
  cluster,
  env = {},
}: {
  apiOnly: boolean;
  /** `npm run start:cluster` with this many processes per domain worker, instead of `npm start`. */
  cluster?: { workerReplicas: number };
  env?: NodeJS.ProcessEnv;
}): Promise<BenchStack> {
  const info = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-bench-')), 'info.json');
  const shape = apiOnly ? ['--api-only'] : cluster ? ['--cluster', '--worker-replicas', String(cluster.workerReplicas)] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/api-stack.ts'), '--info', info, ...shape], {
    cwd: ROOT,
    env: { ...process.env, RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_CUSTOMER: '10000000', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  // A bench stopped (Ctrl-C) or crashed must not leave its stack running: ask it to stop, as npm start's own Ctrl-C does.
  const onSignal = (signal: NodeJS.Signals): void => {
    child.kill('SIGINT');
    void exited.then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const onExit = (): void => void child.kill('SIGINT');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  while (!fs.existsSync(info)) {
    if (child.exitCode !== null) throw new Error('the stack did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  const parsed = JSON.parse(fs.readFileSync(info, 'utf8')) as Omit<BenchStack, 'pid' | 'stop'>;
  return {
    ...parsed,
    pid: child.pid!,
    stop: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
      child.kill('SIGINT');
      await exited;
    },
  };
}
