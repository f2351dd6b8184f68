/**
 * Boxes per second through the whole pipeline, against what this Temporal allows.
 *
 * In one run, on the stack it starts (the whole of `npm start`, scripts/api-stack.ts; with
 * `--cluster`, of `npm run start:cluster`, `--worker-replicas N` processes per domain worker):
 *  (a) the baseline: N workflows of one no-op activity (bench/baseline) on the same Temporal,
 *      from a worker process at the domain workers' niceness: workflows/s;
 *  (b) a burst of boxes placed over the API by members of mixed sizes and all six categories, then
 *      a sustained open-model rate (boxes offered per second for a fixed time): boxes/s reaching
 *      `awaiting_shipment` (the WMS accepted the instruction) and `delivered`, p50/p99 from placed
 *      to the WMS instruction accepted, boxes cancelled and why, peak RSS per process, CPU seconds
 *      per process, Temporal actions per box (from real histories);
 *  (c) the ratio: how many baseline workflows one box costs.
 * With `--restarts` the burst runs again while domain workers are killed (-9) in turn and the
 * supervisor restarts them. With `--open-boxes N`, N more boxes are placed and left delivered
 * (their rental windows open), and the workers' memory is read with them all open, beside each
 * worker's workflow cache size: memory per cached workflow.
 *
 *   npm run bench:pipeline -- [--burst 300] [--rate 2] [--duration 60] [--baseline 500]
 *                             [--members 15] [--restarts] [--open-boxes 0] [--out bench/results/pipeline.md]
 *                             [--stack-env KEY=VALUE,...] [--cluster [--worker-replicas 2]] [--json file]
 *
 * Progress goes to the terminal; results to bench/results/pipeline.md (with the machine's load).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { DOMAIN_WORKER_NAMES } from '../workers/domains';
import { countActions } from './actions';
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
import { peakRssSampler, stackProcesses } from './processes';
import { startBenchStack, type BenchStack } from './stack';
import { TEMPORAL_SERVER_VERSION } from '../scripts/provision';

const ROOT = path.resolve(__dirname, '..');
/** The code measured, read when the bench starts (the tree may change while it runs). */
const commit = codeVersion();

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '300' },
    rate: { type: 'string', default: '2' },
    duration: { type: 'string', default: '60' },
    baseline: { type: 'string', default: '500' },
    members: { type: 'string', default: '15' },
    restarts: { type: 'boolean', default: false },
    'open-boxes': { type: 'string', default: '0' },
    'settle-timeout': { type: 'string', default: '900' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/pipeline.md') },
    /** Settings for the stack, e.g. `WORKER_MAX_CACHED_WORKFLOWS=100000,WMS_STEP_MS=1000`. */
    'stack-env': { type: 'string', default: '' },
    /** On `npm run start:cluster` (the Temporal server on PostgreSQL) instead of `npm start`. */
    cluster: { type: 'boolean', default: false },
    /** With `--cluster`: processes per domain worker. */
    'worker-replicas': { type: 'string', default: '2' },
    /** Also write the figures as JSON here (bench/cluster-scaling.ts reads them). */
    json: { type: 'string' },
  },
});
const CLUSTER = values.cluster ? { workerReplicas: Number(values['worker-replicas']) } : undefined;
/** What the bench ran on, for the results. */
const STACK_SHAPE = CLUSTER
  ? `the cluster (\`npm run start:cluster\`: the Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, ${CLUSTER.workerReplicas} process${CLUSTER.workerReplicas > 1 ? 'es' : ''} per domain worker, two API processes behind the proxy)`
  : 'the embedded stack (`npm start`)';
const BURST = Number(values.burst);
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const BASELINE = Number(values.baseline);
const MEMBERS = Number(values.members);
const OPEN_BOXES = Number(values['open-boxes']);
const SETTLE_TIMEOUT_MS = Number(values['settle-timeout']) * 1000;
const say = progress('pipeline');
const NICENESS = Number(process.env.BACKGROUND_NICENESS ?? 19);

/** One phase's outcome. */
interface PhaseResult {
  name: string;
  offered: string;
  boxes: number;
  wallSeconds: number;
  awaitingPerSecond: number;
  deliveredPerSecond: number;
  placedToInstructionP50Ms: number;
  placedToInstructionP99Ms: number;
  cancelled: Map<string, number>;
  unsettled: number;
  peakRss: Map<string, number>;
  peakWorkersRss: number;
  cpuSeconds: Map<string, number>;
  loadBefore: number;
  loadAfter: number;
  restarts?: number;
  /** 503 overloaded answers while this phase placed its boxes. */
  overloaded: number;
}

