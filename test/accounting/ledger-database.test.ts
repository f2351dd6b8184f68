/** The database guards the books by itself: balance per entry at COMMIT, CHECKs on lines, locked periods. */
import type { TransactionSql } from 'postgres';
import { connectDatabase, type Database } from '../../db/client';
import { uniqueId } from '../support/system';
import { accountingActivities, membershipCaptured, uniquePeriod, inPeriod } from './support';

let database: Database;
beforeAll(() => {
  database = connectDatabase(process.env.DATABASE_URL!, { max: 3 });
});
afterAll(async () => database?.close());

async function insertEntry(tx: TransactionSql, period: string, id: string, customerId: string) {
  await tx`insert into accounting.periods (period) values (${period}) on conflict do nothing`;
  await tx`insert into accounting.journal_entries (id, customer_id, period, source_event_id, source_event_type, description, customer_seq, occurred_at)
           values (${id}, ${customerId}, ${period}, ${`src:${id}`}, 'test', 'test entry', 1, now())`;
}

describe('accounting ledger database', () => {
  test('the database rejects an unbalanced entry: the transaction fails at COMMIT', async () => {
    const period = uniquePeriod();
    const id = uniqueId('je');
    let insertedLines = false;
    await expect(
      database.sql.begin(async (tx) => {
        await insertEntry(tx, period, id, uniqueId('c'));
        await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'cash', 1000, 0)`;
        await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'membership_revenue', 0, 900)`;
        // Every statement succeeded: the check is deferred to COMMIT.
        insertedLines = true;
      }),
    ).rejects.toThrow(/unbalanced/);
    expect(insertedLines).toBe(true);
    expect(await database.sql`select 1 from accounting.journal_entries where id = ${id}`).toHaveLength(0);
  });

  test('the database accepts a balanced entry whose lines are inserted one by one, and refuses an entry without lines', async () => {
    const period = uniquePeriod();
    const id = uniqueId('je');
    await database.sql.begin(async (tx) => {
      await insertEntry(tx, period, id, uniqueId('c'));
      await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'cash', 1000, 0)`;
      await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'membership_revenue', 0, 1000)`;
    });
    expect(await database.sql`select 1 from accounting.journal_lines where entry_id = ${id}`).toHaveLength(2);

    const empty = uniqueId('je');
    await expect(database.sql.begin((tx) => insertEntry(tx, period, empty, uniqueId('c')))).rejects.toThrow(/unbalanced: 0 line/);
  });

  test('a line is either a debit or a credit, never negative, never both, never zero', async () => {
    const period = uniquePeriod();
    for (const [debit, credit] of [
      [-5, 5],
      [5, 5],
      [0, 0],
    ]) {
      const id = uniqueId('je');
      await expect(
        database.sql.begin(async (tx) => {
          await insertEntry(tx, period, id, uniqueId('c'));
          await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'cash', ${debit}, ${credit})`;
        }),
      ).rejects.toThrow(/journal_lines_(non_negative|one_side)/);
    }
  });

  test('one entry per source event: posting the same event again posts nothing more', async () => {
    const acts = accountingActivities(database);
    const customerId = uniqueId('c');
    const event = membershipCaptured(customerId, uniquePeriod());
    const first = await acts.postEvent(event);
    const again = await acts.postEvent(event);
    expect(first).toMatchObject({ posted: true, customerSeq: 1 });
    expect(again).toMatchObject({ posted: false, entryId: first.entryId });
    const rows = await database.sql`select id from accounting.journal_entries where source_event_id = ${event.id}`;
    expect(rows).toHaveLength(1);
    expect(await database.sql`select 1 from accounting.journal_lines where entry_id = ${first.entryId}`).toHaveLength(2);
  });

  test('posting into a locked period is refused by the database; a late event posts into the next open period', async () => {
    const acts = accountingActivities(database);
    const period = uniquePeriod();
    await acts.lockPeriod(period);
    const id = uniqueId('je');
    await expect(
      database.sql.begin(async (tx) => {
        await insertEntry(tx, period, id, uniqueId('c'));
        await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'cash', 100, 0)`;
        await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${id}, 'sales_revenue', 0, 100)`;
      }),
    ).rejects.toThrow(/period .* is locked/);

    const late = membershipCaptured(uniqueId('c'), period, 4900, inPeriod(period));
    const posted = await acts.postEvent(late);
    expect(posted.posted).toBe(true);
    expect(posted.period).not.toBe(period);
    expect(posted.period! > period).toBe(true);
  });
});
