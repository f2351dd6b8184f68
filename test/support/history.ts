/** Reading workflow histories in tests. */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity type a local activity's marker records (core writes it as JSON in the marker's `data`). */
export function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const payload = marker.details?.data?.payloads?.[0]?.data;
  if (!payload) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

/** How many times an activity of `type` ran to completion in a history, remote or local. */
export function activityCalls(events: HistoryEvent[], type: string): number {
  return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type || localActivityType(e) === type).length;
}