async function main(): Promise<void> {
  const metricsBase = 20000 + Math.floor(Math.random() * 20000);
  say(`starting ${STACK_SHAPE} ...`);
  const stackEnv = parseStackEnv(values['stack-env'] ?? '');
  const stack = await startBenchStack({ apiOnly: false, cluster: CLUSTER, env: { ...stackEnv, WORKER_METRICS_BASE_PORT: String(metricsBase) } });
  const sql = postgres(stack.databaseUrl, { max: 4, onnotice: () => undefined });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  const results: PhaseResult[] = [];
  let baseline: { workflows: number; seconds: number; perSecond: number; loadBefore: number } | undefined;
  let actions: Awaited<ReturnType<typeof actionsPerBox>> | undefined;
  let memory: Awaited<ReturnType<typeof readMemory>> | undefined;
  try {
    const totalBoxes = BURST * (values.restarts ? 2 : 1) + Math.ceil(RATE * DURATION_S) + OPEN_BOXES;
    await seedStock(sql, totalBoxes);
    const members = await signUpMembers(stack, MEMBERS);
    say(`${members.length} members signed up`);

    await quiet(stack.pid);
    baseline = await runBaseline(stack, client);
    say(`baseline: ${baseline.workflows} workflows in ${round(baseline.seconds)} s = ${round(baseline.perSecond)} workflows/s`);

    const burst = await runPhase(stack, sql, 'burst', `${BURST} boxes at once`, () => placeBurst(stack, members, BURST));
    results.push(burst.result);
    actions = await actionsPerBox(client, burst.delivered.slice(0, 5));
    results.push((await runPhase(stack, sql, 'sustained', `${RATE} boxes/s for ${DURATION_S} s`, () => placeAtRate(stack, members, RATE, DURATION_S))).result);
    if (values.restarts) {
      const killer = killWorkersInTurn(stack.pid, 15_000);
      const phase = await runPhase(
        stack,
        sql,
        'burst, workers killed in turn',
        `${BURST} boxes at once, one domain worker kill -9 every 15 s`,
        () => placeBurst(stack, members, BURST),
        killer.stop,
      );
      phase.result.restarts = killer.count();
      results.push(phase.result);
    }
    if (OPEN_BOXES > 0) {
      const before = await readMemory(stack, metricsBase);
      const phase = await runPhase(stack, sql, 'open boxes', `${OPEN_BOXES} boxes left delivered (rental open)`, () => placeBurst(stack, members, OPEN_BOXES));
      results.push(phase.result);
      memory = await readMemory(stack, metricsBase, before);
    }
  } finally {
    await connection.close().catch(() => undefined);
    await sql.end().catch(() => undefined);
    await stack.stop();
  }
  writeResults({ baseline: baseline!, results, actions, memory });
}

/** Waits (at most 2 minutes) until the stack is idle: below 15 % of one core over 3 s, so the baseline does not race its warm-up. */
async function quiet(rootPid: number): Promise<void> {
  const cpu = () => stackProcesses(rootPid).reduce((sum, p) => sum + p.cpuSeconds, 0);
  const deadline = Date.now() + 120_000;
  for (let before = cpu(); Date.now() < deadline;) {
    await sleep(3000);
    const now = cpu();
    if (now - before < 0.45) return;
    before = now;
  }
  say('the stack did not go quiet within 2 minutes; measuring anyway');
}

/** N no-op workflows on the same Temporal, from a worker process at the domain workers' niceness. */
async function runBaseline(stack: BenchStack, client: Client) {
  const taskQueue = `bench-baseline-${Date.now().toString(36)}`;
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/baseline/worker.ts'), '--address', stack.temporalAddress, '--task-queue', taskQueue],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      worker.once('exit', (code) => reject(new Error(`baseline worker exited (${code})`)));
    });
    if (worker.pid && NICENESS) os.setPriority(worker.pid, NICENESS);
    // Warm up (bundle loaded, pollers running) before the clock starts.
    await client.workflow.execute('baselineWorkflow', { taskQueue, workflowId: `${taskQueue}-warmup` });
    const loadBefore = os.loadavg()[0];
    const started = Date.now();
    const handles = [];
    for (let i = 0; i < BASELINE; i += 50) {
      handles.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, BASELINE - i) }, (_, k) =>
            client.workflow.start('baselineWorkflow', { taskQueue, workflowId: `${taskQueue}-${i + k}` }),
          ),
        )),
      );
    }
    await Promise.all(handles.map((h) => h.result()));
    const seconds = (Date.now() - started) / 1000;
    return { workflows: BASELINE, seconds, perSecond: BASELINE / seconds, loadBefore };
  } finally {
    worker.kill('SIGINT');
  }
}

