/**
 * Soak: a sustained rate the stack can hold, for a long time, on the embedded stack (`npm start`).
 * Boxes are placed at `--rate` boxes/s (open model, as members would) for `--duration` seconds;
 * they are delivered and then stay open (rented, waiting for their return), so the open boxes grow
 * all along and with them everything each domain keeps per box. Every `--sample` seconds it records
 * each process's RSS, the workflows cached by the workers and the boxes by status; at the end,
 * per window of placing, placed → WMS instruction accepted p50/p99. Memory must stay flat once
 * the workflow caches are full (WORKER_MAX_CACHED_WORKFLOWS), latency flat throughout.
 *
 *   npm run bench:soak -- [--rate 1] [--duration 1800] [--warmup-boxes 200] [--sample 60]
 *                         [--members 15] [--stack-env KEY=VALUE,...] [--out bench/results/soak.md]
 *
 * Progress goes to the terminal; results to bench/results/soak.md (with the machine's load).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import {
  boxStates,
  codeVersion,
  mb,
  overloadedAnswersSoFar,
  parseStackEnv,
  placeAtRate,
  placeBurst,
  progress,
  readMemory,
  round,
  runBench,
  seedStock,
  signUpMembers,
  sleep,
  writeResultsFile,
  type Box,
  type BoxState,
} from './boxes';

import { quantile } from './open-load';
import { byName, pssOf, stackProcesses } from './processes';
import { startBenchStack } from './stack';

const ROOT = path.resolve(__dirname, '..');
/** The code measured, read when the bench starts (the tree may change while it runs). */
const commit = codeVersion();
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1' },
    duration: { type: 'string', default: '1800' },
    'warmup-boxes': { type: 'string', default: '200' },
    sample: { type: 'string', default: '60' },
    members: { type: 'string', default: '15' },
    'stack-env': { type: 'string', default: '' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/soak.md') },
  },
});
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const WARMUP = Number(values['warmup-boxes']);
const SAMPLE_MS = Number(values.sample) * 1000;
const say = progress('soak');

/** One look at the stack. */
interface Sample {
  minute: number;
  workersRss: number;
  /** The workers' proportional set size together (shared pages counted once). */
  workersPss: number;
  maxWorkerRss: { name: string; rss: number };
  rss: Map<string, number>;
  cached: number;
  byStatus: Map<string, number>;
  overloaded: number;
  load: number;
}

