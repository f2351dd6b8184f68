/**
 * One full box lifecycle over HTTP against a running stack (`npm start`), then the billable
 * Temporal actions and history events of every workflow of that box, from the real histories:
 * order → delivered → one item bought → return requested → arrived → inspected → restocked → closed.
 *
 *   INVENTORY_CLEANING_TIME='2 seconds' WMS_STEP_MS=300 npm start     # in one terminal
 *   npx tsx bench/lifecycle.ts [--api http://localhost:3000] [--mail http://127.0.0.1:4030] [--temporal 127.0.0.1:7233]
 *
 * Prints a markdown table; bench/results/lifecycle-actions.md keeps the last run.
 */
import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signUpVerified } from '../scripts/member-signup';
import { costOfBox } from './actions';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://localhost:3000' },
    mail: { type: 'string', default: 'http://127.0.0.1:4030' },
    temporal: { type: 'string', default: '127.0.0.1:7233' },
  },
});
const api = values.api!;

async function call(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${api}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function waitForStatus(orderId: string, token: string, wanted: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call('GET', `/v1/orders/${orderId}`, undefined, token);
    if (body.status === wanted) return body;
    if (Date.now() > deadline) throw new Error(`order ${orderId} is ${String(body.status)}, not ${wanted}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  // Signup, the token from the mail simulator's inbox, verify.
  const { accessToken: token } = await signUpVerified({
    apiUrl: api,
    mailUrl: values.mail!,
    body: {
      email: `bench-${Date.now()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Bench Member',
      size: 'M',
      preferredCategories: ['dress', 'top', 'jacket'],
      address: { name: 'Bench Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
    },
  });
  const placed = await call('POST', '/v1/orders', { itemCount: 3 }, token);
  if (placed.status !== 202) throw new Error(`order: ${placed.status} ${JSON.stringify(placed.body)}`);
  const orderId = String(placed.body.orderId);
  const delivered = await waitForStatus(orderId, token, 'delivered');
  const deliveredAfter = Date.now() - started;

  const itemId = (delivered.itemIds as string[])[0];
  const bought = await call('POST', `/v1/orders/${orderId}/items/${itemId}/purchase`, {}, token);
  if (bought.status !== 202) throw new Error(`purchase: ${bought.status} ${JSON.stringify(bought.body)}`);
  // The sale must be booked before the return, so the purchased item stays with the member.
  for (let i = 0; ; i++) {
    const { body } = await call('GET', `/v1/orders/${orderId}`, undefined, token);
    if ((body.purchasedItemIds as string[] | undefined)?.includes(itemId)) break;
    if (i > 400) throw new Error('the purchase was not booked');
    await new Promise((r) => setTimeout(r, 300));
  }
  const returned = await call('POST', `/v1/orders/${orderId}/return`, {}, token);
  if (returned.status !== 202) throw new Error(`return: ${returned.status} ${JSON.stringify(returned.body)}`);
  await waitForStatus(orderId, token, 'closed', 180_000);
  const closedAfter = Date.now() - started;

  const connection = await Connection.connect({ address: values.temporal! });
  try {
    const costs = await costOfBox(new Client({ connection }), orderId);
    const lines = [
      `One box lifecycle (order ${orderId}): delivered after ${(deliveredAfter / 1000).toFixed(1)} s, closed after ${(closedAfter / 1000).toFixed(1)} s.`,
      '',
      '| workflow | type | task queue | history events | actions |',
      '|---|---|---|---|---|',
      ...costs.map((c) => `| ${c.workflowId} | ${c.type} | ${c.taskQueue} | ${c.historyEvents} | ${c.actions} |`),
    ];
    const total = costs.reduce((t, c) => ({ events: t.events + c.historyEvents, actions: t.actions + c.actions }), { events: 0, actions: 0 });
    lines.push(`| **total** (${costs.length} workflows) | | | ${total.events} | ${total.actions} |`, '');
    const breakdown: Record<string, number> = {};
    for (const c of costs) for (const [k, v] of Object.entries(c.breakdown)) breakdown[k] = (breakdown[k] ?? 0) + v;
    lines.push(
      'Actions by kind: ' +
        Object.entries(breakdown)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') +
        '.',
    );
    const text = lines.join('\n');
    console.log(text);
    const out = path.join(__dirname, 'results', 'lifecycle-actions.md');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `# Temporal actions of one box lifecycle\n\nMeasured ${new Date().toISOString()} with \`bench/lifecycle.ts\`.\n\n${text}\n`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
