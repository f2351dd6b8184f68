/**
 * The month-end close Schedule (`accounting-monthly-close`): 00:30 UTC on the 1st of each month,
 * created or brought up to date idempotently at start (`npm start`, or any caller with a client).
 */
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from '../config/temporal';
import { MONTHLY_CLOSE_SCHEDULE_ID, MonthlyCloseScheduledWorkflow } from '../workflows/accounting/contract';
import type { WorkflowInputOf } from '../workflows/workflow-ref';

export const MONTHLY_CLOSE_CALENDAR = { comment: '00:30 UTC on the 1st: close the previous month', minute: 30, hour: 0, dayOfMonth: 1 } as const;

function scheduleOptions(): ScheduleOptions {
  return {
    scheduleId: MONTHLY_CLOSE_SCHEDULE_ID,
    spec: { calendars: [MONTHLY_CLOSE_CALENDAR], timezone: 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: MonthlyCloseScheduledWorkflow.workflowType,
      workflowId: 'accounting-monthly-close',
      taskQueue: MonthlyCloseScheduledWorkflow.taskQueue,
      args: [{} satisfies WorkflowInputOf<typeof MonthlyCloseScheduledWorkflow>],
      staticSummary: 'Month-end close of the previous month',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days', pauseOnFailure: false },
  };
}

/** Creates the schedule, or updates its spec and action when it already exists. */
export async function ensureMonthlyCloseSchedule(client: Client): Promise<'created' | 'updated'> {
  const options = scheduleOptions();
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(options.scheduleId)
      .update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
    return 'updated';
  }
}

/** Connects with the configured Temporal settings, ensures the schedule, and disconnects. */
export async function ensureMonthlyCloseScheduleWithConfig(config: Config): Promise<'created' | 'updated'> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    return await ensureMonthlyCloseSchedule(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }));
  } finally {
    await connection.close();
  }
}
