/**
 * One domain's worker process: `npm run worker -- --domain <name>`. SIGINT/SIGTERM drain the
 * worker (in-flight tasks finish) before the process exits.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { temporalConnectionOptions } from '../config/temporal';
import { connectDatabase } from '../db/client';
import { ensureMonthlyCloseSchedule } from '../activities/accounting/schedule';
import { createDomainWorker } from './create-worker';
import { DOMAIN_WORKER_NAMES, type DomainWorkerName } from './domains';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { domain: { type: 'string' } } });
  const domain = (values.domain ?? process.env.WORKER_DOMAIN) as DomainWorkerName | undefined;
  if (!domain || !DOMAIN_WORKER_NAMES.includes(domain)) {
    throw new Error(`--domain must be one of: ${DOMAIN_WORKER_NAMES.join(', ')} (got ${domain ?? 'nothing'})`);
  }
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required for a worker');
  const logger = createLogger(domain, config.LOG_LEVEL);

  // Route the SDK's own logs (including workflow and activity loggers) to the domain's JSON log.
  Runtime.install({
    logger: new DefaultLogger(toSdkLevel(config.LOG_LEVEL), (entry) => {
      const level = entry.level === 'TRACE' ? 'trace' : entry.level === 'DEBUG' ? 'debug' : entry.level === 'WARN' ? 'warn' : entry.level === 'ERROR' ? 'error' : 'info';
      logger[level]({ ...entry.meta }, entry.message);
    }),
  });

  const database = connectDatabase(config.DATABASE_URL, { max: 5 });
  const connectionOptions = temporalConnectionOptions(config);
  const connection = await NativeConnection.connect(connectionOptions);
  const client = new Client({ connection: await Connection.connect(connectionOptions), namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createDomainWorker({
    domain,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    config,
    database,
    client,
    workflowBundlePath: process.env.CLOSETFLOW_WORKFLOW_BUNDLE,
  });
  if (domain === 'accounting') logger.info({ schedule: await ensureMonthlyCloseSchedule(client) }, 'accounting-monthly-close schedule ensured');
  logger.info({ taskQueue: worker.options.taskQueue }, 'worker started');
  await worker.run();
  logger.info('worker stopped');
  await connection.close();
  await client.connection.close();
  await database.close();
}

function toSdkLevel(level: string): LogLevel {
  const upper = level.toUpperCase();
  return (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(upper) ? upper : 'ERROR') as LogLevel;
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 50, msg: 'worker failed', err: String((err as Error)?.stack ?? err) })}\n`);
  process.exit(1);
});
