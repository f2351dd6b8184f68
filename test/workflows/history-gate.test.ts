/**
 * The replay gate: every stored history of every supported release (test/histories/, recorded by
 * `npm run histories:record`) replays against today's workflow bundle. A change to workflow code
 * that would break a running workflow of an older build — a reordered, added or removed command
 * without a patch — fails here, in CI, naming the workflow type, the stored file and the event
 * where replay diverged, instead of failing in production as a stuck workflow task.
 */
import { bundleWorkflowCode, DefaultLogger, Worker, type ReplayResult } from '@temporalio/worker';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundledWorkflows } from '../../workers/workflow-bundle';
import { HISTORIES_DIR, historyShape, loadStoredHistory, readManifest, supportedReleases, type StoredHistory } from '../support/stored-histories';
import { workflowBundle } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where replay diverged, for the report: core names the recorded event's activity, timer or child
 * that the new command does not match; this finds that event in the stored history.
 */
function divergedAt(release: string, entry: StoredHistory, message: string): string | undefined {
  const named = message.match(/(?:scheduled event|event) '([^']+)'/)?.[1];
  if (!named) return undefined;
  const events = (JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, release, entry.file), 'utf8')) as { events: Record<string, unknown>[] }).events;
  const event = events.find((e) => historyShape({ events: [e] }).steps.some((step) => step.endsWith(`:${named}`)));
  return event ? `event ${String(event.eventId)} (${String(event.eventType).replace(/^EVENT_TYPE_/, '')} ${named})` : undefined;
}

/** Replays `entries` of `release` on a bundle; answers one line per history that did not replay. */
async function replayFailures(bundle: { code: string } | { codePath: string }, release: string, entries: StoredHistory[]): Promise<string[]> {
  const byId = new Map(entries.map((e) => [`${release}/${e.file}`, e]));
  const failures: string[] = [];
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: `gate-${release}` },
    entries.map((e) => loadStoredHistory(release, e)),
  );
  for await (const result of results as AsyncIterable<ReplayResult>) {
    if (!result.error) continue;
    const entry = byId.get(result.workflowId);
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    const at = entry ? divergedAt(release, entry, message) : undefined;
    failures.push(
      `${entry?.workflowType ?? '?'} (test/histories/${result.workflowId}, ${entry?.events ?? '?'} events${at ? `, diverged at ${at}` : ''}): ${message}`,
    );
  }
  return failures;
}

describe('the replay gate', () => {
  const releases = supportedReleases();

  it('has stored histories for at least one supported release, and one for every workflow type of the newest', () => {
    expect(releases.length).toBeGreaterThan(0);
    const newest = readManifest(releases.at(-1)!);
    const stored = new Set(newest.histories.map((h) => h.workflowType));
    expect(
      bundledWorkflows()
        .map((w) => w.workflowType)
        .filter((type) => !stored.has(type)),
    ).toEqual([]);
  });

  it.each(releases)(
    'replays every stored history of %s against today’s bundle',
    async (release) => {
      const manifest = readManifest(release);
      expect(manifest.histories.length).toBeGreaterThan(0);
      expect(await replayFailures(workflowBundle(), release, manifest.histories)).toEqual([]);
    },
    300_000,
  );

  it('catches an incompatible change: two activity calls of restockWorkflow swapped in a test-only copy', async () => {
    const release = releases.at(-1)!;
    // The stored restocks that received an item back: the swapped calls are on their path.
    const restocks = readManifest(release).histories.filter(
      (h) =>
        h.workflowType === 'restockWorkflow' &&
        historyShape(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, release, h.file), 'utf8'))).steps.includes(
          'ACTIVITY_TASK_SCHEDULED:receiveReturnedItems',
        ),
    );
    expect(restocks.length).toBeGreaterThan(0);

    // A copy of workflows/ inside the project (its imports resolve; the bundler compiles TypeScript outside node_modules only), with one change.
    const copy = path.join(ROOT, '.data', `gate-mutant-${process.pid}`);
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, 'workflows'), path.join(copy, 'workflows'), { recursive: true });
    try {
      const file = path.join(copy, 'workflows', 'inventory', 'restock.ts');
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      const receive = lines.findIndex((l) => l.includes('inventory.receiveReturnedItems'));
      const clean = lines.findIndex((l) => l.includes('inventory.startCleaning'));
      expect([receive, clean].every((i) => i >= 0)).toBe(true);
      [lines[receive], lines[clean]] = [lines[clean]!, lines[receive]!];
      fs.writeFileSync(file, lines.join('\n'));
      const entry = path.join(copy, 'entry.js');
      fs.writeFileSync(entry, "export * from './workflows/inventory';\n");
      const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('WARN') });

      const failures = await replayFailures({ code }, release, restocks);
      expect(failures).toHaveLength(restocks.length);
      for (const failure of failures)
        expect(failure).toMatch(
          /^restockWorkflow \(test\/histories\/.+, diverged at event \d+ \(ACTIVITY_TASK_SCHEDULED receiveReturnedItems\)\): .*[Nn]ondetermin/,
        );
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);
});
