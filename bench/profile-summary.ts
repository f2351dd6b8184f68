/**
 * Where the workers' CPU time goes: sums V8 CPU profiles (`.cpuprofile`, from `node --cpu-prof`)
 * by what the code is — an npm package, a folder of this repo, Node's internals, V8's own work
 * (GC, the compiler, idle) — and lists the functions with the most time including their callees.
 * Profile a bench run by giving the workers the flag:
 *
 *   npm run bench:pipeline -- --burst 300 --rate 0.1 --duration 10 --baseline 100 \
 *     --stack-env 'CLOSETFLOW_WORKER_NODE_FLAGS=--max-semi-space-size=2 --cpu-prof --cpu-prof-dir=/tmp/closetflow-prof'
 *   npx tsx bench/profile-summary.ts /tmp/closetflow-prof [--top 25]
 *
 * A worker writes one profile per thread (the main thread: activities, the Temporal core bridge;
 * the workflow thread: the sandbox running workflow code) when it exits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a frame belongs to: `pkg:<name>`, `repo:<top folder>`, `node:<internal>`, or V8's own `(gc)`, `(program)`, `(idle)`. */
export function frameGroup(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = url.slice(inModules + 'node_modules/'.length).split('/');
    return `pkg:${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  // This repo's code, from the sources or from the workers' build (DATA_DIR/node-build-<hash>/), or the workflow bundle.
  const repo =
    /(?:node-build-[0-9a-f]+|closetflow[^/]*)\/(activities|api|config|db|observability|simulators|workers|workflows)\//.exec(url) ??
    /\/(activities|api|config|db|observability|simulators|workers|workflows)\//.exec(url);
  if (repo) return `repo:${repo[1]}`;
  if (url.includes('workflow-bundle')) return 'workflow bundle';
  return url.split('/').pop() ?? url;
}

/** Self time per group and inclusive time per function, in microseconds, over some profiles. */
export function summarise(profiles: CpuProfile[]): { total: number; idle: number; byGroup: Map<string, number>; inclusive: Map<string, number> } {
  const byGroup = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const selfTime = new Map<number, number>();
    profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, t] of selfTime) {
      const node = nodes.get(id)!;
      // Waiting for work is not work: percentages are of the busy time.
      if (node.callFrame.functionName === '(idle)') {
        idle += t;
        continue;
      }
      total += t;
      const group = frameGroup(node.callFrame);
      byGroup.set(group, (byGroup.get(group) ?? 0) + t);
      // Each function once per sample, however deep the recursion.
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const f = nodes.get(at)!.callFrame;
        if (f.functionName === '(root)') continue;
        const key = `${f.functionName || '(anonymous)'} ${frameGroup(f)}:${f.lineNumber + 1}`;
        if (seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + t);
      }
    }
  }
  return { total, idle, byGroup, inclusive };
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: npx tsx bench/profile-summary.ts <directory of .cpuprofile files> [--top 25]');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}`);
  const { total, idle, byGroup, inclusive } = summarise(files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile));
  const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)} %`;
  const top = Number(values.top);
  console.log(`${files.length} profiles: ${(total / 1e6).toFixed(1)} s busy (the percentages below), ${(idle / 1e6).toFixed(1)} s idle`);
  console.log('\nSelf time by what the code is:');
  for (const [group, t] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${group}`);
  console.log('\nFunctions by time including callees:');
  for (const [fn, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${fn}`);
}

if (require.main === module) main();
