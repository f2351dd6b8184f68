/**
 * Where a POST /v1/orders tail comes from: runs the open-model load of bench/api.ts against the
 * stack and, for each round, prints next to the client's percentiles what the API saw and what the
 * machine did meanwhile:
 *  - the API's own request-duration histogram for the round (`/metrics` on API_METRICS_PORT): time spent in the
 *    server vs. before it (client, kernel, accept queue);
 *  - the API's GC (scavenges and mark-compacts: count and total pause) and event-loop delay;
 *  - CPU seconds per process group (API, PostgreSQL, workers, dev server, this generator), from
 *    /proc, so a saturated machine shows;
 *  - PostgreSQL wait events of every active backend, sampled every 20 ms (commit flushes, lock
 *    queues, client reads), with the first words of the statement.
 * It writes nothing; the figures in bench/results/api.md's reading came from it.
 *
 *   npx tsx bench/api-probe.ts [--api-only] [--rate 100] [--duration 15] [--rounds 3]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openLoad, type LoadRequest } from './open-load';
import { startBenchStack } from './stack';

const { values } = parseArgs({
  options: {
    'api-only': { type: 'boolean', default: false },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
  },
});

type Samples = Record<string, number>;

/** Every sample of a Prometheus text exposition (at `metricsUrl`), by its full name with labels. */
async function scrape(metricsUrl: string): Promise<Samples> {
  const text = await (await fetch(metricsUrl)).text();
  const samples: Samples = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    samples[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return samples;
}

const GROUPS: [string, RegExp][] = [
  ['api', /api\/main\.ts/],
  ['workers', /workers\/main\.ts/],
  ['dev server', /start-dev/],
  ['postgres', /postgres/],
  ['generator', /api-probe\.ts/],
];

/** CPU seconds used so far by each process group (user + system, from /proc/<pid>/stat). */
function cpuSeconds(): Samples {
  const out: Samples = {};
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const group = GROUPS.find(([, re]) => re.test(cmdline))?.[0] ?? 'other';
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out[group] = (out[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** Samples pg_stat_activity until stopped; counts "wait event + statement start" per sample. */
function sampleWaits(databaseUrl: string): { stop(): Promise<[string, number][]> } {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const counts: Samples = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await sql<{ wait: string; query: string }[]>`
        select coalesce(wait_event_type || ':' || wait_event, 'on CPU') as wait, left(btrim(regexp_replace(query, '[[:space:]]+', ' ', 'g')), 48) as query
        from pg_stat_activity where state = 'active' and pid <> pg_backend_pid()`;
      for (const r of rows) counts[`${r.wait} — ${r.query}`] = (counts[`${r.wait} — ${r.query}`] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sql.end({ timeout: 5 });
      return Object.entries(counts).sort((a, b) => b[1] - a[1]);
    },
  };
}

async function main(): Promise<void> {
  const rate = Number(values.rate);
  const durationS = Number(values.duration);
  const stack = await startBenchStack({ apiOnly: !!values['api-only'] });
  try {
    const auth = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
    const runId = Date.now().toString(36);
    const post =
      (prefix: string) =>
      (i: number): LoadRequest => ({
        method: 'POST',
        path: '/v1/orders',
        headers: { ...auth, 'idempotency-key': `${prefix}-${runId}-${i}` },
        body: '{"itemCount":1}',
      });
    await openLoad({ baseUrl: stack.url, rate: 50, durationS: 5, next: post('warmup') });

    for (let round = 1; round <= Number(values.rounds); round++) {
      const waits = sampleWaits(stack.databaseUrl);
      const [before, cpuBefore] = [await scrape(stack.metricsUrl), cpuSeconds()];
      const result = await openLoad({ baseUrl: stack.url, rate, durationS, next: post(`probe${round}`) });
      const [after, cpuAfter] = [await scrape(stack.metricsUrl), cpuSeconds()];
      const top = await waits.stop();
      const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);

      const buckets = Object.keys(after).filter(
        (k) => k.startsWith('closetflow_http_request_duration_seconds_bucket{') && k.includes('method="POST"') && k.includes('status="202"'),
      );
      const served = delta(buckets.find((k) => k.includes('le="+Inf"')) ?? '');
      const histogram = buckets
        .filter((k) => !k.includes('+Inf'))
        .map((k) => `≤${Number(/le="([^"]+)"/.exec(k)![1]) * 1000} ms ${((100 * delta(k)) / Math.max(1, served)).toFixed(1)}%`)
        .join(', ');
      const gc = Object.keys(after)
        .filter((k) => k.startsWith('nodejs_gc_duration_seconds_sum{'))
        .map((k) => `${/kind="([^"]+)"/.exec(k)![1]} ${delta(k.replace('_sum', '_count'))}× ${(delta(k) * 1000).toFixed(0)} ms`)
        .join(', ');
      const cpu = Object.keys(cpuAfter)
        .map((g) => `${g} ${(cpuAfter[g]! - (cpuBefore[g] ?? 0)).toFixed(1)} s`)
        .join(', ');

      console.log(
        `\nround ${round}: POST /v1/orders at ${rate} req/s for ${durationS} s — p50 ${result.p50} ms, p90 ${result.p90} ms, p99 ${result.p99} ms, max ${result.max} ms, errors ${result.errors}, generator send lag p99 ${result.sendLagP99} ms`,
      );
      console.log(`  server-side 202s: ${histogram}`);
      console.log(
        `  API GC: ${gc || 'none'}; event-loop delay p99 ${((after.nodejs_eventloop_lag_p99_seconds ?? 0) * 1000).toFixed(1)} ms, max ${((after.nodejs_eventloop_lag_max_seconds ?? 0) * 1000).toFixed(1)} ms`,
      );
      console.log(`  CPU (of ${2 * durationS} core-seconds on 2 cores): ${cpu}`);
      console.log('  PostgreSQL, active backends by wait (20 ms samples):');
      for (const [what, n] of top.slice(0, 12)) console.log(`    ${String(n).padStart(5)}  ${what}`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
