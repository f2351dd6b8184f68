/**
 * The one place that reads process.env. Every setting is validated once at start; a bad value
 * stops the process with a message naming the variable, instead of failing later in a worker.
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const ms = z.coerce.number().int().min(0);

/** Every environment variable closetflow reads, with its default. docker-compose.yml uses these names. */
export const configSchema = z.object({
  DATA_DIR: z.string().default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Set it to use an existing Temporal (self-hosted or Cloud); unset, `npm start` runs a dev server. */
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  /** Port of the dev server `npm start` runs when TEMPORAL_ADDRESS is unset. */
  EMBEDDED_TEMPORAL_PORT: port.default(7233),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  /**
   * `npm run start:cluster`: the first of the Temporal server's eight internal ports (base + 1 to
   * base + 8). The server keeps membership ports in a smallint, so they stay below 32 768.
   */
  TEMPORAL_CLUSTER_PORT_BASE: z.coerce.number().int().min(1024).max(32_759).default(17_300),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: z.string().default('http://localhost:8233'),

  DATABASE_URL: z.string().url().optional(),
  EMBEDDED_PG_PORT: port.default(5433),

  API_PORT: port.default(3000),
  API_PUBLIC_URL: z.string().default('http://localhost:3000'),
  /** The API proxy's upstreams (scripts/api-proxy.ts as a program, docker-compose's `api-proxy`): `host:port,...`. */
  API_PROXY_UPSTREAMS: z.string().default(''),
  /** The API's Prometheus `/metrics` listener, apart from the public port (0 = none). */
  API_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9463),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  /** Lifetime of an access token (short: a stolen one is useful briefly; clients refresh). */
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
  /** Lifetime of a refresh token (a login session); every refresh rotates it. */
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .default(30 * 24 * 3600),
  /**
   * Failed logins allowed per (account, client IP) pair, and per client IP, within
   * LOGIN_LOCKOUT_SECONDS before 429. Per pair, not per account: someone failing with a member's
   * email from their own address locks out only themselves, never the member.
   */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: z.coerce.number().int().min(1).default(5),
  /** Former name of LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP (it counted per account alone), read when that is unset. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).optional(),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(20),
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(900),
  /** Requests allowed per client IP, and per authenticated member, in each RATE_LIMIT_WINDOW_SECONDS (shared by every API process: PostgreSQL). */
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  /**
   * The budget the rate limits and login throttles count against: every API process with the same
   * value shares one (they are one deployment); another value is another deployment's.
   */
  RATE_LIMIT_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('closetflow'),
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_PER_CUSTOMER: z.coerce.number().int().min(1).default(300),
  /** Comma-separated origins browsers may call the API from (exact match, e.g. `https://app.example.com`); empty: none. */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin such as https://app.example.com'))),
  /** Express `trust proxy`: `false` (default, direct clients), a hop count, or comma-separated proxy addresses/subnets (`loopback`, `10.0.0.0/8`). */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string[] =>
      v === 'false'
        ? false
        : /^\d+$/.test(v)
          ? Number(v)
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
    ),
  /**
   * CPU niceness `npm start` gives the workers and the Temporal dev server (0 = same as the API):
   * on one machine the API answers members first and the background catches up.
   */
  BACKGROUND_NICENESS: z.coerce.number().int().min(0).max(19).default(19),
  /**
   * CPU niceness of the Temporal dev server `npm start` runs: less nice than the workers it serves.
   * Starved of CPU under load, its requests time out, and its SQLite driver was seen left failing
   * every query afterwards (`SQLITE_INTERRUPT`, "Namespace default is not found": the whole stack
   * stalls; modernc sqlite before 1.44, temporalio/temporal#9198).
   */
  TEMPORAL_DEV_NICENESS: z.coerce.number().int().min(0).max(19).default(5),
  /** How often the orders worker's relay looks for accepted orders to start besides being notified (workers/order-start-relay.ts). */
  ORDER_START_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** How long the relay keeps a started row in the order outbox (orders.workflow_starts) before deleting it. */
  ORDER_START_KEEP_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(7 * 24),
  /**
   * Backpressure (api/backpressure.ts): every LOAD_SAMPLE_INTERVAL_MS (0: off) the API reads the
   * order outbox and each domain's workflow task queue; past a limit POST /v1/orders answers 503
   * `overloaded` with Retry-After and places nothing.
   */
  LOAD_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Accepted orders waiting for their workflow to start, beyond which new orders are refused. */
  ORDER_BACKLOG_MAX_PENDING: z.coerce.number().int().min(1).default(2000),
  /** Age of the oldest accepted order not started yet, in seconds, beyond which new orders are refused. */
  ORDER_BACKLOG_MAX_AGE_SECONDS: z.coerce.number().int().min(1).default(30),
  /** Age of the oldest workflow task waiting for a worker in any domain, in seconds, beyond which new orders are refused. */
  TASK_BACKLOG_MAX_AGE_SECONDS: z.coerce.number().int().min(1).default(30),
  /** How long an Idempotency-Key is remembered (and its response replayed), in hours. */
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** First administrator, created (or its password and role updated) at API start; both or neither. */
  ADMIN_EMAIL: z.string().trim().toLowerCase().pipe(z.email()).optional(),
  ADMIN_PASSWORD: z.string().min(10).max(256).optional(),

  WMS_PORT: port.default(4010),
  WMS_URL: z.string().url().default('http://127.0.0.1:4010'),
  /**
   * HMAC secret of the WMS webhooks, shared with the WMS. No default: the API and the WMS
   * simulator refuse to start without one (config/secrets.ts); `npm start` generates one into DATA_DIR.
   */
  WMS_WEBHOOK_SECRET: z.string().min(16, 'WMS_WEBHOOK_SECRET must be at least 16 characters').optional(),
  WMS_CALLBACK_URL: z.string().url().default('http://127.0.0.1:3000/v1/webhooks/wms'),
  WMS_STEP_MS: ms.default(2000),

  /** Inventory: how long a clean returned item spends in cleaning (a Temporal duration, e.g. `1 day`; unset: 1 day). */
  INVENTORY_CLEANING_TIME: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?|d|days?)$/, 'a duration such as "1 day"')
    .optional(),
  /** Former name of INVENTORY_CLEANING_TIME (cleaning moved from returns to inventory), read when that is unset. */
  RETURNS_CLEANING_TIME: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?|d|days?)$/, 'a duration such as "1 day"')
    .optional(),

  /** The payment service provider (simulators/psp when run locally). */
  PSP_PORT: port.default(4020),
  PSP_URL: z.string().url().default('http://127.0.0.1:4020'),
  /** The mail provider the API sends verification e-mails through (simulators/mail when run locally). */
  MAIL_PORT: port.default(4030),
  MAIL_URL: z.string().url().default('http://127.0.0.1:4030'),
  /** How long a signup's verification token is valid; past it, the member signs up again. */
  SIGNUP_VERIFICATION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
  /**
   * Signup e-mails (verification or "someone tried") one address gets per window, whoever asks:
   * past it signup answers the same 202 and sends nothing, so no one can flood a stranger's inbox.
   */
  SIGNUP_MAILS_PER_ADDRESS: z.coerce.number().int().min(1).default(3),
  SIGNUP_MAIL_WINDOW_SECONDS: z.coerce.number().int().min(60).default(3600),
  /** The fee of express shipping, charged when an express box is placed (refunded if it is cancelled). */
  EXPRESS_SHIPPING_FEE_CENTS: z.coerce.number().int().min(1).default(1500),

  /** A worker's Prometheus endpoint (`/metrics`: SDK and business metrics); 0 = none. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * Workflows a worker keeps cached (sticky). Unbounded by default in the SDK on a big machine
   * (~600 per GB of heap), so 2,000 open boxes would all stay in memory; past this bound the least
   * recently used is evicted and replays from its history on its next task (a box waiting weeks
   * for its return loses nothing by it). See bench/results/pipeline.md for the memory it bounds.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(10).max(100_000).default(250),
  /**
   * Threads that run workflow code in each domain worker (the SDK's workflowThreadPoolSize, 2 by
   * default there). Each is a V8 isolate with its own copy of the workflow bundle: one thread saves
   * about 40 MB per worker (idle, 8 workers: 1621 → 1285 MB), and a worker given one core or less
   * gains nothing from a second. Raise it for a worker with cores to itself.
   */
  WORKER_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * The build a worker runs, for Worker Deployment Versioning (docs/operations.md, "Deploying new
   * workflow code"). Set, the worker polls as version `<WORKER_DEPLOYMENT_PREFIX>-<domain>:<build>`
   * and gets only the workflows pinned to its build, plus auto-upgrading ones while its build is the
   * deployment's current (or ramping) version; unset, it is an unversioned worker (tests, a single
   * box, `npm start` by default). `WORKER_BUILD_ID=<build> npm start` promotes that build in every
   * domain at start; a deployment passes its image tag (docker-compose.yml) and rolls it out with `npm run deploy`.
   */
  WORKER_BUILD_ID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a build id is 1-64 of A-Z a-z 0-9 . _ -')
      .optional(),
  ),
  /** Worker deployments are named `<prefix>-<domain>`, one per domain worker. */
  WORKER_DEPLOYMENT_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,40}$/)
    .default('closetflow'),
  /** `npm start`: the first worker's metrics port; each domain worker gets the next one (0 = none). */
  WORKER_METRICS_BASE_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** An OTLP/HTTP collector (e.g. `http://otel-collector:4318`); unset or empty, tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
});

export type Config = z.infer<typeof configSchema>;

/** Thrown when the environment holds an invalid setting; the message lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Renamed settings and their former names: the former is read when the new one is unset. */
const FORMER_NAMES = { LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: 'LOGIN_MAX_FAILURES_PER_ACCOUNT' } as const;

function withFormerNames(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved = { ...env };
  for (const [name, former] of Object.entries(FORMER_NAMES)) if (resolved[name] === undefined && env[former] !== undefined) resolved[name] = env[former];
  return resolved;
}

/** Parses and validates the environment (process.env unless given). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(withFormerNames(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR) };
}

/** Names of all settings, for checks such as "docker-compose.yml only sets known variables". */
export const configKeys = Object.keys(configSchema.shape) as (keyof Config)[];
