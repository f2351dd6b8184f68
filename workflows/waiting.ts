/**
 * Waiting on another domain, visibly and with a bound. A workflow that waits for someone else's
 * outcome (a payment, a box's fate) says so in the Web UI's "current details"; when the wait
 * passes the time the outcome was due, it is reported stalled — a warning in the logs, in the
 * details and through `onStall` in the workflow's own query — and goes on waiting: only the awaited
 * fact ends it, never a guess about what the other domain did.
 */
import type { Duration } from '@temporalio/common';
import { condition, log, setCurrentDetails } from '@temporalio/workflow';

export interface WaitVisiblyOptions {
  /** What is awaited, for people: "the payment outcome of membership:c_1:2026-12". */
  what: string;
  /** When it is overdue: past this, the wait is reported stalled. */
  bound: Duration;
  /** Called once when the bound passes (e.g. to put a `stalled` note in the workflow's query state). */
  onStall?: (note: string) => void;
}

/** Waits until `done()` is true; see the module comment. */
export async function waitVisibly(done: () => boolean, { what, bound, onStall }: WaitVisiblyOptions): Promise<void> {
  if (done()) return;
  const since = new Date().toISOString();
  setCurrentDetails(`Waiting since ${since} for ${what}.`);
  if (!(await condition(done, bound))) {
    const note = `stalled: waiting since ${since} for ${what}, due within ${String(bound)}`;
    log.warn('a wait passed its bound', { what, since, bound: String(bound) });
    setCurrentDetails(`**Stalled.** Waiting since ${since} for ${what}, due within ${String(bound)}. See docs/operations.md, "A workflow is stalled".`);
    onStall?.(note);
    await condition(done);
  }
  setCurrentDetails('');
}
