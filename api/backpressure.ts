/**
 * How far behind the system is, and saying so to callers. A box is accepted in one statement
 * (the order outbox) and everything after it runs in the background, so without a brake the API
 * would keep accepting orders at 200/s while starts and picks queue for minutes. The load monitor
 * samples, every `intervalMs`, the order outbox (pending starts, oldest age) and each domain's
 * workflow task queue on Temporal (approximate backlog and its age: how long the oldest workflow
 * task has waited for a worker, i.e. schedule-to-start). Past a limit, `POST /v1/orders` answers 503
 * `overloaded` with `Retry-After` and the figures, and writes nothing (a retry with the same
 * Idempotency-Key goes through once the system has caught up). Ops read the same report at
 * `GET /admin/lag` and on `/metrics`.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { orderStartBacklog } from '../store/orders/workflow-starts';
import type { Db } from '../db/client';
import { ACCOUNTING_TASK_QUEUE } from '../workflows/accounting/contract';
import { INVENTORY_TASK_QUEUE } from '../workflows/inventory/contract';
import { ORDERS_TASK_QUEUE } from '../workflows/orders/contract';
import { PAYMENT_TASK_QUEUE } from '../workflows/payment/contract';
import { RETURNS_TASK_QUEUE } from '../workflows/returns/contract';
import { STYLING_TASK_QUEUE } from '../workflows/styling/contract';
import { WAREHOUSE_TASK_QUEUE } from '../workflows/warehouse/contract';
import { WAREHOUSE_INTEGRATION_TASK_QUEUE } from '../workflows/warehouse-integration/contract';
import { ProblemError } from './problems';

/** Every domain's task queue (a domain is its task queue). */
export const DOMAIN_TASK_QUEUES = [
  ORDERS_TASK_QUEUE,
  STYLING_TASK_QUEUE,
  INVENTORY_TASK_QUEUE,
  WAREHOUSE_INTEGRATION_TASK_QUEUE,
  WAREHOUSE_TASK_QUEUE,
  RETURNS_TASK_QUEUE,
  PAYMENT_TASK_QUEUE,
  ACCOUNTING_TASK_QUEUE,
] as const;

/**
 * A poller counts while it polled within this long: Temporal lists a worker's pollers for minutes
 * after the worker is gone, and a worker long-polls at least once a minute.
 */
const POLLER_SEEN_MS = 90_000;

/** One task queue's backlog, as Temporal reports it (approximate). */
export interface TaskQueueLag {
  taskQueue: string;
  type: 'workflow' | 'activity';
  /** Tasks waiting for a worker. */
  backlog: number;
  /** How long the oldest waiting task has waited (its schedule-to-start so far). */
  backlogAgeSeconds: number;
  /** Tasks added and dispatched per second, lately. */
  addRate: number;
  dispatchRate: number;
  /** Workers that polled within the last 90 s. */
  pollers: number;
}

/** Lag per domain, read at `at`. */
export interface LagReport {
  at: string;
  orderStarts: { pending: number; oldestAgeSeconds: number };
  taskQueues: TaskQueueLag[];
}

/** Thresholds past which new orders are refused. */
export interface LoadLimits {
  maxPendingStarts: number;
  maxStartAgeSeconds: number;
  maxTaskBacklogAgeSeconds: number;
}

const seconds = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number => (d ? Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9 : 0);

/** Reads the outbox and every domain's task queues (workflow and activity) once. */
export async function readLag({ temporal: client, db }: { temporal: Client; db: Db }): Promise<LagReport> {
  const types = [
    ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
  ] as const;
  const [orderStarts, ...queues] = await Promise.all([
    orderStartBacklog(db),
    ...DOMAIN_TASK_QUEUES.flatMap((name) =>
      types.map(async ([type, taskQueueType]): Promise<TaskQueueLag> => {
        const res = await client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name },
          taskQueueType,
          reportStats: true,
        });
        return {
          taskQueue: name,
          type,
          backlog: Number(res.stats?.approximateBacklogCount ?? 0),
          backlogAgeSeconds: seconds(res.stats?.approximateBacklogAge),
          addRate: res.stats?.tasksAddRate ?? 0,
          dispatchRate: res.stats?.tasksDispatchRate ?? 0,
          pollers: (res.pollers ?? []).filter((p) => Date.now() - seconds(p.lastAccessTime) * 1000 < POLLER_SEEN_MS).length,
        };
      }),
    ),
  ]);
  return { at: new Date().toISOString(), orderStarts, taskQueues: queues };
}

/** Why the system refuses new orders now, if it does. */
export interface Overload {
  reason: string;
  retryAfterSeconds: number;
  figures: Record<string, number>;
}