/** Places a phase's boxes, follows them until each is delivered or cancelled, and measures. */
async function runPhase(stack: BenchStack, sql: postgres.Sql, name: string, offered: string, place: () => Promise<Box[]>, onPlaced?: () => void) {
  const loadBefore = os.loadavg()[0];
  const sampler = peakRssSampler(stack.pid);
  const t0 = Date.now();
  const overloadedBefore = overloadedAnswersSoFar();
  say(`${name}: placing ${offered} ...`);
  const boxes = await place();
  say(`${name}: ${boxes.length} placed in ${round((Date.now() - t0) / 1000)} s`);
  const ids = boxes.map((b) => b.orderId);
  let states = new Map<string, BoxState>();
  const settled = (s: BoxState | undefined) => !!s && (s.deliveredMs !== null || s.status === 'cancelled');
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let lastSay = 0;
  for (;;) {
    states = await boxStates(sql, ids);
    const done = ids.filter((id) => settled(states.get(id))).length;
    if (Date.now() - lastSay > 5000 || done === ids.length) {
      lastSay = Date.now();
      const values = [...states.values()];
      say(
        `${name}: ${round((Date.now() - t0) / 1000, 0)} s · awaiting_shipment+ ${values.filter((s) => s.requestedMs !== null).length} · delivered ${values.filter((s) => s.deliveredMs !== null).length} · cancelled ${values.filter((s) => s.status === 'cancelled').length} / ${ids.length} · load ${round(os.loadavg()[0], 2)}`,
      );
    }
    if (done === ids.length || Date.now() > deadline) break;
    await sleep(1000);
  }
  onPlaced?.();
  sampler.stop();
  const all = [...states.values()];
  const firstCreated = Math.min(...all.map((s) => s.createdMs));
  const requested = all.filter((s) => s.requestedMs !== null);
  const delivered = all.filter((s) => s.deliveredMs !== null);
  const latencies = requested.map((s) => s.requestedMs! - s.createdMs).sort((a, b) => a - b);
  const cancelled = new Map<string, number>();
  for (const s of all.filter((x) => x.status === 'cancelled')) cancelled.set(s.reason ?? 'no reason', (cancelled.get(s.reason ?? 'no reason') ?? 0) + 1);
  const cpuSeconds = new Map<string, number>();
  for (const [n, t] of sampler.cpuSeconds()) cpuSeconds.set(n, round(t));
  const result: PhaseResult = {
    name,
    offered,
    boxes: ids.length,
    wallSeconds: (Date.now() - t0) / 1000,
    awaitingPerSecond: requested.length / ((Math.max(...requested.map((s) => s.requestedMs!)) - firstCreated) / 1000),
    deliveredPerSecond: delivered.length / ((Math.max(...delivered.map((s) => s.deliveredMs!)) - firstCreated) / 1000),
    placedToInstructionP50Ms: quantile(latencies, 0.5),
    placedToInstructionP99Ms: quantile(latencies, 0.99),
    cancelled,
    unsettled: ids.filter((id) => !settled(states.get(id))).length,
    peakRss: sampler.peaks,
    peakWorkersRss: sampler.peakWorkersTotal(),
    cpuSeconds,
    loadBefore,
    loadAfter: os.loadavg()[0],
    overloaded: overloadedAnswersSoFar() - overloadedBefore,
  };
  say(
    `${name}: ${round(result.awaitingPerSecond, 2)} boxes/s to awaiting_shipment, ${round(result.deliveredPerSecond, 2)} to delivered, placed → instruction p50 ${round(result.placedToInstructionP50Ms / 1000, 2)} s p99 ${round(result.placedToInstructionP99Ms / 1000, 2)} s, cancelled ${[...cancelled.values()].reduce((a, b) => a + b, 0)}`,
  );
  return { result, delivered: ids.filter((id) => states.get(id)?.deliveredMs !== null) };
}

