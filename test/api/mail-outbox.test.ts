/**
 * Signup's e-mails go through the outbox and the API's mail relay: a mail provider outage never
 * fails or slows signup, a lost answer is retried under the same Idempotency-Key (delivered once),
 * a final refusal is not retried, and nothing keeps a token in clear once it is sent or dead.
 *
 * On a database of its own (same PostgreSQL server, migrated here): the relays of other test
 * files would otherwise take these rows and send them to the run's shared mail simulator.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createMailRelay, type MailRelay } from '../../api/auth/mail-outbox';
import { VERIFICATION_TOKEN } from '../../api/auth/signup-requests';
import { connectDatabase, migrateDatabase, type Database } from '../../db/client';
import { createMailSimulator, type MailRunningServer, type MailSimulator } from '../../simulators/mail/server';
import { eventually } from '../support/system';
import { connectTestEnv } from '../support/temporal';
import { signupBody, testConfig, uniqueEmail } from './harness';

let admin: Database;
let database: Database;
let databaseName: string;
let env: TestWorkflowEnvironment;
let provider: MailSimulator;
let providerServer: MailRunningServer;

beforeAll(async () => {
  const url = new URL(process.env.DATABASE_URL!);
  admin = connectDatabase(url.toString(), { max: 1 });
  databaseName = `mail_outbox_${process.pid}_${Date.now()}`;
  await admin.sql.unsafe(`create database ${databaseName}`);
  url.pathname = `/${databaseName}`;
  await migrateDatabase(url.toString());
  database = connectDatabase(url.toString(), { max: 5 });
  env = await connectTestEnv();
  provider = createMailSimulator();
  providerServer = await provider.start(0);
});
afterAll(async () => {
  await providerServer?.close();
  await database?.close();
  await env?.teardown();
  await admin?.sql.unsafe(`drop database if exists ${databaseName} with (force)`);
  await admin?.close();
});

afterEach(() => {
  Object.assign(provider.faults, { outageUntil: null, failureRate: 0, latencyMs: 0 });
});

function relayFor(options: Partial<Parameters<typeof createMailRelay>[0]> = {}): MailRelay {
  return createMailRelay({ database, mailUrl: providerServer.url, log: pino({ level: 'silent' }), pollMs: 50, ...options });
}

const app = () =>
  createApp({ config: testConfig({ API_PUBLIC_URL: 'https://api.closetflow.example' }), database, temporal: env.client, logger: pino({ level: 'silent' }) });

// Timestamps come back as text through drizzle's postgres-js client.
interface OutboxRow {
  id: string;
  body: string | null;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
  failed_at: string | null;
  provider_message_id: string | null;
}
const outboxOf = async (email: string): Promise<OutboxRow> => {
  const [row] = await database.sql<
    OutboxRow[]
  >`select id, body, attempts, last_error, sent_at, failed_at, provider_message_id from auth.mail_outbox where recipient = ${email}`;
  return row;
};
const delivered = (email: string) => provider.messages.filter((m) => m.to === email);

describe('the mail outbox', () => {
  it('answers signup at once while the mail provider is down, and sends the e-mail once it is back', async () => {
    // Down, and slow to say so: neither reaches the member's request.
    Object.assign(provider.faults, { outageUntil: '2999-01-01T00:00:00Z', latencyMs: 300 });
    const running = relayFor().run();
    try {
      const body = signupBody();
      const started = Date.now();
      const res = await request(app()).post('/v1/auth/signup').send(body).expect(202);
      expect(res.body.status).toBe('verification-sent');
      expect(Date.now() - started).toBeLessThan(2000);

      const failing = await eventually(
        async () => {
          const row = await outboxOf(body.email as string);
          return row.attempts >= 2 ? row : undefined;
        },
        15_000,
        'two attempts during the outage',
      );
      expect(failing).toMatchObject({ sent_at: null, failed_at: null, last_error: expect.stringContaining('outage') });
      expect(failing.body).toMatch(VERIFICATION_TOKEN);
      expect(delivered(body.email as string)).toHaveLength(0);

      Object.assign(provider.faults, { outageUntil: null, latencyMs: 0 });
      const sent = await eventually(
        async () => {
          const row = await outboxOf(body.email as string);
          return row.sent_at ? row : undefined;
        },
        15_000,
        'the e-mail sent after the outage',
      );
      expect(sent.body).toBeNull();
      const [mail] = delivered(body.email as string);
      expect(delivered(body.email as string)).toHaveLength(1);
      expect(mail).toMatchObject({ idempotencyKey: sent.id, messageId: sent.provider_message_id, tag: 'verify-email' });
      expect(mail.text).toMatch(VERIFICATION_TOKEN);
      expect(mail.text).toContain('https://api.closetflow.example/v1/auth/verify');
    } finally {
      await running.stop();
    }
  });

  it('retries a send whose answer was lost under the same Idempotency-Key: the provider delivers it once', async () => {
    // The provider takes the message but answers after the relay gave up waiting.
    provider.faults.latencyMs = 400;
    const relay = relayFor({ sendTimeoutMs: 100 });
    const body = signupBody();
    await request(app()).post('/v1/auth/signup').send(body).expect(202);
    expect(await relay.sweep()).toBe(0);
    const row = await outboxOf(body.email as string);
    expect(row).toMatchObject({ attempts: 1, sent_at: null });
    await eventually(async () => (delivered(body.email as string).length === 1 ? true : undefined), 5000, 'the provider took it');

    provider.faults.latencyMs = 0;
    await database.sql`update auth.mail_outbox set next_attempt_at = now() where id = ${row.id}`;
    expect(await relay.sweep()).toBe(1);
    expect(delivered(body.email as string)).toHaveLength(1);
    expect(provider.requestsByKey.get(row.id)).toBe(2);
    expect(await outboxOf(body.email as string)).toMatchObject({ attempts: 2, body: null, sent_at: expect.any(String) });
  });

  it('gives up at once on a message the provider refuses for good (4xx), and scrubs it', async () => {
    const relay = relayFor();
    const id = `m_refused_${Date.now()}`;
    await database.sql`insert into auth.mail_outbox (id, recipient, template, subject, body, expires_at)
      values (${id}, 'not an address', 'verify-email', 'Confirm', 'token vt_x', now() + interval '1 hour')`;
    await relay.sweep();
    const [row] = await database.sql<
      OutboxRow[]
    >`select id, body, attempts, last_error, sent_at, failed_at, provider_message_id from auth.mail_outbox where id = ${id}`;
    expect(row).toMatchObject({ attempts: 1, body: null, sent_at: null, failed_at: expect.any(String), last_error: expect.stringContaining('400') });
    await relay.sweep();
    expect(provider.requestsByKey.get(id)).toBe(1);
  });

  it('prune scrubs e-mails that expired unsent, and deletes old e-mails and signup requests', async () => {
    const relay = relayFor();
    const [dead, old] = [uniqueEmail('dead'), uniqueEmail('old')];
    await database.sql`insert into auth.mail_outbox (id, recipient, template, subject, body, created_at, expires_at) values
      (${`m_dead_${Date.now()}`}, ${dead}, 'verify-email', 'Confirm', 'token', now() - interval '2 days', now() - interval '1 day'),
      (${`m_old_${Date.now()}`}, ${old}, 'verify-email', 'Confirm', null, now() - interval '9 days', now() - interval '8 days')`;
    await database.sql`insert into auth.signup_requests (id, token_hash, email, password_hash, name, size, preferred_categories, address, card_token, expires_at) values
      (${`sr_old_${Date.now()}`}, ${`hash-${Date.now()}`}, ${old}, 'scrypt$x', 'Old', 'M', '["dress"]', '{}', 'tok_visa', now() - interval '2 days')`;
    expect(await relay.prune()).toBeGreaterThanOrEqual(2);
    expect(await outboxOf(dead)).toMatchObject({ body: null, sent_at: null });
    expect(await database.sql`select 1 from auth.mail_outbox where recipient = ${old}`).toHaveLength(0);
    expect(await database.sql`select 1 from auth.signup_requests where email = ${old}`).toHaveLength(0);
  });
});
