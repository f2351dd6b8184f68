/**
 * The baseline's worker, a process of its own like every domain worker (and at the same CPU
 * niceness), so the baseline measures the same Temporal under the same conditions:
 *
 *   tsx bench/baseline/worker.ts --address 127.0.0.1:7233 --task-queue bench-baseline
 *
 * Prints `ready` once it polls; runs until SIGINT/SIGTERM.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { parseArgs } from 'node:util';

/** The baseline workflow's only activity. */
export interface BaselineActivities {
  noop(): Promise<void>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { address: { type: 'string' }, 'task-queue': { type: 'string', default: 'bench-baseline' } } });
  const connection = await NativeConnection.connect({ address: values.address! });
  const activities: BaselineActivities = { noop: async () => undefined };
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: values['task-queue']!,
    workflowsPath: require.resolve('./workflows'),
    activities,
  });
  const stop = (): void => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
  await connection.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
}
