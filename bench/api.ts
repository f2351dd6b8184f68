/**
 * API latency: `POST /v1/orders` (each with its own Idempotency-Key, as a well-behaved client
 * sends) and `GET /v1/orders/:id` at fixed rates of 50, 100 and 200 requests per second, with
 * autocannon, against the embedded stack started by scripts/api-stack.ts (the whole of
 * `npm start`; `--api-only` for just Temporal + PostgreSQL + the API). Rate limits are raised for
 * the run (one member sends everything). Target: p99 < 50 ms at 100 req/s, zero errors.
 *
 *   npx tsx bench/api.ts [--api-only] [--duration 15] [--rates 50,100,200]
 *
 * Writes bench/results/api.md.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: { 'api-only': { type: 'boolean', default: false }, duration: { type: 'string', default: '15' }, rates: { type: 'string', default: '50,100,200' } },
});
const DURATION_S = Number(values.duration);
const RATES = values.rates!.split(',').map(Number);
const TARGET_P99_MS = 50;

interface Row {
  endpoint: string;
  rate: number;
  achieved: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
}

async function startStack(): Promise<{ url: string; token: string; stop: () => Promise<void> }> {
  const info = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-bench-')), 'info.json');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/api-stack.ts'), '--info', info, ...(values['api-only'] ? ['--api-only'] : [])], {
    cwd: ROOT,
    env: { ...process.env, RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_CUSTOMER: '10000000', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  while (!fs.existsSync(info)) {
    if (child.exitCode !== null) throw new Error('the stack did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  const { url, token } = JSON.parse(fs.readFileSync(info, 'utf8')) as { url: string; token: string };
  return {
    url,
    token,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function measure(endpoint: string, rate: number, opts: Partial<autocannon.Options> & { url: string }): Promise<Row> {
  const result = await run({ connections: Math.max(10, Math.ceil(rate / 5)), overallRate: rate, duration: DURATION_S, ...opts } as autocannon.Options);
  return {
    endpoint,
    rate,
    achieved: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  const stack = await startStack();
  const auth = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
  const loadBefore = os.loadavg()[0];
  const rows: Row[] = [];
  try {
    const first = await fetch(`${stack.url}/v1/orders`, { method: 'POST', headers: auth, body: '{"itemCount":1}' });
    const { orderId } = (await first.json()) as { orderId: string };
    let n = 0;
    const runId = Date.now().toString(36);
    for (const rate of RATES) {
      rows.push(
        await measure('POST /v1/orders', rate, {
          url: `${stack.url}/v1/orders`,
          method: 'POST',
          headers: auth,
          body: '{"itemCount":1}',
          requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${runId}-${++n}` } }) }],
        }),
      );
      rows.push(await measure('GET /v1/orders/:id', rate, { url: `${stack.url}/v1/orders/${orderId}`, headers: auth }));
    }
  } finally {
    await stack.stop();
  }
  const verdict = (r: Row) => (r.rate === 100 ? (r.p99 < TARGET_P99_MS && r.errors === 0 && r.non2xx === 0 ? 'meets target' : 'misses target') : '');
  const lines = [
    '# API latency (bench/api.ts)',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), load average ${loadBefore.toFixed(1)} before the run,`,
    `against ${values['api-only'] ? 'Temporal + PostgreSQL + the API only (--api-only)' : 'the embedded stack (npm start: every worker and simulator running)'}; ${DURATION_S} s per step, autocannon fixed rate.`,
    `POST bodies are \`{"itemCount":1}\`, each with a fresh Idempotency-Key. Target: p99 < ${TARGET_P99_MS} ms at 100 req/s with zero errors.`,
    '',
    '| endpoint | rate (req/s) | achieved | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.endpoint} | ${r.rate} | ${r.achieved} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.non2xx} | ${r.errors} | ${verdict(r)} |`),
    '',
  ];
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/api.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
