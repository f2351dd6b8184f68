/**
 * Does a second process per domain worker buy throughput? bench/pipeline on the cluster
 * (`npm run start:cluster`: the Temporal server on PostgreSQL), once with one process per domain
 * worker and once with two, each run on a fresh stack with its own no-op baseline on the same
 * server, so the comparison is made in baseline units as well as in boxes/s. With `--rounds N` the
 * pair runs N times, every other round in the opposite order (1, 2, then 2, 1), so a machine
 * growing busier or quieter does not favour one side.
 *
 *   npm run bench:cluster -- [--burst 150] [--rate 1.5] [--duration 60] [--baseline 400] [--rounds 1]
 *
 * Each run's full results go to bench/results/pipeline-cluster-<replicas>.md (the last round's);
 * the comparison to bench/results/cluster-scaling.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { codeVersion, mb, progress, round, runBench, writeResultsFile } from './boxes';

const ROOT = path.resolve(__dirname, '..');
const commit = codeVersion();
const say = progress('cluster-scaling');

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '150' },
    rate: { type: 'string', default: '1.5' },
    duration: { type: 'string', default: '60' },
    baseline: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '1' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/cluster-scaling.md') },
  },
});

/** What bench/pipeline.ts writes with `--json`. */
interface PipelineFigures {
  stack: string;
  baseline: { workflows: number; seconds: number; perSecond: number; loadBefore: number };
  phases: {
    name: string;
    boxes: number;
    unsettled: number;
    cancelled: number;
    awaitingPerSecond: number;
    deliveredPerSecond: number;
    placedToInstructionP50Ms: number;
    placedToInstructionP99Ms: number;
    cpuSecondsPerBox: number;
    temporalCpuSecondsPerBox: number;
    postgresCpuSecondsPerBox: number;
    peakWorkersRssBytes: number;
    loadBefore: number;
    loadAfter: number;
  }[];
}

interface Run {
  round: number;
  replicas: number;
  figures: PipelineFigures;
}

function runPipeline(replicas: number, round: number): Run {
  const json = path.join(os.tmpdir(), `closetflow-cluster-scaling-${process.pid}-${round}-${replicas}.json`);
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'bench/pipeline.ts'),
    '--cluster',
    '--worker-replicas',
    String(replicas),
    '--burst',
    values.burst!,
    '--rate',
    values.rate!,
    '--duration',
    values.duration!,
    '--baseline',
    values.baseline!,
    '--out',
    path.join(ROOT, `bench/results/pipeline-cluster-${replicas}.md`),
    '--json',
    json,
  ];
  say(`round ${round}: ${replicas} process(es) per domain worker ...`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench/pipeline.ts --cluster --worker-replicas ${replicas} failed (${r.status ?? r.signal})`);
  const figures = JSON.parse(fs.readFileSync(json, 'utf8')) as PipelineFigures;
  fs.rmSync(json, { force: true });
  return { round, replicas, figures };
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const runs: Run[] = [];
  for (let r = 1; r <= rounds; r++) for (const replicas of r % 2 === 1 ? [1, 2] : [2, 1]) runs.push(runPipeline(replicas, r));
  writeComparison(runs);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function writeComparison(runs: Run[]): void {
  const lines: string[] = [];
  lines.push('# Scaling out: one vs two processes per domain worker, on the cluster');
  lines.push('');
  lines.push(
    `Measured ${new Date().toISOString()} with \`npm run bench:cluster -- ${process.argv.slice(2).join(' ')}\` at ${commit}: bench/pipeline on \`npm run start:cluster\` (the Temporal server on PostgreSQL, two API processes behind the proxy), a fresh stack per run, ${os.cpus().length} cores, ${mb(os.totalmem())} MB.`,
  );
  lines.push('');
  lines.push(
    '| round | processes per domain | baseline workflows/s | phase | boxes | → awaiting_shipment /s | → delivered /s | boxes/s per 100 baseline workflows/s | placed → instruction p50 / p99 | CPU s per box (Temporal, PostgreSQL) | peak RSS of all workers | unsettled / cancelled | load before → after |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const run of runs)
    for (const p of run.figures.phases)
      lines.push(
        `| ${run.round} | ${run.replicas} | ${round(run.figures.baseline.perSecond)} | ${p.name} | ${p.boxes} | ${round(p.awaitingPerSecond, 2)} | ${round(p.deliveredPerSecond, 2)} | ${round((100 * p.awaitingPerSecond) / run.figures.baseline.perSecond, 2)} | ${round(p.placedToInstructionP50Ms / 1000, 2)} s / ${round(p.placedToInstructionP99Ms / 1000, 2)} s | ${round(p.cpuSecondsPerBox, 2)} (${round(p.temporalCpuSecondsPerBox, 2)}, ${round(p.postgresCpuSecondsPerBox, 2)}) | ${mb(p.peakWorkersRssBytes)} MB | ${p.unsettled} / ${p.cancelled} | ${round(p.loadBefore, 2)} → ${round(p.loadAfter, 2)} |`,
      );
  lines.push('');
  const phaseNames = [...new Set(runs.flatMap((r) => r.figures.phases.map((p) => p.name)))];
  const of = (replicas: number, phase: string, pick: (p: PipelineFigures['phases'][number], r: Run) => number) =>
    mean(runs.filter((r) => r.replicas === replicas).flatMap((r) => r.figures.phases.filter((p) => p.name === phase).map((p) => pick(p, r))));
  lines.push('**Two processes ÷ one** (mean over rounds):');
  lines.push('');
  lines.push('| phase | boxes/s to awaiting_shipment | in baseline units | CPU s per box | peak RSS of all workers |');
  lines.push('|---|---|---|---|---|');
  for (const phase of phaseNames) {
    const ratio = (pick: (p: PipelineFigures['phases'][number], r: Run) => number) => round(of(2, phase, pick) / of(1, phase, pick), 2);
    lines.push(
      `| ${phase} | ${ratio((p) => p.awaitingPerSecond)} | ${ratio((p, r) => p.awaitingPerSecond / r.figures.baseline.perSecond)} | ${ratio((p) => p.cpuSecondsPerBox)} | ${ratio((p) => p.peakWorkersRssBytes)} |`,
    );
  }
  lines.push('');
  lines.push(
    '"In baseline units" divides each run\'s boxes/s by the no-op workflows/s that same stack reached just before (bench/baseline on the same server): it cancels a machine that was busier during one run than the other. The per-run tables (CPU and memory per process) are in bench/results/pipeline-cluster-1.md and pipeline-cluster-2.md.',
  );
  writeResultsFile(values.out!, lines, say);
}

runBench(main, say);