/** The verdict on one report. */
export function overloadOf(report: LagReport, limits: LoadLimits): Overload | undefined {
  const { pending, oldestAgeSeconds } = report.orderStarts;
  const retryAfter = (age: number) => Math.min(60, Math.max(2, Math.ceil(age / 4)));
  if (pending > limits.maxPendingStarts) {
    return {
      reason: `${pending} accepted orders wait for their workflow to start (limit ${limits.maxPendingStarts})`,
      retryAfterSeconds: retryAfter(oldestAgeSeconds),
      figures: { pendingStarts: pending, oldestStartAgeSeconds: oldestAgeSeconds },
    };
  }
  if (oldestAgeSeconds > limits.maxStartAgeSeconds) {
    return {
      reason: `the oldest accepted order has waited ${Math.round(oldestAgeSeconds)} s for its workflow to start (limit ${limits.maxStartAgeSeconds} s)`,
      retryAfterSeconds: retryAfter(oldestAgeSeconds),
      figures: { pendingStarts: pending, oldestStartAgeSeconds: oldestAgeSeconds },
    };
  }
  // A queue nobody polls is an outage of that domain's worker, not load: refusing orders would not
  // drain it (ops see `pollers: 0` at /admin/lag), and a stack run without some workers (the API-only
  // stack) would refuse every order.
  const worst = report.taskQueues.filter((q) => q.type === 'workflow' && q.pollers > 0).sort((a, b) => b.backlogAgeSeconds - a.backlogAgeSeconds)[0];
  if (worst && worst.backlogAgeSeconds > limits.maxTaskBacklogAgeSeconds) {
    return {
      reason: `${worst.taskQueue}'s workflow tasks wait ${Math.round(worst.backlogAgeSeconds)} s for a worker (limit ${limits.maxTaskBacklogAgeSeconds} s)`,
      retryAfterSeconds: retryAfter(worst.backlogAgeSeconds),
      figures: { [`${worst.taskQueue}BacklogAgeSeconds`]: worst.backlogAgeSeconds, [`${worst.taskQueue}Backlog`]: worst.backlog },
    };
  }
  return undefined;
}

/** The last report and verdict, refreshed in the background (never on a request's path). */
export interface LoadMonitor {
  report(): LagReport | undefined;
  overload(): Overload | undefined;
  stop(): void;
}

/** Samples `read` every `intervalMs`; a failed read keeps the last report (the brake holds, or stays off). */
export function createLoadMonitor({
  read,
  limits,
  intervalMs,
  log,
  metrics,
}: {
  read: () => Promise<LagReport>;
  limits: LoadLimits;
  intervalMs: number;
  log: Logger;
  metrics?: Registry;
}): LoadMonitor {
  let last: LagReport | undefined;
  let verdict: Overload | undefined;
  let running = false;
  const sample = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      last = await read();
      const next = overloadOf(last, limits);
      if (next && !verdict) log.warn({ reason: next.reason, ...next.figures }, 'overloaded: new orders are refused until the system catches up');
      if (!next && verdict) log.info('caught up: new orders are accepted again');
      verdict = next;
    } catch (err) {
      log.warn({ err }, 'could not read the system lag; keeping the last reading');
    } finally {
      running = false;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  if (metrics) {
    const byQueue = (pick: (q: TaskQueueLag) => number) =>
      function (this: Gauge) {
        this.reset();
        for (const q of last?.taskQueues ?? []) this.set({ task_queue: q.taskQueue, type: q.type }, pick(q));
      };
    new Gauge({
      name: 'closetflow_task_queue_backlog',
      help: 'Tasks waiting for a worker, per domain task queue and type (Temporal, approximate)',
      labelNames: ['task_queue', 'type'],
      registers: [metrics],
      collect: byQueue((q) => q.backlog),
    });
    new Gauge({
      name: 'closetflow_task_queue_backlog_age_seconds',
      help: 'How long the oldest task of a domain task queue has waited for a worker (its schedule-to-start so far)',
      labelNames: ['task_queue', 'type'],
      registers: [metrics],
      collect: byQueue((q) => q.backlogAgeSeconds),
    });
    new Gauge({
      name: 'closetflow_overloaded',
      help: '1 while new orders are refused (503 overloaded) because the system is behind',
      registers: [metrics],
      collect() {
        this.set(verdict ? 1 : 0);
      },
    });
  }
  return { report: () => last, overload: () => verdict, stop: () => clearInterval(timer) };
}

/** While the system is behind: `refuse()` counts a refused order and gives its 503 problem. */
export interface Overloaded {
  refuse(): ProblemError;
}

/**
 * Admission for new orders: undefined while they are admitted, else the refusal (503 `overloaded`
 * with Retry-After and the figures), counted on `/metrics` when it is given.
 */
export function orderAdmission(monitor: LoadMonitor, metrics?: Registry): () => Overloaded | undefined {
  const refused = metrics
    ? new Counter({ name: 'closetflow_orders_refused_overloaded_total', help: 'Orders refused with 503 overloaded', registers: [metrics] })
    : undefined;
  return () => {
    const overload = monitor.overload();
    if (!overload) return undefined;
    return {
      refuse() {
        refused?.inc();
        return new ProblemError(
          'overloaded',
          `The system is behind: ${overload.reason}. Nothing was placed; retry after the delay (the same Idempotency-Key is safe).`,
          { lag: overload.figures },
          { 'Retry-After': String(overload.retryAfterSeconds) },
        );
      },
    };
  };
}
