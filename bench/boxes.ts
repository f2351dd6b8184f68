/**
 * What the pipeline and soak benches share: members and stock for a run, placing boxes the way a
 * client would (honouring 503 overloaded and Retry-After), following them through the read model
 * and the event log, and reading each worker's memory and workflow cache.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { signUpVerified } from '../scripts/member-signup';
import { DOMAIN_WORKER_NAMES } from '../workers/domains';
import { byName, stackProcesses } from './processes';
import type { BenchStack } from './stack';

export const SIZES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const CATEGORIES = ['dress', 'top', 'trousers', 'skirt', 'jacket', 'knitwear'] as const;
export const ITEMS_PER_BOX = 3;

/** The commit being measured, `-dirty` when the tree has uncommitted changes (then the figures are not that commit's). */
export function codeVersion(): string {
  try {
    return execSync('git describe --always --dirty --abbrev=7', { cwd: path.resolve(__dirname, '..') })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** Writes a bench's result lines (markdown) to `out` and the terminal. */
export function writeResultsFile(out: string, lines: string[], say: (line: string) => void): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${lines.join('\n')}\n`);
  say(`results written to ${path.relative(process.cwd(), out)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs a bench's main and exits: 0 when it finished, 1 (with why) when it failed. */
export function runBench(main: () => Promise<void>, say: (line: string) => void): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      say(`failed: ${String((err as Error)?.stack ?? err)}`);
      process.exit(1);
    },
  );
}

/** `--stack-env KEY=VALUE,KEY=VALUE`: settings for the stack a bench starts (a value may hold `=`, not `,`). */
export function parseStackEnv(spec: string): Record<string, string> {
  return Object.fromEntries(
    spec
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** Progress on the terminal (stderr), tagged with the bench's name. */
export const progress =
  (bench: string) =>
  (line: string): void =>
    void process.stderr.write(`[${bench}] ${line}\n`);
const say = progress('bench');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : Number.NaN);
export const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export interface Member {
  /** The access token; renewed with the refresh token when it expires (JWT_TTL_SECONDS). */
  token: string;
  refreshToken: string;
  /** The refresh in flight: one per member at a time, since a spent refresh token presented again revokes the session. */
  refreshing?: Promise<void>;
  customerId: string;
  size: string;
  categories: string[];
}
export interface Box {
  orderId: string;
  size: string;
}
export interface BoxState {
  status: string;
  reason: string | null;
  createdMs: number;
  requestedMs: number | null;
  deliveredMs: number | null;
}

/** Far more stock than the run needs, in every size and category: any shortage is a wrongful one. */
export async function seedStock(sql: postgres.Sql, boxes: number): Promise<void> {
  const perCell = Math.max(150, Math.ceil((boxes * ITEMS_PER_BOX * 3) / (SIZES.length * 3)));
  const run = Date.now().toString(36);
  const rows = SIZES.flatMap((size) =>
    CATEGORIES.flatMap((category) =>
      Array.from({ length: perCell }, (_, n) => ({
        id: `itm_bench_${run}_${size}_${category}_${n}`,
        sku: `BENCH-${category}-${size}`.toUpperCase(),
        category,
        size,
        colour: 'black',
        purchase_price_cents: 3000 + (n % 20) * 100,
      })),
    ),
  );
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    await sql`insert into inventory.items ${sql(chunk, 'id', 'sku', 'category', 'size', 'colour', 'purchase_price_cents')}`;
  }
  say(`seeded ${rows.length} items (${perCell} per size and category)`);
}

/** `count` verified members, of every size and, in turn, three of the six categories each. */
export async function signUpMembers(stack: BenchStack, count: number): Promise<Member[]> {
  const run = Date.now().toString(36);
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const size = SIZES[i % SIZES.length];
      const categories = [0, 1, 2].map((k) => CATEGORIES[(i + k) % CATEGORIES.length]);
      const member = await signUpVerified({
        apiUrl: stack.url,
        mailUrl: stack.mailUrl,
        timeoutMs: 60_000,
        body: {
          email: `bench-${run}-${i}@example.test`,
          password: 'correct horse battery staple',
          name: `Bench Member ${i}`,
          size,
          preferredCategories: categories,
          address: { name: `Bench Member ${i}`, line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
        },
      });
      return { token: member.accessToken, refreshToken: member.refreshToken, customerId: member.customerId, size, categories };
    }),
  );
}

/** 503 overloaded answers the API gave while boxes were placed (the client waited Retry-After and retried). */
export let overloadedAnswers = 0;
/** How many 503 overloaded answers the API has given the bench so far. */
export const overloadedAnswersSoFar = (): number => overloadedAnswers;