/** Temporal actions of delivered boxes, from their histories (every workflow tagged with the box's OrderId). */
async function actionsPerBox(client: Client, orderIds: string[]) {
  let workflows = 0;
  let actions = 0;
  let historyEvents = 0;
  let workflowTasks = 0;
  const activities = new Map<string, number>();
  const byType = new Map<string, { events: number; workflowTasks: number; activities: number; signals: number }>();
  for (const orderId of orderIds) {
    for await (const wf of client.workflow.list({ query: `OrderId = "${orderId}"` })) {
      const events = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
      workflows += 1;
      historyEvents += events.length;
      actions += countActions(events).actions;
      const t = byType.get(wf.type) ?? { events: 0, workflowTasks: 0, activities: 0, signals: 0 };
      t.events += events.length;
      for (const e of events) {
        if (e.workflowTaskCompletedEventAttributes) {
          t.workflowTasks += 1;
          workflowTasks += 1;
        }
        if (e.workflowExecutionSignaledEventAttributes) t.signals += 1;
        const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (activity) {
          t.activities += 1;
          activities.set(activity, (activities.get(activity) ?? 0) + 1);
        }
        const local = e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? 'local activity' : undefined;
        if (local) activities.set(local, (activities.get(local) ?? 0) + 1);
      }
      byType.set(wf.type, t);
    }
  }
  const n = Math.max(1, orderIds.length);
  const per = <T extends Record<string, number>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v / n])) as T;
  return {
    boxes: orderIds.length,
    workflows: workflows / n,
    actions: actions / n,
    historyEvents: historyEvents / n,
    workflowTasks: workflowTasks / n,
    activities: new Map([...activities].map(([k, v]) => [k, v / n])),
    byType: new Map([...byType].map(([k, v]) => [k, per(v)])),
  };
}

/** kill -9 one domain worker every `everyMs`, in turn; the supervisor restarts each. */
function killWorkersInTurn(rootPid: number, everyMs: number): { stop(): void; count(): number } {
  let next = 0;
  let kills = 0;
  const domains = DOMAIN_WORKER_NAMES.filter((d) => d !== 'accounting');
  const timer = setInterval(() => {
    const domain = domains[next++ % domains.length];
    const target = stackProcesses(rootPid).find((p) => p.name === `worker:${domain}`);
    if (!target) return;
    try {
      process.kill(target.pid, 'SIGKILL');
      kills += 1;
      say(`killed worker:${domain} (pid ${target.pid})`);
    } catch {
      /* already gone */
    }
  }, everyMs);
  return { stop: () => clearInterval(timer), count: () => kills };
}

