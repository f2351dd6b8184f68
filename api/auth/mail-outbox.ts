/**
 * The mail relay: sends what signup queued in `auth.mail_outbox` to the mail provider
 * (`POST <MAIL_URL>/v1/messages`), in the API process, off the request's path.
 *
 * - Signup writes the row in its own statement and wakes the relay (in-process; it also polls,
 *   so rows written by another replica or before a restart go out too).
 * - The relay claims pending rows (SKIP LOCKED: replicas take different rows), posts each with the
 *   row id as the Idempotency-Key, so a retry after a lost answer is delivered once, and on
 *   success marks it sent and scrubs its body: the verification token does not stay in clear.
 * - A transient failure (provider down, 5xx, 409, 429, timeout) backs off, 1 s doubling to 60 s,
 *   until the message expires with its token; a 4xx refusal is final (failed, scrubbed).
 * - Now and then it scrubs expired unsent rows and deletes old rows and old signup requests.
 *
 * A provider outage therefore never fails or slows signup: the mail waits in the outbox. The
 * rows are read and written by store/auth/mail-outbox.ts.
 */
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { backOffMail, claimDueMail, markMailFailed, markMailSent, pruneMail, scrubExpiredMail, type ClaimedMail } from '../../store/auth/mail-outbox';
import { MAIL_IDEMPOTENCY_KEY_HEADER, type MailAccepted, type MailSendRequest } from '../../simulators/mail/contract';

/** How long a relay owns the rows it claimed before another may take them. */
const CLAIM_SECONDS = 30;

/** Sends queued e-mails (see the module comment). */
export interface MailRelay {
  /** Claims one batch of due rows and sends them; how many were sent. */
  sweep(): Promise<number>;
  /** Scrubs expired unsent rows, deletes old rows and old signup requests; how many rows it deleted. */
  prune(): Promise<number>;
  /** Makes a running relay sweep now (a row was just queued). */
  wake(): void;
  /** Sweeps until stop(), which waits for the sweep in progress; prunes now and then. */
  run(): { stop(): Promise<void> };
}

/** A refusal no retry changes (the message itself is wrong); anything else may pass later. */
const isFinalRefusal = (status: number): boolean => status >= 400 && status < 500 && ![408, 409, 425, 429].includes(status);

/** Builds the relay over the API's database pool. */
export function createMailRelay({
  database,
  mailUrl,
  log,
  batchSize = 50,
  concurrency = 4,
  pollMs = 1000,
  sendTimeoutMs = 10_000,
  keepHours = 7 * 24,
  pruneEveryMs = 10 * 60_000,
}: {
  database: Database;
  /** The provider's base URL (MAIL_URL). */
  mailUrl: string;
  log: Logger;
  batchSize?: number;
  /** Sends in flight at once. */
  concurrency?: number;
  /** Sweep at least this often (rows that backed off, rows another replica queued). */
  pollMs?: number;
  /** A send not answered by then counts as failed: the row backs off (the key makes the retry safe). */
  sendTimeoutMs?: number;
  /** Sent, failed or expired rows are kept this long (what was sent when, without the body), then deleted. */
  keepHours?: number;
  pruneEveryMs?: number;
}): MailRelay {
  const { db } = database;
  const endpoint = `${mailUrl.replace(/\/+$/, '')}/v1/messages`;
  let wakeLoop: (() => void) | undefined;
  let woken = false;

  async function backOff(row: ClaimedMail, error: string): Promise<void> {
    const backoffMs = Math.min(60_000, 1000 * 2 ** Math.max(0, row.attempts - 1));
    log.warn({ mailId: row.id, template: row.template, attempts: row.attempts, error }, 'e-mail not sent; the relay retries');
    await backOffMail(db, row.id, error, backoffMs);
  }

  async function send(row: ClaimedMail): Promise<boolean> {
    if (row.body === null) {
      await markMailFailed(db, row.id, 'no body');
      return false;
    }
    const message: MailSendRequest = { to: row.recipient, subject: row.subject, text: row.body, tag: row.template };
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [MAIL_IDEMPOTENCY_KEY_HEADER]: row.id },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(sendTimeoutMs),
      });
    } catch (err) {
      await backOff(row, String((err as Error)?.message ?? err));
      return false;
    }
    const answer = await res.text();
    if (res.ok) {
      const messageId = (JSON.parse(answer || '{}') as Partial<MailAccepted>).messageId ?? null;
      await markMailSent(db, row.id, messageId);
      log.info({ mailId: row.id, template: row.template, providerMessageId: messageId, attempts: row.attempts }, 'e-mail sent');
      return true;
    }
    if (isFinalRefusal(res.status)) {
      await markMailFailed(db, row.id, `${res.status} ${answer}`);
      log.error({ mailId: row.id, template: row.template, status: res.status, answer: answer.slice(0, 300) }, 'e-mail refused by the provider; not retried');
      return false;
    }
    await backOff(row, `${res.status} ${answer}`);
    return false;
  }

  const relay: MailRelay = {
    async sweep() {
      const claimed = await claimDueMail(db, { limit: batchSize, claimSeconds: CLAIM_SECONDS });
      let sent = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) {
            const row = claimed[next++]!;
            const ok = await send(row).catch((err: unknown) => {
              log.error({ err, mailId: row.id }, 'could not record an e-mail send; the claim expires and the relay retries');
              return false;
            });
            if (ok) sent++;
          }
        }),
      );
      return sent;
    },

    async prune() {
      const expired = await scrubExpiredMail(db);
      for (const row of expired) log.error({ mailId: row.id, template: row.template }, 'e-mail expired before the provider accepted it; given up');
      const { mails, signupRequests } = await pruneMail(db, keepHours);
      if (mails + signupRequests > 0) log.info({ mails, signupRequests }, 'pruned old e-mails and signup requests');
      return mails + signupRequests;
    },

    wake() {
      woken = true;
      wakeLoop?.();
    },

    run() {
      let stopped = false;
      let prunedAt = 0;
      const loop = (async () => {
        while (!stopped) {
          woken = false;
          let sent = 0;
          try {
            sent = await relay.sweep();
          } catch (err) {
            log.warn({ err }, 'mail sweep failed; the next one retries');
          }
          if (Date.now() - prunedAt >= pruneEveryMs) {
            prunedAt = Date.now();
            await relay.prune().catch((err: unknown) => log.warn({ err }, 'could not prune the mail outbox; the next round retries'));
          }
          if (sent >= batchSize || woken || stopped) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wakeLoop = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wakeLoop = undefined;
        }
      })();
      return {
        async stop() {
          stopped = true;
          relay.wake();
          await loop;
        },
      };
    },
  };
  return relay;
}
