/**
 * Runs the mail simulator as its own process: `tsx simulators/mail/main.ts`.
 * Settings come from MAIL_* environment variables (see envSchema); logs are JSON lines.
 */
import pino from 'pino';
import { z } from 'zod';
import { createMailSimulator } from './server';
import { closeOnSignals } from '../shared';

export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAIL_PORT: z.coerce.number().int().min(0).max(65535).default(4030),
  MAIL_HOST: z.string().default('0.0.0.0'),
  MAIL_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  MAIL_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  MAIL_OUTAGE_UNTIL: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time')
    .transform((s) => new Date(s).toISOString())
    .optional(),
  MAIL_SEED: z.string().default('1'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  const log = pino({ level: parsed.success ? parsed.data.LOG_LEVEL : 'info' }).child({ domain: 'mail-simulator' });
  if (!parsed.success) {
    log.fatal({ issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'invalid configuration');
    process.exit(1);
  }
  const env = parsed.data;
  const simulator = createMailSimulator({
    seed: /^\d+$/.test(env.MAIL_SEED) ? Number(env.MAIL_SEED) : env.MAIL_SEED,
    logger: log,
    faults: { failureRate: env.MAIL_FAILURE_RATE, latencyMs: env.MAIL_LATENCY_MS, outageUntil: env.MAIL_OUTAGE_UNTIL ?? null },
  });
  const server = await simulator.start(env.MAIL_PORT, env.MAIL_HOST);
  log.info({ url: server.url, faults: simulator.faults }, 'mail simulator ready');

  closeOnSignals(server, log);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    pino().child({ domain: 'mail-simulator' }).fatal({ err }, 'mail simulator failed to start');
    process.exit(1);
  });
}
