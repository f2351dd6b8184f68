/**
 * Helpers both outside-system simulators (WMS, PSP) share: fault-knob validation, repeatable fault
 * rolls and the request fingerprint behind their Idempotency-Key semantics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';

/** An ISO date-time (normalised) or null: an outage window's end, or no outage. */
export const isoOrNull = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time')
  .transform((s) => new Date(s).toISOString())
  .nullable();

/** zod issues as `{ path, message }` rows for a 400 body. */
export function issues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** mulberry32: small, fast, good enough for fault rolls, and repeatable. */
export function seededRandom(seed: number | string): () => number {
  let a: number;
  if (typeof seed === 'number') {
    a = seed >>> 0;
  } else {
    a = 2166136261; // FNV-1a over the string
    for (let i = 0; i < seed.length; i++) a = Math.imul(a ^ seed.charCodeAt(i), 16777619) >>> 0;
  }
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON with object keys sorted, so equal bodies compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Knobs for answers lost after their request took effect (both simulators have them). */
export interface AnswerFaults {
  /** 0..1: chance an answer is lost (the connection is dropped after the request took effect). */
  lostAnswerRate: number;
  /** The next N answers are lost (counts down): a deterministic loss for tests. */
  loseAnswers: number;
  /** Every answer is held this long after the request took effect. */
  answerDelayMs: number;
}

export const answerFaultsSchema = {
  lostAnswerRate: z.number().min(0).max(1),
  loseAnswers: z.number().int().min(0).max(1000),
  answerDelayMs: z.number().int().min(0).max(120_000),
};

/**
 * Sends an answer whose request has already taken effect, or loses it the way a network does:
 * the connection is dropped (the caller sees a reset socket) or the answer comes so late the
 * caller has given up. This is what makes an outcome *in doubt* for the caller, which is the case
 * idempotency keys and resolve-by-key exist for.
 */
export function answerOrLose(
  res: { destroy(): void; destroyed: boolean },
  faults: AnswerFaults,
  random: () => number,
  send: () => void,
  { log, what, timers }: { log: Logger; what: Record<string, unknown>; timers: Set<NodeJS.Timeout> },
): void {
  if (faults.loseAnswers > 0 || (faults.lostAnswerRate > 0 && random() < faults.lostAnswerRate)) {
    if (faults.loseAnswers > 0) faults.loseAnswers -= 1;
    log.info(what, 'fault: request applied, answer lost');
    res.destroy();
    return;
  }
  if (faults.answerDelayMs > 0) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) send();
    }, faults.answerDelayMs);
    timers.add(timer);
    return;
  }
  send();
}

/** The answer stored under an Idempotency-Key, with the fingerprint of the request that got it. */
export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
}

/** Serves `app` on host:port (0 = any free port); `close` runs `onClose` first, then drops every connection. */
export async function listen(
  app: RequestListener,
  { port, host, name, log, onClose }: { port: number; host: string; name: string; log: Logger; onClose: () => void },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${address.port}`;
  log.info({ url }, `${name} listening`);
  return {
    url,
    close: async () => {
      onClose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** SIGINT/SIGTERM close the server once, then exit 0 (1 if closing failed). */
export function closeOnSignals(server: { close: () => Promise<void> }, log: Logger): void {
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
