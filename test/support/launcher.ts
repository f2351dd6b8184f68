/**
 * Running `npm start` (scripts/start.ts) as a user does, for the end-to-end tests: free ports,
 * the launcher as a child process, ready once it says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A run of `count` free ports below Linux's ephemeral range (32768+), as the default 9464 is: a
 * port the OS hands out for listen(0) or an outgoing connection could otherwise take one first.
 */
export async function freePortRun(count: number, below = 32_000): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (below - 20_000 - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no run of ${count} free ports below ${below}`);
}

/** A running launcher. */
export interface LaunchedStack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts scripts/start.ts with `args` (e.g. `--cluster`); resolves once it prints that it is ready. */
export function launchStack(env: NodeJS.ProcessEnv, args: string[] = []): Promise<LaunchedStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('closetflow is ready')) {
        clearInterval(timer);
        resolve({ child, output: () => out, exited });
      }
    }, 200);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`npm start exited (${code}) before it was ready:\n${out.slice(-4000)}`));
    });
  });
}

/** Every process descending from `rootPid`, with its command line (from ps). */
export function descendants(rootPid: number): { pid: number; args: string }[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const found: { pid: number; args: string }[] = [];
  const walk = (pid: number): void => {
    for (const row of rows.filter((r) => r.ppid === pid)) {
      found.push({ pid: row.pid, args: row.args });
      walk(row.pid);
    }
  };
  walk(rootPid);
  return found;
}

/** Whether a process is still alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