async function main(): Promise<void> {
  const metricsBase = 20000 + Math.floor(Math.random() * 20000);
  const stackEnv = parseStackEnv(values['stack-env'] ?? '');
  say('starting the stack (npm start) ...');
  const stack = await startBenchStack({ apiOnly: false, env: { ...stackEnv, WORKER_METRICS_BASE_PORT: String(metricsBase) } });
  const sql = postgres(stack.databaseUrl, { max: 4, onnotice: () => undefined });
  const samples: Sample[] = [];
  let boxes: Box[] = [];
  let warmup: Box[] = [];
  const t0 = Date.now();
  try {
    await seedStock(sql, WARMUP + Math.ceil(RATE * DURATION_S));
    const members = await signUpMembers(stack, Number(values.members));
    if (WARMUP > 0) {
      say(`warm-up: ${WARMUP} boxes at once, left open`);
      warmup = await placeBurst(stack, members, WARMUP);
    }
    const look = async (): Promise<Sample> => {
      const memory = await readMemory(stack, metricsBase);
      const all = stackProcesses(stack.pid);
      const processes = byName(all);
      const rss = new Map([...processes].map(([name, p]) => [name, p.rssBytes]));
      const workers = [...memory.workers].map(([name, w]) => ({ name, rss: w.rss }));
      const statuses = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from orders.orders group by status`;
      const sample: Sample = {
        minute: (Date.now() - t0) / 60_000,
        workersRss: memory.totalWorkers,
        workersPss: all.filter((p) => p.name.startsWith('worker:')).reduce((sum, p) => sum + pssOf(p.pid), 0),
        maxWorkerRss: workers.sort((a, b) => b.rss - a.rss)[0] ?? { name: '—', rss: 0 },
        rss,
        cached: [...memory.workers.values()].reduce((sum, w) => sum + w.cached, 0),
        byStatus: new Map(statuses.map((r) => [r.status, r.n])),
        overloaded: overloadedAnswersSoFar(),
        load: os.loadavg()[0],
      };
      say(
        `${round(sample.minute, 1)} min · workers ${mb(sample.workersRss)} MB RSS, ${mb(sample.workersPss)} MB PSS (largest ${sample.maxWorkerRss.name} ${mb(sample.maxWorkerRss.rss)} MB) · cached ${sample.cached} · delivered ${sample.byStatus.get('delivered') ?? 0} · cancelled ${sample.byStatus.get('cancelled') ?? 0} · 503s ${sample.overloaded} · load ${round(sample.load, 2)}`,
      );
      return sample;
    };
    samples.push(await look());
    const sampler = setInterval(() => void look().then((s) => samples.push(s)), SAMPLE_MS);
    const placing = Date.now();
    say(`placing ${RATE} boxes/s for ${DURATION_S} s`);
    boxes = await placeAtRate(stack, members, RATE, DURATION_S);
    // The last boxes reach the WMS; then one more look.
    const ids = boxes.map((b) => b.orderId);
    for (const deadline = Date.now() + 300_000; Date.now() < deadline; await sleep(5000)) {
      const states = await boxStates(sql, ids);
      if ([...states.values()].every((s) => s.requestedMs !== null || s.status === 'cancelled')) break;
    }
    clearInterval(sampler);
    samples.push(await look());
    const states = await boxStates(sql, [...ids, ...warmup.map((b) => b.orderId)]);
    writeResults({
      samples,
      states: [...states.entries()].filter(([id]) => ids.includes(id)).map(([, s]) => s),
      warmupStates: warmup.map((b) => states.get(b.orderId)!),
      placingStart: placing,
    });
  } finally {
    await sql.end().catch(() => undefined);
    await stack.stop();
  }
}

function writeResults({
  samples,
  states,
  warmupStates,
  placingStart,
}: {
  samples: Sample[];
  states: BoxState[];
  warmupStates: { status: string; reason: string | null }[];
  placingStart: number;
}): void {
  // Latency per window of placing (by when the box was accepted).
  const windowMs = 5 * 60_000;
  const windows = new Map<number, number[]>();
  const missing = new Map<number, number>();
  for (const s of states) {
    const w = Math.floor((s.createdMs - placingStart) / windowMs);
    if (s.requestedMs === null) missing.set(w, (missing.get(w) ?? 0) + 1);
    else windows.set(w, [...(windows.get(w) ?? []), s.requestedMs - s.createdMs]);
  }
  const cancelled = new Map<string, number>();
  for (const s of [...states, ...warmupStates].filter((x) => x.status === 'cancelled'))
    cancelled.set(s.reason ?? 'no reason', (cancelled.get(s.reason ?? 'no reason') ?? 0) + 1);
  // Memory once the caches are full: the growth from the first sample whose cache stopped growing to the last.
  const full = samples.find((s, i) => i > 0 && s.cached <= samples[i - 1].cached + 5) ?? samples[0];
  const last = samples[samples.length - 1];
  const growthPerMinute = (last.workersRss - full.workersRss) / Math.max(1e-9, last.minute - full.minute);

  const lines: string[] = [];
  lines.push('# Soak: a sustained rate for a long time');
  lines.push('');
  lines.push(
    `Measured ${new Date().toISOString()} with \`npm run bench:soak -- ${process.argv.slice(2).join(' ')}\` at ${commit}, on the embedded stack (\`npm start\`), ${os.cpus().length} cores, ${mb(os.totalmem())} MB. ${warmupStates.length} boxes placed at once first (left open), then ${RATE} boxes/s for ${DURATION_S / 60} min: ${states.length} boxes.`,
  );
  lines.push('');
  lines.push(
    `- Open boxes at the end (delivered, waiting for their return): **${last.byStatus.get('delivered') ?? 0}**; cancelled: ${[...cancelled].map(([why, n]) => `${n} (${why})`).join('; ') || '**0**'}; 503 overloaded answers: ${last.overloaded}.`,
  );
  lines.push(
    `- All domain workers together, RSS: ${mb(samples[0].workersRss)} MB at the start, ${mb(full.workersRss)} MB once the caches were full (minute ${round(full.minute, 0)}, ${full.cached} workflows cached), **${mb(last.workersRss)} MB** at the end: ${round(growthPerMinute / 1024 / 1024, 2)} MB per minute after the caches filled.`,
  );
  lines.push(
    `- The same as PSS (pages the workers share, such as the node binary, counted once): ${mb(samples[0].workersPss)} MB at the start, **${mb(last.workersPss)} MB** at the end.`,
  );
  lines.push('');
  lines.push('## Placed → WMS instruction accepted, per 5-minute window of placing');
  lines.push('');
  lines.push('| window | boxes | p50 | p99 | max | without an instruction at the end |');
  lines.push('|---|---|---|---|---|---|');
  for (const w of [...new Set([...windows.keys(), ...missing.keys()])].sort((a, b) => a - b)) {
    const l = (windows.get(w) ?? []).sort((a, b) => a - b);
    lines.push(
      `| ${w * 5}–${w * 5 + 5} min | ${l.length + (missing.get(w) ?? 0)} | ${round(quantile(l, 0.5) / 1000, 2)} s | ${round(quantile(l, 0.99) / 1000, 2)} s | ${round((l[l.length - 1] ?? Number.NaN) / 1000, 2)} s | ${missing.get(w) ?? 0} |`,
    );
  }
  lines.push('');
  lines.push('## Memory and load over time');
  lines.push('');
  const names = [...new Set(samples.flatMap((s) => [...s.rss.keys()]))].filter((n) => n !== 'worker:baseline').sort();
  lines.push(`| minute | workers RSS MB | workers PSS MB | cached workflows | delivered (open) | load | ${names.join(' | ')} |`);
  lines.push(`|---|---|---|---|---|---|${names.map(() => '---').join('|')}|`);
  for (const s of samples)
    lines.push(
      `| ${round(s.minute, 1)} | ${mb(s.workersRss)} | ${mb(s.workersPss)} | ${s.cached} | ${s.byStatus.get('delivered') ?? 0} | ${round(s.load, 2)} | ${names.map((n) => mb(s.rss.get(n) ?? 0)).join(' | ')} |`,
    );
  writeResultsFile(values.out!, lines, say);
}

runBench(main, say);
