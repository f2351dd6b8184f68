/**
 * Runs the PSP simulator as its own process: `tsx simulators/psp/main.ts`.
 * Settings come from PSP_* environment variables (see envSchema); logs are JSON lines.
 */
import pino from 'pino';
import { z } from 'zod';
import { createPspSimulator } from './server';
import { closeOnSignals } from '../shared';

export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PSP_PORT: z.coerce.number().int().min(0).max(65535).default(4020),
  PSP_HOST: z.string().default('0.0.0.0'),
  PSP_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  PSP_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  PSP_OUTAGE_UNTIL: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time')
    .transform((s) => new Date(s).toISOString())
    .optional(),
  /** Chance a charge or refund is refused for good (400, stored under its key). */
  PSP_REFUSE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** Chance a call takes effect and its answer is lost (the caller's outcome is in doubt). */
  PSP_LOST_ANSWER_RATE: z.coerce.number().min(0).max(1).default(0),
  /** Every answer is held this long after the call took effect. */
  PSP_ANSWER_DELAY_MS: z.coerce.number().int().min(0).default(0),
  PSP_SEED: z.string().default('1'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  const log = pino({ level: parsed.success ? parsed.data.LOG_LEVEL : 'info' }).child({ domain: 'psp-simulator' });
  if (!parsed.success) {
    log.fatal({ issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'invalid configuration');
    process.exit(1);
  }
  const env = parsed.data;
  const simulator = createPspSimulator({
    seed: /^\d+$/.test(env.PSP_SEED) ? Number(env.PSP_SEED) : env.PSP_SEED,
    logger: log,
    faults: {
      failureRate: env.PSP_FAILURE_RATE,
      latencyMs: env.PSP_LATENCY_MS,
      outageUntil: env.PSP_OUTAGE_UNTIL ?? null,
      refuseRate: env.PSP_REFUSE_RATE,
      lostAnswerRate: env.PSP_LOST_ANSWER_RATE,
      answerDelayMs: env.PSP_ANSWER_DELAY_MS,
    },
  });
  const server = await simulator.start(env.PSP_PORT, env.PSP_HOST);
  log.info({ url: server.url, faults: simulator.faults }, 'psp simulator ready');

  closeOnSignals(server, log);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    pino().child({ domain: 'psp-simulator' }).fatal({ err }, 'psp simulator failed to start');
    process.exit(1);
  });
}
