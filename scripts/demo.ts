/**
 * `npm run demo`: against a running `npm start`, places a handful of boxes over the API and drives
 * some into the interesting failures, printing progress and the Web UI links to look at:
 * - happy boxes, styled → reserved → shipped → delivered;
 * - a WMS outage (simulator fault knob): two boxes wait in retry, then ship once the WMS is back;
 * - a bad address: the WMS refuses it; with admin credentials the demo runs the runbook's drill
 *   (correct the address, reset the failed workflow) and the box ships;
 * - a declined card: the member's membership fee is declined and waits for its dunning retry.
 *
 * Members sign up as people do: signup, the token from the verification e-mail (the mail
 * simulator's inbox), verify.
 *
 * Reads API_PUBLIC_URL, WMS_URL, PSP_URL, MAIL_URL, TEMPORAL_UI_URL, TEMPORAL_NAMESPACE, ADMIN_EMAIL and
 * ADMIN_PASSWORD from the environment (config/index.ts); DEMO_TIMEOUT_SECONDS bounds the wait.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config';
import { signUpVerified } from './member-signup';

const config = loadConfig();
const API = config.API_PUBLIC_URL.replace(/\/+$/, '');
const UI = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
const NAMESPACE = config.TEMPORAL_NAMESPACE;
const TIMEOUT_MS = Number(process.env.DEMO_TIMEOUT_SECONDS ?? 240) * 1000;
const OUTAGE_SECONDS = 25;
const started = Date.now();

const GOOD_ADDRESS = { name: 'Demo Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' };
const BAD_ADDRESS = { ...GOOD_ADDRESS, line1: 'REJECT 13 Nowhere Lane' };

type Scenario = 'happy' | 'wms-outage' | 'bad-address' | 'declined-card';
interface Box {
  scenario: Scenario;
  orderId: string;
  customerId: string;
  token: string;
  status: string;
  repaired?: boolean;
}

const say = (line: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const searchLink = (attribute: 'OrderId' | 'CustomerId', value: string) =>
  `${UI}/namespaces/${encodeURIComponent(NAMESPACE)}/workflows?query=${encodeURIComponent(`${attribute}="${value}"`)}`;

async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function signUpAndOrder(scenario: Scenario, opts: { address?: typeof GOOD_ADDRESS; card?: string } = {}): Promise<Box> {
  const email = `demo-${scenario}-${randomUUID().slice(0, 8)}@example.com`;
  const { customerId, accessToken: token } = await signUpVerified({
    apiUrl: API,
    mailUrl: config.MAIL_URL,
    body: {
      email,
      password: 'a demo member password',
      name: 'Demo Member',
      size: 'M',
      preferredCategories: ['dress', 'top', 'knitwear'],
      address: opts.address ?? GOOD_ADDRESS,
      ...(opts.card ? { card: { token: opts.card } } : {}),
    },
  });
  const auth = { authorization: `Bearer ${token}` };
  const { orderId } = await call<{ orderId: string }>('POST', `${API}/v1/orders`, { itemCount: 2 }, { ...auth, 'Idempotency-Key': randomUUID() });
  say(`${scenario.padEnd(13)} ${orderId} placed for ${customerId}`);
  return { scenario, orderId, customerId, token, status: 'placed' };
}

async function adminToken(): Promise<string | undefined> {
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) return undefined;
  const { token } = await call<{ token: string }>('POST', `${API}/v1/auth/login`, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  return token;
}

async function setWmsOutage(seconds: number | null): Promise<void> {
  const outageUntil = seconds === null ? null : new Date(Date.now() + seconds * 1000).toISOString();
  await call('PUT', `${config.WMS_URL}/admin/faults`, { outageUntil });
}

async function main(): Promise<void> {
  await call('GET', `${API}/healthz`).catch((err: unknown) => {
    throw new Error(`the API at ${API} is not up (run \`npm start\` first): ${(err as Error).message}`);
  });
  const admin = await adminToken();
  const adminAuth = admin ? { authorization: `Bearer ${admin}` } : undefined;
  if (!admin) say('ADMIN_EMAIL / ADMIN_PASSWORD not set: the bad-address box will wait for you (docs/operations.md shows the drill)');

  const boxes: Box[] = [];
  boxes.push(await signUpAndOrder('happy'), await signUpAndOrder('happy'));
  boxes.push(await signUpAndOrder('bad-address', { address: BAD_ADDRESS }));
  boxes.push(await signUpAndOrder('declined-card', { card: 'tok_decline' }));

  let outageAt: number | undefined;
  let shownPending = false;
  const finished = (b: Box) => b.status === 'delivered' || b.status === 'cancelled';
  const handedOver = (b: Box) => ['awaiting_shipment', 'shipped', 'delivered'].includes(b.status);
  while ((outageAt === undefined || !boxes.every(finished)) && Date.now() - started < TIMEOUT_MS) {
    // Once the happy boxes are with the WMS (or after a minute), the WMS goes down and two more boxes come in.
    if (outageAt === undefined && (boxes.filter((b) => b.scenario === 'happy').every(handedOver) || Date.now() - started > 60_000)) {
      outageAt = Date.now();
      say(`WMS outage for ${OUTAGE_SECONDS}s (PUT ${config.WMS_URL}/admin/faults): instructions will wait and retry`);
      await setWmsOutage(OUTAGE_SECONDS);
      boxes.push(await signUpAndOrder('wms-outage'), await signUpAndOrder('wms-outage'));
    }
    for (const box of boxes) {
      const { status } = await call<{ status: string }>('GET', `${API}/v1/orders/${box.orderId}`, undefined, { authorization: `Bearer ${box.token}` });
      if (status !== box.status) say(`${box.scenario.padEnd(13)} ${box.orderId} ${box.status} → ${status}`);
      box.status = status;

      if (box.status === 'address_rejected' && adminAuth && !box.repaired) {
        box.repaired = true;
        say(`bad-address   ${box.orderId}: the WMS refused the address; ops correct it and reset wms:${box.orderId} (admin API)`);
        await call('PUT', `${API}/admin/orders/${box.orderId}/address`, { reason: 'demo: member confirmed the address', address: GOOD_ADDRESS }, adminAuth);
        const reset = await call<{ runId: string }>(
          'POST',
          `${API}/admin/workflows/${encodeURIComponent(`wms:${box.orderId}`)}/reset`,
          { reason: 'demo: address corrected', to: 'first-workflow-task', reapplySignals: true },
          adminAuth,
        );
        say(`bad-address   ${box.orderId}: reset, new run ${reset.runId}`);
      }
    }
    if (adminAuth && !shownPending && outageAt !== undefined && Date.now() - outageAt > 8_000) {
      const pending = await call<{ activities: { workflowId: string; activityType: string; attempt: number; lastFailure: { message: string } | null }[] }>(
        'GET',
        `${API}/admin/activities/pending?domain=warehouse-integration&reason=${encodeURIComponent('demo: watch the WMS outage')}`,
        undefined,
        adminAuth,
      );
      if (pending.activities.length) {
        shownPending = true;
        say('retrying activities (GET /admin/activities/pending): nothing has failed, they wait for the WMS');
        for (const a of pending.activities) say(`  ${a.workflowId} ${a.activityType} attempt ${a.attempt}: ${a.lastFailure?.message ?? ''}`);
      }
    }
    await sleep(2000);
  }

  console.log('\nWhere to look (Temporal Web UI):');
  for (const box of boxes) console.log(`  ${box.scenario.padEnd(13)} ${box.orderId.padEnd(22)} ${box.status.padEnd(18)} ${searchLink('OrderId', box.orderId)}`);
  const declined = boxes.find((b) => b.scenario === 'declined-card');
  if (declined) console.log(`  the declined membership fee (dunning retries at +1 d, +3 d, +7 d): ${searchLink('CustomerId', declined.customerId)}`);
  console.log(`  everything failed: ${UI}/namespaces/${encodeURIComponent(NAMESPACE)}/workflows?query=${encodeURIComponent('ExecutionStatus="Failed"')}`);
  if (adminAuth) console.log(`  one box across domains: curl -s ${API}/admin/orders/${boxes[0].orderId}/trace -H "authorization: Bearer $ADMIN" | jq`);
  const late = boxes.filter((b) => !finished(b));
  if (late.length) {
    console.log(`\n${late.length} box(es) not delivered within ${TIMEOUT_MS / 1000}s: ${late.map((b) => `${b.orderId} (${b.status})`).join(', ')}`);
    process.exitCode = 1;
  }
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => setWmsOutage(null).catch(() => undefined));