/** Places one box for a member; answers the order id (the API's 202). */
export async function placeBox(stack: BenchStack, member: Member, key: string, giveUpAfterMs = 900_000): Promise<Box> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    const sentWith = member.token;
    const res = await fetch(`${stack.url}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${member.token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ itemCount: ITEMS_PER_BOX }),
    }).catch((err: unknown) => ({ status: 0, text: async () => String(err), headers: new Headers() }));
    if (res.status === 202) return { orderId: ((await (res as Response).json()) as { orderId: string }).orderId, size: member.size };
    if (res.status === 401 && attempt < 30) {
      await refreshMember(stack, member, sentWith);
      continue;
    }
    // Backpressure (503 + Retry-After) for as long as the system is behind; any other failure a few times.
    if (res.status === 503) overloadedAnswers += 1;
    const retryAfter = Number(res.headers.get('retry-after') ?? 1);
    if ((res.status !== 503 && attempt >= 30) || Date.now() > deadline)
      throw new Error(`POST /v1/orders answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await sleep(Math.max(0.2, retryAfter) * 1000);
  }
}

/** Renews a member's access token as a client would, once for every request that found `expired` stale. */
async function refreshMember(stack: BenchStack, member: Member, expired: string): Promise<void> {
  if (member.token !== expired) return;
  member.refreshing ??= (async () => {
    try {
      const res = await fetch(`${stack.url}/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: member.refreshToken }),
      });
      if (res.status !== 200) throw new Error(`POST /v1/auth/refresh answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      const pair = (await res.json()) as { accessToken: string; refreshToken: string };
      member.token = pair.accessToken;
      member.refreshToken = pair.refreshToken;
    } finally {
      member.refreshing = undefined;
    }
  })();
  await member.refreshing;
}

/** `count` boxes, twenty requests at a time. */
export async function placeBurst(stack: BenchStack, members: Member[], count: number): Promise<Box[]> {
  const run = Date.now().toString(36);
  const boxes: Box[] = [];
  for (let i = 0; i < count; i += 20) {
    boxes.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, (_, k) => placeBox(stack, members[(i + k) % members.length], `bench-${run}-${i + k}`)),
      )),
    );
  }
  return boxes;
}

/** Open model: box i is placed at start + i / rate, whatever the earlier ones are doing. */
export async function placeAtRate(stack: BenchStack, members: Member[], rate: number, seconds: number): Promise<Box[]> {
  const run = Date.now().toString(36);
  const count = Math.ceil(rate * seconds);
  const start = Date.now();
  const pending: Promise<Box>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    pending.push(placeBox(stack, members[i % members.length], `bench-${run}-${i}`));
  }
  return Promise.all(pending);
}

/** Each box's status and when it was accepted, reached awaiting_shipment (the WMS accepted its instruction) and was delivered. */
export async function boxStates(sql: postgres.Sql, ids: string[]): Promise<Map<string, BoxState>> {
  const rows = await sql<{ id: string; status: string; status_reason: string | null; created: number; requested: number | null; delivered: number | null }[]>`
    select o.id, o.status, o.status_reason,
           (extract(epoch from o.created_at) * 1000)::float8 as created,
           (select (extract(epoch from e.occurred_at) * 1000)::float8 from events.event_log e where e.id = 'wms:' || o.id || ':shipment-requested') as requested,
           (select (extract(epoch from e.occurred_at) * 1000)::float8 from events.event_log e where e.id = 'shipment:' || o.id || ':delivered') as delivered
      from orders.orders o where o.id = any(${ids})`;
  return new Map(
    rows.map((r) => [r.id, { status: r.status, reason: r.status_reason, createdMs: r.created, requestedMs: r.requested, deliveredMs: r.delivered }]),
  );
}

/** Each worker's RSS and workflow cache size (its /metrics), and per cached workflow when a `before` is given. */
export async function readMemory(stack: BenchStack, metricsBase: number, before?: { workers: Map<string, { rss: number; cached: number }> }) {
  const processes = byName(stackProcesses(stack.pid));
  const workers = new Map<string, { rss: number; cached: number }>();
  await Promise.all(
    DOMAIN_WORKER_NAMES.map(async (domain, index) => {
      const text = await fetch(`http://127.0.0.1:${metricsBase + index}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const cached = [...text.matchAll(/^temporal_sticky_cache_size(?:\{[^}]*\})? (\d+(?:\.\d+)?)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      workers.set(domain, { rss: processes.get(`worker:${domain}`)?.rssBytes ?? 0, cached });
    }),
  );
  const perCached = new Map<string, number>();
  if (before) {
    for (const [domain, now] of workers) {
      const was = before.workers.get(domain);
      if (was && now.cached - was.cached >= 50) perCached.set(domain, (now.rss - was.rss) / (now.cached - was.cached));
    }
  }
  const totalWorkers = [...workers.values()].reduce((sum, w) => sum + w.rss, 0);
  return { workers, perCached, totalWorkers };
}
