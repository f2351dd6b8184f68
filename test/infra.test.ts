import { testDb, type TestDb } from './support/db';
import { connectTestEnv, createTimeSkippingEnv } from './support/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';

describe('test infrastructure', () => {
  let db: TestDb;
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    db = testDb();
    env = await connectTestEnv();
  });

  afterAll(async () => {
    await db?.close();
    await env?.teardown();
  });

  it('runs a real PostgreSQL', async () => {
    const [row] = await db.sql<{ version: string; db: string }[]>`select version() as version, current_database() as db`;
    expect(row.version).toMatch(/^PostgreSQL \d+/);
    expect(row.db).toBe('closetflow_test');
  });

  it('runs a real Temporal dev server with the OrderId search attribute', async () => {
    const res = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace ?? 'default' });
    expect(Object.keys(res.customAttributes)).toEqual(expect.arrayContaining(['OrderId', 'CustomerId']));
    expect(res.customAttributes.OrderId).toBe(temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    expect(env.supportsTimeSkipping).toBe(false);
  });

  it('starts a time-skipping test server that can skip time', async () => {
    const ts = await createTimeSkippingEnv();
    try {
      expect(ts.supportsTimeSkipping).toBe(true);
      const before = await ts.currentTimeMs();
      await ts.sleep('1 day');
      expect((await ts.currentTimeMs()) - before).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
    } finally {
      await ts.teardown();
    }
  });
});
