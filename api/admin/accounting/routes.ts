/**
 * Admin reads of the ledger (`/admin/accounting`, admin role only): the trial balance of a period
 * and its journal entries with their lines.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../../db/client';
import { periodSchema } from '../../../workflows/accounting/contract';
import { parseRequest } from '../../validation';

const trialBalanceQuery = z.object({ period: periodSchema }).strict();
const ledgerQuery = z
  .object({
    period: periodSchema,
    customerId: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

export function accountingAdminRoutes({ database }: { database: Database }): Router {
  const router = Router();
  const { sql } = database;

  router.get('/trial-balance', async (req, res) => {
    const { period } = parseRequest(trialBalanceQuery, req.query, 'query');
    const rows = await sql<{ account: string; name: string; kind: string; debit: string; credit: string }[]>`
      select a.code as account, a.name, a.kind,
             coalesce(sum(l.debit_cents), 0)::text as debit, coalesce(sum(l.credit_cents), 0)::text as credit
      from accounting.accounts a
      left join (accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id and e.period = ${period})
        on l.account = a.code
      group by a.code, a.name, a.kind order by a.code`;
    const [status] = await sql<{ status: string; locked_at: Date | null }[]>`select status, locked_at from accounting.periods where period = ${period}`;
    const accounts = rows.map((r) => ({ account: r.account, name: r.name, kind: r.kind, debitCents: Number(r.debit), creditCents: Number(r.credit) }));
    const totalDebitCents = accounts.reduce((s, a) => s + a.debitCents, 0);
    const totalCreditCents = accounts.reduce((s, a) => s + a.creditCents, 0);
    res.json({
      period,
      status: status?.status ?? 'open',
      lockedAt: status?.locked_at ? new Date(status.locked_at).toISOString() : null,
      accounts,
      totalDebitCents,
      totalCreditCents,
      balanced: totalDebitCents === totalCreditCents,
    });
  });

  router.get('/ledger', async (req, res) => {
    const { period, customerId, limit } = parseRequest(ledgerQuery, req.query, 'query');
    const entries = await sql<
      { id: string; customer_id: string; customer_seq: number; source_event_id: string; source_event_type: string; charge_key: string | null; description: string; occurred_at: Date; posted_at: Date }[]
    >`
      select id, customer_id, customer_seq, source_event_id, source_event_type, charge_key, description, occurred_at, posted_at
      from accounting.journal_entries
      where period = ${period} ${customerId ? sql`and customer_id = ${customerId}` : sql``}
      order by customer_id, customer_seq
      limit ${limit + 1}`;
    const page = entries.slice(0, limit);
    const lines = page.length
      ? await sql<{ entry_id: string; account: string; debit: string; credit: string }[]>`
          select entry_id, account, debit_cents::text as debit, credit_cents::text as credit
          from accounting.journal_lines where entry_id in ${sql(page.map((e) => e.id))} order by id`
      : [];
    res.json({
      period,
      customerId: customerId ?? null,
      truncated: entries.length > limit,
      entries: page.map((e) => ({
        id: e.id,
        customerId: e.customer_id,
        sequence: e.customer_seq,
        sourceEventId: e.source_event_id,
        sourceEventType: e.source_event_type,
        chargeKey: e.charge_key,
        description: e.description,
        occurredAt: new Date(e.occurred_at).toISOString(),
        postedAt: new Date(e.posted_at).toISOString(),
        lines: lines.filter((l) => l.entry_id === e.id).map((l) => ({ account: l.account, debitCents: Number(l.debit), creditCents: Number(l.credit) })),
      })),
    });
  });

  return router;
}