function writeResults({
  baseline,
  results,
  actions,
  memory,
}: {
  baseline: NonNullable<Awaited<ReturnType<typeof runBaseline>>>;
  results: PhaseResult[];
  actions?: Awaited<ReturnType<typeof actionsPerBox>>;
  memory?: Awaited<ReturnType<typeof readMemory>>;
}): void {
  const lines: string[] = [];
  lines.push('# Pipeline throughput: boxes per second against the baseline');
  lines.push('');
  lines.push(
    `Measured ${new Date().toISOString()} with \`npm run bench:pipeline -- ${process.argv.slice(2).join(' ')}\` at ${commit}, on ${STACK_SHAPE}, ${os.cpus().length} cores, ${mb(os.totalmem())} MB.`,
  );
  lines.push('');
  lines.push(
    `**Baseline:** ${baseline.workflows} workflows of one no-op activity in ${round(baseline.seconds)} s = **${round(baseline.perSecond)} workflows/s** (load before ${round(baseline.loadBefore, 2)}).`,
  );
  lines.push('');
  lines.push(
    '| phase | offered | boxes | → awaiting_shipment /s | → delivered /s | baseline workflows per box | placed → instruction p50 / p99 | cancelled (why) | unsettled | 503 overloaded answers | peak RSS of all workers | load before → after |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const cancelled = [...r.cancelled].map(([why, n]) => `${n}: ${why}`).join('; ') || '0';
    lines.push(
      `| ${r.name}${r.restarts !== undefined ? ` (${r.restarts} kills)` : ''} | ${r.offered} | ${r.boxes} | ${round(r.awaitingPerSecond, 2)} | ${round(r.deliveredPerSecond, 2)} | ${round(baseline.perSecond / r.awaitingPerSecond, 1)} | ${round(r.placedToInstructionP50Ms / 1000, 2)} s / ${round(r.placedToInstructionP99Ms / 1000, 2)} s | ${cancelled} | ${r.unsettled} | ${r.overloaded} | ${mb(r.peakWorkersRss)} MB | ${round(r.loadBefore, 2)} → ${round(r.loadAfter, 2)} |`,
    );
  }
  lines.push('');
  lines.push(
    '"Baseline workflows per box" is baseline workflows/s ÷ boxes/s reaching `awaiting_shipment` (the WMS accepted the instruction): what one box costs this Temporal and these two cores, in workflows of one no-op activity. Delivery adds the WMS\'s own pace (`WMS_STEP_MS` per step). Placed → instruction counts from the order\'s acceptance; a box refused with 503 overloaded first (the client waits Retry-After) waited before that.',
  );
  if (actions) {
    lines.push('');
    lines.push(
      `**Temporal actions per delivered box** (histories of ${actions.boxes} burst boxes): ${round(actions.workflows, 1)} workflows, ${round(actions.actions, 1)} actions, ${round(actions.historyEvents, 0)} history events, ${round(actions.workflowTasks, 1)} workflow tasks.`,
    );
    lines.push('');
    lines.push('| workflow type | history events | workflow tasks | activities scheduled | signals |');
    lines.push('|---|---|---|---|---|');
    for (const [type, t] of [...actions.byType].sort())
      lines.push(`| ${type} | ${round(t.events, 1)} | ${round(t.workflowTasks, 1)} | ${round(t.activities, 1)} | ${round(t.signals, 1)} |`);
    lines.push('');
    lines.push(
      `Activities per box: ${[...actions.activities]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${round(v, 1)}`)
        .join(', ')}.`,
    );
  }
  lines.push('');
  lines.push(
    '**CPU seconds per box** (every process of the stack, by phase): ' +
      results
        .map((r) => {
          const total = [...r.cpuSeconds.values()].reduce((a, b) => a + b, 0);
          const workers = [...r.cpuSeconds].filter(([n]) => n.startsWith('worker:')).reduce((a, [, v]) => a + v, 0);
          return `${r.name} ${round(total / r.boxes, 2)} (Temporal ${round((r.cpuSeconds.get('temporal') ?? 0) / r.boxes, 2)}, workers ${round(workers / r.boxes, 2)}, PostgreSQL ${round((r.cpuSeconds.get('postgres') ?? 0) / r.boxes, 2)})`;
        })
        .join('; ') +
      '.',
  );
  lines.push('');
  lines.push('## Peak RSS and CPU seconds per process, by phase');
  lines.push('');
  const names = [...new Set(results.flatMap((r) => [...r.peakRss.keys()]))].sort();
  lines.push(`| process | ${results.map((r) => `${r.name}: peak MB / CPU s`).join(' | ')} |`);
  lines.push(`|---|${results.map(() => '---').join('|')}|`);
  for (const n of names) lines.push(`| ${n} | ${results.map((r) => `${mb(r.peakRss.get(n) ?? 0)} / ${r.cpuSeconds.get(n) ?? 0}`).join(' | ')} |`);
  if (memory) {
    lines.push('');
    lines.push(`## Memory with the open boxes`);
    lines.push('');
    lines.push(`All domain workers together: **${mb(memory.totalWorkers)} MB** RSS.`);
    lines.push('');
    lines.push('| worker | RSS MB | cached workflows | MB per cached workflow (growth over the phase) |');
    lines.push('|---|---|---|---|');
    for (const [domain, w] of memory.workers)
      lines.push(`| ${domain} | ${mb(w.rss)} | ${w.cached} | ${memory.perCached.has(domain) ? round(memory.perCached.get(domain)! / 1024 / 1024, 2) : '—'} |`);
  }
  writeResultsFile(values.out!, lines, say);
  if (values.json) {
    const phases = results.map((r) => {
      const cpu = [...r.cpuSeconds.values()].reduce((a, b) => a + b, 0);
      return {
        name: r.name,
        boxes: r.boxes,
        unsettled: r.unsettled,
        cancelled: [...r.cancelled.values()].reduce((a, b) => a + b, 0),
        awaitingPerSecond: r.awaitingPerSecond,
        deliveredPerSecond: r.deliveredPerSecond,
        placedToInstructionP50Ms: r.placedToInstructionP50Ms,
        placedToInstructionP99Ms: r.placedToInstructionP99Ms,
        cpuSecondsPerBox: cpu / r.boxes,
        temporalCpuSecondsPerBox: (r.cpuSeconds.get('temporal') ?? 0) / r.boxes,
        postgresCpuSecondsPerBox: (r.cpuSeconds.get('postgres') ?? 0) / r.boxes,
        peakWorkersRssBytes: r.peakWorkersRss,
        loadBefore: r.loadBefore,
        loadAfter: r.loadAfter,
      };
    });
    fs.writeFileSync(values.json, JSON.stringify({ commit, stack: STACK_SHAPE, cluster: CLUSTER ?? null, baseline, phases }, null, 2) + '\n');
  }
}

runBench(main, say);
