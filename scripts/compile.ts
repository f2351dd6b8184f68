/**
 * The worker processes' code as plain JavaScript, for `npm start`: every TypeScript file the
 * workers load, transpiled file by file (esbuild, no bundling, the same module layout) into
 * `DATA_DIR/node-build-<hash>/`, reused while the sources are unchanged. Run from it, a worker
 * skips tsx's loader and its source maps (tsx keeps every loaded module's map in memory), which
 * measured about 50 MB less RSS per worker process (bench/results/pipeline.md); nine workers on
 * one machine add that up. Development tools, tests and the API keep running the sources with tsx.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
/** What the worker processes import (nothing under api/ or test/). */
const SOURCE_DIRS = ['activities', 'config', 'db', 'observability', 'simulators', 'store', 'workers', 'workflows'];

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) files.push(file);
    }
  };
  for (const dir of SOURCE_DIRS) walk(path.join(ROOT, dir));
  return files;
}

/** Transpiles the workers' sources into `dataDir` once per content hash; answers the directory (its layout mirrors the repo's). */
export async function compileWorkerCode(dataDir: string): Promise<string> {
  const files = sourceFiles();
  const hash = createHash('sha256');
  for (const file of files) hash.update(path.relative(ROOT, file)).update(fs.readFileSync(file));
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  const outDir = path.join(dataDir, `node-build-${hash.digest('hex').slice(0, 12)}`);
  if (fs.existsSync(path.join(outDir, 'workers', 'main.js'))) return outDir;
  for (const old of fs.readdirSync(dataDir).filter((f) => f.startsWith('node-build-'))) fs.rmSync(path.join(dataDir, old), { recursive: true, force: true });
  await build({
    entryPoints: files,
    outdir: outDir,
    outbase: ROOT,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: false,
    logLevel: 'warning',
  });
  return outDir;
}

/** Environment a process running from the build needs: the repo's node_modules, wherever DATA_DIR is. */
export function compiledCodeEnv(): NodeJS.ProcessEnv {
  return { NODE_PATH: path.join(ROOT, 'node_modules') };
}
