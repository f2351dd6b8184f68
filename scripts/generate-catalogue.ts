/**
 * `npm run catalogue:generate`: writes docs/asyncapi.yaml and the generated tables in README.md,
 * docs/architecture.md and docs/events.md from the code (scripts/catalogue.ts).
 *   --check     write nothing; exit 1 and name the stale files
 *   --snapshot  also write docs/event-schemas/v<version>.json, the release's event schemas that
 *               test/catalogue.test.ts holds later versions to; a released snapshot is never rewritten
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SNAPSHOT_DIR, buildCatalogue, currentSchemas, generatedFiles, latestSnapshot, readRepoFile, renderSnapshot, staleFiles } from './catalogue';
import { compareEventSchemas, describeIncompatibility } from './event-compat';

function log(message: string): void {
  console.log(`[catalogue] ${message}`);
}

function writeSnapshot(content: string, version: string): void {
  const file = `${SNAPSHOT_DIR}/v${version}.json`;
  const existing = readRepoFile(file);
  if (existing === content) {
    log(`${file} is up to date`);
    return;
  }
  if (existing !== undefined) {
    // The snapshot is what stored events of that release look like; rewriting it would hide the break it exists to catch.
    throw new Error(`${file} exists and differs from today's schemas: a released snapshot is not rewritten (bump the version in package.json for a new one)`);
  }
  fs.mkdirSync(path.join(REPO_ROOT, SNAPSHOT_DIR), { recursive: true });
  fs.writeFileSync(path.join(REPO_ROOT, file), content);
  log(`wrote ${file}`);
}

function main(args: string[]): number {
  const catalogue = buildCatalogue();
  if (args.includes('--check')) {
    const stale = staleFiles(catalogue);
    for (const line of stale) console.error(`[catalogue] ${line}`);
    if (stale.length === 0) log('every generated file is up to date');
    return stale.length === 0 ? 0 : 1;
  }
  for (const generated of generatedFiles(catalogue)) {
    // Read right before writing: the docs are edited by hand outside the generated blocks.
    const current = readRepoFile(generated.file);
    const next = generated.render(current);
    if (next === current) continue;
    fs.writeFileSync(path.join(REPO_ROOT, generated.file), next);
    log(`wrote ${generated.file}`);
  }
  if (args.includes('--snapshot')) writeSnapshot(renderSnapshot(catalogue), catalogue.version);
  const snapshot = latestSnapshot();
  if (snapshot) {
    const breaks = compareEventSchemas(snapshot.events, currentSchemas(catalogue));
    for (const b of breaks) console.error(`[catalogue] incompatible with ${snapshot.file}: ${describeIncompatibility(b)}`);
    if (breaks.length === 0) log(`event schemas are compatible with ${snapshot.file}`);
  }
  log(`${catalogue.events.length} events, ${catalogue.events.reduce((n, e) => n + e.subscriptions.length, 0)} subscriptions`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`[catalogue] FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
