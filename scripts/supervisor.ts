/**
 * A small process supervisor for the embedded stack: runs each service as a child process,
 * restarts one that crashes (with backoff, and says so in the log), and on shutdown stops all of
 * them at once (SIGTERM, so each drains on its own; SIGKILL after a grace period). No order is
 * needed: the services share nothing but PostgreSQL and Temporal, which outlive them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Logger } from 'pino';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Restart after an unexpected exit (default true). */
  restart?: boolean;
  /** CPU niceness (0-19) for background services, so the API keeps answering while they work a backlog off. */
  niceness?: number;
}

interface Running {
  spec: ServiceSpec;
  child?: ChildProcess;
  restarts: number;
  stopping: boolean;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

/**
 * Lowers a process's CPU priority. On a shared machine the customer-facing API answers first and
 * the background work (workers, the Temporal dev server) takes the rest: an event-driven backlog
 * waits without harm, a member's request should not. Returns why it could not (no permission).
 */
export function lowerPriority(pid: number, niceness: number): string | undefined {
  try {
    os.setPriority(pid, niceness);
    return undefined;
  } catch (err) {
    return String(err);
  }
}

export class Supervisor {
  private readonly services: Running[] = [];
  private shuttingDown = false;

  constructor(private readonly logger: Logger) {}

  /** Starts a service and keeps it running until {@link stopAll}. */
  start(spec: ServiceSpec): void {
    const running: Running = { spec, restarts: 0, stopping: false };
    this.services.push(running);
    this.launch(running);
  }

  /** Restart counts per service, for the status line and tests. */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.services.map((s) => [s.spec.name, s.restarts]));
  }

  /** pid of a running service. */
  pid(name: string): number | undefined {
    return this.services.find((s) => s.spec.name === name)?.child?.pid;
  }

  private launch(running: Running): void {
    const { spec } = running;
    const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'inherit', 'inherit'] });
    running.child = child;
    const refused = spec.niceness && child.pid ? lowerPriority(child.pid, spec.niceness) : undefined;
    if (refused) this.logger.warn({ service: spec.name, niceness: spec.niceness, err: refused }, 'could not lower the CPU priority');
    running.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        if (running.stopping || this.shuttingDown) return;
        if (spec.restart === false) {
          this.logger.error({ service: spec.name, code, signal }, 'service exited');
          return;
        }
        running.restarts++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(running.restarts - 1, 6));
        this.logger.warn({ service: spec.name, code, signal, restarts: running.restarts, restartInMs: delay }, 'service crashed; restarting');
        running.timer = setTimeout(() => this.launch(running), delay);
      });
    });
    this.logger.info({ service: spec.name, pid: child.pid }, 'service started');
  }

  /** Stops every service (SIGTERM, so workers drain), then SIGKILL any still running after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      this.services.map(async (running) => {
        running.stopping = true;
        if (running.timer) clearTimeout(running.timer);
        const child = running.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await running.exited;
        clearTimeout(killer);
        this.logger.info({ service: running.spec.name }, 'service stopped');
      }),
    );
  }
}
