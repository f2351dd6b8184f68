/**
 * The connection budget (config/connections.ts) against the run's real PostgreSQL: a stack that
 * may hold more connections than the server has left is refused before it starts, with what to
 * change, instead of stalling mid-run on "too many clients".
 */
import postgres from 'postgres';
import { assertConnectionBudget, connectionBudget, DB_POOL_MAX, TEMPORAL_SERVICES, TEMPORAL_SQL_MAX_CONNS } from '../../config/connections';

describe('the PostgreSQL connection budget', () => {
  let sql: postgres.Sql;
  beforeAll(() => {
    sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
  });
  afterAll(() => sql.end());

  it('adds up the Temporal server, worker and API pools of a stack', () => {
    expect(connectionBudget({ temporalServer: true, workerProcesses: 16, apiProcesses: 2 })).toEqual({
      temporal: TEMPORAL_SERVICES * (TEMPORAL_SQL_MAX_CONNS.default + TEMPORAL_SQL_MAX_CONNS.visibility),
      workers: 16 * DB_POOL_MAX.worker,
      api: 2 * DB_POOL_MAX.api,
      total: TEMPORAL_SERVICES * (TEMPORAL_SQL_MAX_CONNS.default + TEMPORAL_SQL_MAX_CONNS.visibility) + 16 * DB_POOL_MAX.worker + 2 * DB_POOL_MAX.api,
    });
    expect(connectionBudget({ temporalServer: false, workerProcesses: 8, apiProcesses: 1 }).temporal).toBe(0);
  });

  it('accepts a stack the server can hold beside the clients already connected', async () => {
    await expect(
      assertConnectionBudget(sql, connectionBudget({ temporalServer: false, workerProcesses: 8, apiProcesses: 1 }), 'npm start'),
    ).resolves.toBeUndefined();
  });

  it('refuses a stack that may hold more connections than the server has left, saying how many it needs', async () => {
    const [{ max }] = await sql<{ max: number }[]>`select current_setting('max_connections')::int as max`;
    const tooMany = connectionBudget({ temporalServer: true, workerProcesses: Math.ceil(max / DB_POOL_MAX.worker), apiProcesses: 2 });
    await expect(assertConnectionBudget(sql, tooMany, 'npm run start:cluster')).rejects.toThrow(
      new RegExp(`npm run start:cluster may hold ${tooMany.total} .*raise max_connections to at least \\d+`),
    );
  });
});
