/**
 * The processes of a running stack, from /proc: every descendant of the stack's root process,
 * named by what it runs (`worker:orders`, `api`, `temporal`, `postgres`…), with its resident
 * memory and CPU seconds. Linux only, like the machines the benches run on.
 */
import fs from 'node:fs';

/** One process of the stack at one moment. */
export interface ProcessSample {
  pid: number;
  name: string;
  rssBytes: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100;

function readStat(pid: number): { ppid: number; cpuSeconds: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * A process's proportional set size: its private pages plus its share of pages mapped by several
 * processes (the node binary, the Temporal core library: ~60 MB each worker maps, counted whole in
 * every RSS). The sum over processes is the memory they take together.
 */
export function pssOf(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** What a process is, from its command line. */
export function processName(cmdline: string[]): string {
  const joined = cmdline.join(' ');
  const domain = cmdline[cmdline.indexOf('--domain') + 1];
  if (/workers\/main\.[jt]s/.test(joined) && cmdline.includes('--domain')) return `worker:${domain}`;
  if (joined.includes('bench/baseline/worker.ts')) return 'worker:baseline';
  if (joined.includes('api/main.ts')) return 'api';
  for (const sim of ['wms', 'psp', 'mail']) if (joined.includes(`simulators/${sim}/`)) return `simulator:${sim}`;
  if (joined.includes('scripts/start.ts') || joined.includes('scripts/api-stack.ts')) return 'launcher';
  if (/(^|\/)temporal(\s|$)/.test(cmdline[0] ?? '') || joined.includes(' server start-dev')) return 'temporal';
  if (/(^|\/)temporal-server$/.test(cmdline[0] ?? '')) return 'temporal';
  if (/postgres/.test(cmdline[0] ?? '')) return 'postgres';
  return (cmdline[0] ?? '?').split('/').pop() ?? '?';
}

/** Every live descendant of `rootPid` (itself included). */
export function stackProcesses(rootPid: number): ProcessSample[] {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    parents.set(Number(entry), stat.ppid);
    cpu.set(Number(entry), stat.cpuSeconds);
  }
  const inStack = (pid: number): boolean => {
    for (let p: number | undefined = pid, depth = 0; p && depth < 20; p = parents.get(p), depth++) if (p === rootPid) return true;
    return false;
  };
  const samples: ProcessSample[] = [];
  for (const pid of parents.keys()) {
    if (!inStack(pid)) continue;
    let cmdline: string[];
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (cmdline.length === 0) continue; // a zombie: exited, not reaped yet
    samples.push({ pid, name: processName(cmdline), rssBytes: rssOf(pid), cpuSeconds: cpu.get(pid) ?? 0 });
  }
  return samples;
}

/** Sums samples by name (PostgreSQL runs as many processes). */
export function byName(samples: ProcessSample[]): Map<string, { rssBytes: number; cpuSeconds: number; pids: number[] }> {
  const out = new Map<string, { rssBytes: number; cpuSeconds: number; pids: number[] }>();
  for (const s of samples) {
    const t = out.get(s.name) ?? { rssBytes: 0, cpuSeconds: 0, pids: [] };
    t.rssBytes += s.rssBytes;
    t.cpuSeconds += s.cpuSeconds;
    t.pids.push(s.pid);
    out.set(s.name, t);
  }
  return out;
}

/**
 * Samples the stack every `intervalMs`: each name's peak RSS, and the CPU seconds each name used
 * since the sampler started (per process: a process restarted meanwhile counts from zero, and one
 * that died counts what it had used at its last sample). `stop()` takes a last sample and ends it.
 */
export function peakRssSampler(
  rootPid: number,
  intervalMs = 1000,
): { peaks: Map<string, number>; peakWorkersTotal: () => number; cpuSeconds: () => Map<string, number>; stop(): void } {
  const peaks = new Map<string, number>();
  let workersPeak = 0;
  const firstCpu = new Map<number, number>();
  const lastCpu = new Map<number, { name: string; cpu: number }>();
  let started = false;
  const sample = (): void => {
    let workers = 0;
    const samples = stackProcesses(rootPid);
    for (const p of samples) {
      if (!firstCpu.has(p.pid)) firstCpu.set(p.pid, started ? 0 : p.cpuSeconds);
      lastCpu.set(p.pid, { name: p.name, cpu: p.cpuSeconds });
    }
    started = true;
    for (const [name, t] of byName(samples)) {
      peaks.set(name, Math.max(peaks.get(name) ?? 0, t.rssBytes));
      if (name.startsWith('worker:') && name !== 'worker:baseline') workers += t.rssBytes;
    }
    workersPeak = Math.max(workersPeak, workers);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  const cpuSeconds = () => {
    const out = new Map<string, number>();
    for (const [pid, { name, cpu }] of lastCpu) out.set(name, (out.get(name) ?? 0) + cpu - (firstCpu.get(pid) ?? 0));
    return out;
  };
  return {
    peaks,
    peakWorkersTotal: () => workersPeak,
    cpuSeconds,
    stop: () => {
      clearInterval(timer);
      sample();
    },
  };
}
