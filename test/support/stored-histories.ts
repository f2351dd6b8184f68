/**
 * The stored histories of past releases (test/histories/<release>/, written by
 * `npm run histories:record`): their manifest, loading them for `Worker.runReplayHistories`, and
 * the "shape" of a history the recorder picks by.
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The SDK's historyToJSON / historyFromJSON fail in this install ("type must be a Type"):
 * @temporalio/common's protojson comes from its own protobufjs 8 while the History type is built
 * by @temporalio/proto's protobufjs 7. So the same canonical proto3 JSON (what the Temporal CLI
 * and Web UI export) is made here with protobufjs 8 over a copy of the schema, converting through
 * the binary encoding, which both versions share exactly.
 */
const commonDir = require.resolve('@temporalio/common');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pb8 = require(require.resolve('protobufjs', { paths: [commonDir] })) as { Root: { fromJSON(json: unknown): { lookupType(name: string): Pb8Type } } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [commonDir] })) as {
  toJson(type: Pb8Type, message: unknown): unknown;
  fromJson(type: Pb8Type, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
interface Pb8Type {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
const History7 = proto.temporal.api.history.v1.History;
const History8 = pb8.Root.fromJSON((patchProtobufRoot(proto) as unknown as { toJSON(): unknown }).toJSON()).lookupType('temporal.api.history.v1.History');

/** A history as the Temporal CLI's JSON export (`temporal workflow show --output json`). */
export function historyToJson(history: History): string {
  return `${JSON.stringify(protojson.toJson(History8, History8.decode(History7.encode(history).finish())), null, 1)}\n`;
}

/** A history from that JSON (unknown fields, e.g. of a newer server, are ignored). */
export function historyFromJson(json: unknown): History {
  return History7.decode(History8.encode(protojson.fromJson(History8, json, { ignoreUnknownFields: true })).finish());
}

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'histories');

/** One stored history, as the manifest lists it. */
export interface StoredHistory {
  /** Path under the release's folder: `<workflowType>/NN.json`. */
  file: string;
  workflowType: string;
  workflowId: string;
  events: number;
  bytes: number;
  /** The history's last event (a closed run), or `open` for a run still going when it was recorded. */
  closedBy: string;
  /** The suite whose scenario produced it. */
  source: string;
}

export interface HistoryManifest {
  release: string;
  recordedAt: string;
  suites: string[];
  histories: StoredHistory[];
}

/** The releases whose histories today's code must still replay (test/histories/releases.json). */
export function supportedReleases(): string[] {
  const file = path.join(HISTORIES_DIR, 'releases.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { supported: string[] }).supported : [];
}

export function readManifest(release: string): HistoryManifest {
  return JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, release, 'manifest.json'), 'utf8')) as HistoryManifest;
}

/** A stored history, ready for `Worker.runReplayHistories`. */
export function loadStoredHistory(release: string, entry: StoredHistory): { workflowId: string; history: History } {
  return {
    workflowId: `${release}/${entry.file}`,
    history: historyFromJson(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, release, entry.file), 'utf8'))),
  };
}

type JsonEvent = Record<string, unknown> & { eventType?: string };

const LAST_EVENTS = new Set([
  'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
  'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT',
]);

const name = (value: unknown, ...keys: string[]): string | undefined => {
  let v: unknown = value;
  for (const k of keys) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : undefined;
};

/** The local activity type core records in a marker's details (base64 JSON in the JSON export). */
function localActivityType(event: JsonEvent): string | undefined {
  const payloads = (event.markerRecordedEventAttributes as { details?: { data?: { payloads?: { data?: string }[] } } } | undefined)?.details?.data?.payloads;
  const encoded = payloads?.[0]?.data;
  if (!encoded) return undefined;
  try {
    return (JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

/**
 * What a history exercises: one step per kind of command or input it holds (an activity by type,
 * a local activity by type, a child by workflow type, a signal or update by name, a timer, how it
 * ended). Two histories of the same steps test the same code paths for the replay gate.
 */
export function historyShape(json: unknown): { steps: string[]; events: number; closedBy: string } {
  const events = ((json as { events?: JsonEvent[] }).events ?? []) as JsonEvent[];
  const steps = new Set<string>();
  for (const e of events) {
    const type = (e.eventType ?? '').replace(/^EVENT_TYPE_/, '');
    const detail =
      name(e, 'activityTaskScheduledEventAttributes', 'activityType', 'name') ??
      localActivityType(e) ??
      name(e, 'startChildWorkflowExecutionInitiatedEventAttributes', 'workflowType', 'name') ??
      name(e, 'workflowExecutionSignaledEventAttributes', 'signalName') ??
      name(e, 'signalExternalWorkflowExecutionInitiatedEventAttributes', 'signalName') ??
      name(e, 'workflowExecutionUpdateAcceptedEventAttributes', 'acceptedRequest', 'input', 'name');
    steps.add(detail ? `${type}:${detail}` : type);
  }
  const last = (events.at(-1)?.eventType ?? '').toString();
  return {
    steps: [...steps].sort(),
    events: events.length,
    closedBy: LAST_EVENTS.has(last) ? last.replace(/^EVENT_TYPE_WORKFLOW_EXECUTION_/, '').toLowerCase() : 'open',
  };
}
