/** The throughput baseline: the smallest useful workflow, one no-op activity. */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './worker';

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30 seconds' });

/** One activity and done: what a box's cost is measured in (bench/pipeline.ts). */
export async function baselineWorkflow(): Promise<void> {
  await noop();
}
