/**
 * Records workflow histories for the replay gate (test/workflows/history-gate.test.ts). Only
 * active when CLOSETFLOW_RECORD_HISTORIES names a folder (`npm run histories:record` sets it):
 * then every Temporal server a test run used — the shared dev server at global teardown, each
 * time-skipping server before its own teardown — has every execution's history written there as
 * `<workflowType>/<workflowId>@<runId>.json`, in the JSON the Temporal CLI and Web UI export.
 * scripts/record-histories.ts then picks the ones to keep.
 */
import type { Client } from '@temporalio/client';
import Long from 'long';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJson } from './stored-histories';

/** The folder raw histories are written to, when recording. */
export const recordingDir = (): string | undefined => process.env.CLOSETFLOW_RECORD_HISTORIES || undefined;

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9_.:-]/g, '_');

/**
 * Every execution of the namespace. The time-skipping test server has no visibility queries
 * (`ListWorkflowExecutions`), only the older open/closed listings, so those are the fallback.
 */
async function* listExecutions(client: Client): AsyncIterable<{ workflowId: string; runId: string; type: string }> {
  try {
    for await (const e of client.workflow.list()) yield { workflowId: e.workflowId, runId: e.runId, type: e.type };
    return;
  } catch {
    // fall through to the older listings
  }
  const namespace = client.options.namespace;
  const startTimeFilter = {
    earliestTime: { seconds: Long.fromNumber(0) },
    latestTime: { seconds: Long.fromNumber(Math.floor(Date.now() / 1000) + 10 * 365 * 86_400) },
  };
  for (const list of [
    async (nextPageToken?: Uint8Array) => {
      const page = await client.workflowService.listOpenWorkflowExecutions({ namespace, startTimeFilter, nextPageToken, maximumPageSize: 1000 });
      return { executions: page.executions, nextPageToken: page.nextPageToken };
    },
    async (nextPageToken?: Uint8Array) => {
      const page = await client.workflowService.listClosedWorkflowExecutions({ namespace, startTimeFilter, nextPageToken, maximumPageSize: 1000 });
      return { executions: page.executions, nextPageToken: page.nextPageToken };
    },
  ]) {
    let token: Uint8Array | undefined;
    do {
      const page = await list(token);
      for (const e of page.executions ?? []) yield { workflowId: e.execution!.workflowId!, runId: e.execution!.runId!, type: e.type!.name! };
      token = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (token);
  }
}

/** Writes the history of every execution `client` can list (all runs, open or closed) into the recording folder. */
export async function recordAllHistories(client: Client, source: string): Promise<number> {
  const dir = recordingDir();
  if (!dir) return 0;
  let written = 0;
  for await (const execution of listExecutions(client)) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const folder = path.join(dir, fileSafe(execution.type));
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `${fileSafe(execution.workflowId)}@${execution.runId}.json`);
    // Which suite drove it travels beside the history, for the manifest.
    fs.writeFileSync(file, historyToJson(history));
    fs.writeFileSync(`${file}.source`, source);
    written++;
  }
  return written;
}
