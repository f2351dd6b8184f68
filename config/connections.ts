/**
 * PostgreSQL connections, budgeted. Every process's pool is bounded here, so the launcher can add
 * them up for a stack's shape before it starts anything: a server with too few connections turns
 * into "sorry, too many clients already" mid-run, which every activity retries and which looks
 * like a stall (measured: two processes per domain worker on the Temporal server exhausted
 * PostgreSQL's default of 100 and held a burst of boxes before the WMS for minutes).
 */
import type postgres from 'postgres';

/** Connections each of closetflow's processes may hold at once. */
export const DB_POOL_MAX = { api: 10, worker: 5 } as const;

/**
 * The Temporal server's pools (config/temporal, docker-compose.yml's SQL_MAX_CONNS and
 * SQL_VIS_MAX_CONNS). Each of its services opens its own, even when one process runs them all.
 */
export const TEMPORAL_SQL_MAX_CONNS = { default: 20, visibility: 5 } as const;
/** frontend, history, matching and worker: one pool pair each. */
export const TEMPORAL_SERVICES = 4;
/** Left over for a psql session, a migration, a bench's probe or a test's own pool. */
export const CONNECTION_HEADROOM = 20;

/** What a stack runs against its PostgreSQL. */
export interface StackShape {
  /** The Temporal server on this PostgreSQL (start:cluster); the dev server keeps its own SQLite. */
  temporalServer: boolean;
  workerProcesses: number;
  apiProcesses: number;
}

/** The most connections a stack of this shape may hold, by who holds them. */
export interface ConnectionBudget {
  temporal: number;
  workers: number;
  api: number;
  total: number;
}

/** Adds up the pools of a stack's processes. */
export function connectionBudget(shape: StackShape): ConnectionBudget {
  const temporal = shape.temporalServer ? TEMPORAL_SERVICES * (TEMPORAL_SQL_MAX_CONNS.default + TEMPORAL_SQL_MAX_CONNS.visibility) : 0;
  const workers = shape.workerProcesses * DB_POOL_MAX.worker;
  const api = shape.apiProcesses * DB_POOL_MAX.api;
  return { temporal, workers, api, total: temporal + workers + api };
}

/** `max_connections` for a PostgreSQL of our own: the budget plus headroom, never below PostgreSQL's default. */
export function maxConnectionsFor(budget: ConnectionBudget): number {
  return Math.max(100, budget.total + CONNECTION_HEADROOM);
}

/**
 * Refuses a server that cannot hold the budget beside what already uses it: its max_connections,
 * less the superuser reserve and the other clients connected now.
 */
export async function assertConnectionBudget(sql: postgres.Sql, budget: ConnectionBudget, what: string): Promise<void> {
  const [row] = await sql<{ max: number; reserved: number; others: number }[]>`
    select current_setting('max_connections')::int as max,
           current_setting('superuser_reserved_connections')::int as reserved,
           (select count(*)::int from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()) as others`;
  const available = row!.max - row!.reserved - row!.others;
  if (available < budget.total)
    throw new Error(
      `PostgreSQL allows ${available} more connections (max_connections ${row!.max}, ${row!.reserved} reserved, ${row!.others} in use), ` +
        `but ${what} may hold ${budget.total} (Temporal server ${budget.temporal}, workers ${budget.workers}, API ${budget.api}): ` +
        `raise max_connections to at least ${budget.total + row!.reserved + row!.others} or run fewer replicas`,
    );
}
