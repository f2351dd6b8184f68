/**
 * `npm run histories:record [-- --release vX.Y.Z] [--max-per-type N]`: records the workflow
 * histories the replay gate (test/workflows/history-gate.test.ts) replays against every later
 * build. It runs the test suites that drive the scenarios that matter (below) with recording on
 * (test/support/history-recorder.ts), then keeps, per workflow type, the few histories that
 * together cover the most distinct steps (activities, local activities, child workflows, timers,
 * signals, updates, continue-as-new), smallest first, and writes them with a manifest under
 * test/histories/<release>/. The release is added to test/histories/releases.json, the list of
 * releases whose histories must still replay. Commit the result.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { bundledWorkflows } from '../workers/workflow-bundle';
import { historyShape, type HistoryManifest, type StoredHistory } from '../test/support/stored-histories';

const ROOT = path.resolve(__dirname, '..');

/**
 * The scenarios, by the suites that drive them: a whole box life (delivered, returned, one item
 * bought, restocked), a cancel before shipping and its races, a cancelled express box with its
 * refund, a WMS instruction in doubt and an address correction, dunning to suspension and a
 * membership across continue-as-new, a ledger across continue-as-new, the monthly close, the
 * warehouse's own receipt and shipment.
 */
const SCENARIO_SUITES = [
  'test/flows/box-story.test.ts',
  'test/flows/returns-flow.test.ts',
  'test/flows/cancel-race.test.ts',
  'test/flows/express-shipping.test.ts',
  'test/flows/wms-in-doubt.test.ts',
  'test/flows/box-flow.test.ts',
  'test/workflows/payment.test.ts',
  'test/workflows/shipment.test.ts',
  'test/accounting/ledger-workflow.test.ts',
  'test/accounting/monthly-close.test.ts',
  'test/returns/overdue.test.ts',
];

function main(): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const { values } = parseArgs({ options: { release: { type: 'string' }, 'max-per-type': { type: 'string' } } });
  const release = values.release ?? `v${pkg.version}`;
  if (!/^v\d+\.\d+\.\d+$/.test(release)) throw new Error(`--release must look like v1.2.3 (got ${release})`);
  const maxPerType = Number(values['max-per-type'] ?? 4);

  const raw = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-histories-'));
  console.log(`[histories] running ${SCENARIO_SUITES.length} scenario suites, recording into ${raw}`);
  const run = spawnSync('npx', ['jest', '--runInBand', ...SCENARIO_SUITES], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, CLOSETFLOW_RECORD_HISTORIES: raw },
  });
  // Histories of a failing run are not the shape the release has: keep none of them.
  if (run.status !== 0) throw new Error(`the scenario suites failed (exit ${run.status}): nothing recorded`);

  // Only the workflows the bundle holds: test-only workflows (baselines, test entities) are not gated.
  const shipped = new Set(bundledWorkflows().map((w) => w.workflowType));
  const out = path.join(ROOT, 'test', 'histories', release);
  fs.rmSync(out, { recursive: true, force: true });
  const manifest: HistoryManifest = { release, recordedAt: new Date().toISOString(), suites: SCENARIO_SUITES, histories: [] };

  for (const workflowType of [...shipped].sort()) {
    const folder = path.join(raw, workflowType);
    const candidates = fs.existsSync(folder)
      ? fs
          .readdirSync(folder)
          .filter((f) => f.endsWith('.json'))
          .map((f) => {
            const text = fs.readFileSync(path.join(folder, f), 'utf8');
            return { file: f, text, source: fs.readFileSync(path.join(folder, `${f}.source`), 'utf8'), shape: historyShape(JSON.parse(text)) };
          })
      : [];
    if (candidates.length === 0) throw new Error(`no scenario ran ${workflowType}: every workflow type needs a stored history`);
    // Greedy cover: each pick adds the most steps no earlier pick has; the smaller history wins a tie.
    const covered = new Set<string>();
    const picked: typeof candidates = [];
    while (picked.length < maxPerType) {
      let best: (typeof candidates)[number] | undefined;
      let bestGain = 0;
      for (const c of candidates) {
        if (picked.includes(c)) continue;
        const gain = c.shape.steps.filter((s) => !covered.has(s)).length;
        if (gain > bestGain || (gain === bestGain && gain > 0 && best && c.text.length < best.text.length)) {
          best = c;
          bestGain = gain;
        }
      }
      if (!best) break;
      picked.push(best);
      for (const s of best.shape.steps) covered.add(s);
    }
    fs.mkdirSync(path.join(out, workflowType), { recursive: true });
    picked.forEach((c, n) => {
      const name = `${workflowType}/${String(n + 1).padStart(2, '0')}.json`;
      fs.writeFileSync(path.join(out, name), c.text);
      const entry: StoredHistory = {
        file: name,
        workflowType,
        workflowId: c.file.slice(0, c.file.lastIndexOf('@')),
        events: c.shape.events,
        bytes: Buffer.byteLength(c.text),
        closedBy: c.shape.closedBy,
        source: path.relative(ROOT, c.source) || c.source,
      };
      manifest.histories.push(entry);
    });
    console.log(`[histories] ${workflowType}: kept ${picked.length} of ${candidates.length} (${covered.size} distinct steps)`);
  }
  fs.writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const releasesFile = path.join(ROOT, 'test', 'histories', 'releases.json');
  const releases = fs.existsSync(releasesFile) ? (JSON.parse(fs.readFileSync(releasesFile, 'utf8')) as { supported: string[] }) : { supported: [] };
  if (!releases.supported.includes(release)) releases.supported.push(release);
  fs.writeFileSync(releasesFile, `${JSON.stringify(releases, null, 2)}\n`);
  fs.rmSync(raw, { recursive: true, force: true });
  const bytes = manifest.histories.reduce((sum, h) => sum + h.bytes, 0);
  console.log(
    `[histories] ${release}: ${manifest.histories.length} histories of ${shipped.size} workflow types, ${(bytes / 1024).toFixed(0)} KiB, in ${path.relative(ROOT, out)}`,
  );
}

main();
