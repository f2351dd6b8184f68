/**
 * Running `npm start` (scripts/start.ts) as a user does, for the end-to-end tests: the launcher as
 * a child process, ready once it says so, and the processes it runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export { freePortRun } from '../../config/ports';

const ROOT = path.resolve(__dirname, '../..');

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
