/**
 * Runs the WMS simulator as its own process: `tsx simulators/wms/main.ts`.
 * Settings come from WMS_* environment variables (see envSchema); logs are JSON lines. It refuses
 * to start without WMS_WEBHOOK_SECRET (or with the former public default): its callbacks would
 * be signed with a secret anyone can read (`npm start` generates one).
 */
import pino from 'pino';
import { z } from 'zod';
import { requireWmsWebhookSecret } from '../../config/secrets';
import { createWmsSimulator } from './server';
import { closeOnSignals } from '../shared';

const rate = z.coerce.number().min(0).max(1);

export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WMS_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  WMS_HOST: z.string().default('0.0.0.0'),
  WMS_WEBHOOK_SECRET: z.string().min(16, 'WMS_WEBHOOK_SECRET must be at least 16 characters').optional(),
  WMS_CALLBACK_URL: z.string().url().default('http://127.0.0.1:3000/v1/webhooks/wms'),
  WMS_STEP_MS: z.coerce.number().int().min(0).default(2000),
  WMS_FAILURE_RATE: rate.default(0),
  WMS_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  WMS_OUTAGE_UNTIL: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time')
    .transform((s) => new Date(s).toISOString())
    .optional(),
  WMS_REJECT_ADDRESS_PATTERN: z.string().default('REJECT'),
  WMS_DUPLICATE_RATE: rate.default(0),
  WMS_OUT_OF_ORDER_RATE: rate.default(0),
  /** Chance a call takes effect and its answer is lost (the caller's outcome is in doubt). */
  WMS_LOST_ANSWER_RATE: rate.default(0),
  /** Every answer is held this long after the call took effect. */
  WMS_ANSWER_DELAY_MS: z.coerce.number().int().min(0).default(0),
  WMS_SEED: z.string().default('1'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  const log = pino({ level: parsed.success ? parsed.data.LOG_LEVEL : 'info' }).child({ domain: 'wms-simulator' });
  if (!parsed.success) {
    log.fatal({ issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'invalid configuration');
    process.exit(1);
  }
  const env = parsed.data;
  let webhookSecret: string;
  try {
    webhookSecret = requireWmsWebhookSecret(env.WMS_WEBHOOK_SECRET);
  } catch (err) {
    log.fatal({ issues: [(err as Error).message] }, 'invalid configuration');
    process.exit(1);
  }
  const seed = /^\d+$/.test(env.WMS_SEED) ? Number(env.WMS_SEED) : env.WMS_SEED;

  const simulator = createWmsSimulator({
    callbackUrl: env.WMS_CALLBACK_URL,
    webhookSecret,
    seed,
    logger: log,
    faults: {
      stepMs: env.WMS_STEP_MS,
      failureRate: env.WMS_FAILURE_RATE,
      latencyMs: env.WMS_LATENCY_MS,
      outageUntil: env.WMS_OUTAGE_UNTIL ?? null,
      rejectAddressPattern: env.WMS_REJECT_ADDRESS_PATTERN,
      duplicateRate: env.WMS_DUPLICATE_RATE,
      outOfOrderRate: env.WMS_OUT_OF_ORDER_RATE,
      lostAnswerRate: env.WMS_LOST_ANSWER_RATE,
      answerDelayMs: env.WMS_ANSWER_DELAY_MS,
    },
  });
  const server = await simulator.start(env.WMS_PORT, env.WMS_HOST);
  log.info({ url: server.url, callbackUrl: env.WMS_CALLBACK_URL, faults: simulator.faults }, 'wms simulator ready');

  closeOnSignals(server, log);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    pino().child({ domain: 'wms-simulator' }).fatal({ err }, 'wms simulator failed to start');
    process.exit(1);
  });
}
