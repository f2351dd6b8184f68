/**
 * The Temporal server itself (not the dev server) on PostgreSQL, for the production-shaped stack:
 * the provisioned server binary (scripts/provision.ts), its persistence and visibility schemas in
 * databases of their own (`temporal`, `temporal_visibility`) set up by its SQL tool, and one
 * process running the frontend, history, matching and worker services. Restartable: the schemas
 * are set up once (`setup-schema` then `update-schema` are idempotent), the data survives. Beside
 * it, the Temporal Web UI server (the temporalio/ui image's program) pointed at its frontend.
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPORAL_SQL_MAX_CONNS } from '../config/connections';
import { CustomerIdAttribute, OrderIdAttribute } from '../workflows/search-attributes';
import { findProvisioned, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from './provision';

/** Where the server finds its PostgreSQL (a superuser that may create its databases). */
export interface ClusterPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
}

/**
 * The server's ports: the frontend (clients and workers), and the internal ones, `base + 1` to
 * `base + 8`. The server stores membership ports as a smallint: `base` must stay below 32 760.
 */
export interface ClusterPorts {
  frontend: number;
  base: number;
}

export interface TemporalCluster {
  address: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** kill -9: no graceful shutdown, what a crash or a lost machine is. */
  kill(): Promise<void>;
}

function serverDir(): string {
  const dir = findProvisioned().temporalServerDir;
  if (!dir) throw new Error(`the Temporal server ${TEMPORAL_SERVER_VERSION} is not built: run \`npm run provision\` (it needs Go)`);
  return dir;
}

/**
 * What the dev server turns on by default and closetflow relies on (search attributes visible as
 * soon as they are added, Worker Deployment Versioning's APIs, updates): config/temporal/dynamicconfig.yaml,
 * which docker-compose.yml mounts into the server too.
 */
export const DYNAMIC_CONFIG_FILE = path.resolve(__dirname, '..', 'config', 'temporal', 'dynamicconfig.yaml');
/** The schema set-up both this and docker-compose.yml's `temporal-schema` service run. */
export const SETUP_SCHEMAS_SCRIPT = path.resolve(__dirname, '..', 'config', 'temporal', 'setup-schemas.sh');
/** History shards: fixed when the persistence database is first set up (docker-compose.yml's NUM_HISTORY_SHARDS). */
export const HISTORY_SHARDS = 4;
/** How long closed workflows stay visible (docker-compose.yml's namespace create --retention). */
export const NAMESPACE_RETENTION_DAYS = 3;

/** Creates the two databases and applies the server's schemas (idempotent: a set-up database is only brought up to date). */
export function setupClusterSchemas(pg: ClusterPostgres): void {
  const dir = serverDir();
  const r = spawnSync('sh', [SETUP_SCHEMAS_SCRIPT], {
    encoding: 'utf8',
    env: {
      ...process.env,
      TEMPORAL_SQL_TOOL: path.join(dir, 'temporal-sql-tool'),
      TEMPORAL_SCHEMA_DIR: path.join(dir, 'schema'),
      POSTGRES_SEEDS: pg.host,
      DB_PORT: String(pg.port),
      POSTGRES_USER: pg.user,
      POSTGRES_PWD: pg.password,
    },
  });
  if (r.status !== 0) throw new Error(`${SETUP_SCHEMAS_SCRIPT} failed: ${`${r.stdout}${r.stderr}`.slice(-2000)}`);
}

/** The server's configuration: PostgreSQL for both stores, every service in one process on loopback. */
function configYaml(pg: ClusterPostgres, ports: ClusterPorts, dynamicConfigPath: string): string {
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${pg.host}:${pg.port}"
        connectProtocol: "tcp"
        user: "${pg.user}"
        password: "${pg.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: string, grpc: number, membership: number, http?: number) => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  const b = ports.base;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${HISTORY_SHARDS}
  datastores:
    default:
${store('temporal', TEMPORAL_SQL_MAX_CONNS.default)}
    visibility:
${store('temporal_visibility', TEMPORAL_SQL_MAX_CONNS.visibility)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
${service('frontend', ports.frontend, b + 1, b + 2)}
${service('history', b + 3, b + 4)}
${service('matching', b + 5, b + 6)}
${service('worker', b + 7, b + 8)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${dynamicConfigPath}"
  pollInterval: "10s"
`;
}

/** Starts the server with its configuration in `dir`; resolves once its frontend answers. */
export async function startTemporalCluster(opts: {
  dir: string;
  pg: ClusterPostgres;
  ports: ClusterPorts;
  namespace?: string;
  log?: (line: string) => void;
}): Promise<TemporalCluster> {
  if (opts.ports.base + 8 > 32_767) throw new Error(`cluster ports from ${opts.ports.base}: the server keeps membership ports in a smallint (below 32 768)`);
  const bin = path.join(serverDir(), 'temporal-server');
  const configDir = path.join(opts.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  // The repository's file, as docker-compose.yml mounts it: one set of server settings for both.
  const dynamicConfig = DYNAMIC_CONFIG_FILE;
  fs.writeFileSync(path.join(configDir, 'cluster.yaml'), configYaml(opts.pg, opts.ports, dynamicConfig));
  const child = spawn(bin, ['--root', opts.dir, '--config', 'config', '--env', 'cluster', 'start'], { cwd: opts.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
    opts.log?.(chunk.toString('utf8'));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${opts.ports.frontend}`;
  await Promise.race([
    registerNamespace(address, opts.namespace ?? 'default'),
    exited.then((code) => {
      throw new Error(`the Temporal server exited (${code}) before it was ready:\n${tail}`);
    }),
  ]);
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { address, process: child, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

/** Waits for the frontend, then registers the namespace and the box search attributes (both idempotent). */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService
          .registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(NAMESPACE_RETENTION_DAYS * 86_400) } })
          .catch((err: unknown) => {
            if ((err as { code?: number }).code !== 6) throw err; // 6: ALREADY_EXISTS
          });
        const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
        await connection.operatorService
          .addSearchAttributes({ namespace, searchAttributes: { [OrderIdAttribute.name]: KEYWORD, [CustomerIdAttribute.name]: KEYWORD } })
          .catch((err: unknown) => {
            if ((err as { code?: number }).code !== 6) throw err;
          });
        // A new namespace takes a moment to reach every service: ready once it is described.
        await connection.workflowService.describeNamespace({ namespace });
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the Temporal server at ${address} did not become ready: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** A running Web UI server. */
export interface TemporalUi {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the provisioned Web UI server against `address`, configured as the temporalio/ui image
 * is (its `docker` template, read from the same variables docker-compose.yml sets) plus a
 * loopback-only bind: on a developer's machine the UI, write actions included, is not for the LAN.
 */
export async function startTemporalUi(opts: { dir: string; address: string; port: number; namespace?: string; corsOrigins?: string[] }): Promise<TemporalUi> {
  const uiDir = findProvisioned().temporalUiDir;
  if (!uiDir) throw new Error(`the Temporal Web UI ${TEMPORAL_UI_VERSION} is not built: run \`npm run provision\` (it needs Go)`);
  const configDir = path.join(opts.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  // base.yaml is read first and the environment's file over it: the image's template wins on everything but the bind.
  fs.writeFileSync(path.join(configDir, 'base.yaml'), 'host: 127.0.0.1\n');
  fs.copyFileSync(path.join(uiDir, 'config', 'docker.yaml'), path.join(configDir, 'docker.yaml'));
  const url = `http://127.0.0.1:${opts.port}`;
  const child = spawn(path.join(uiDir, 'temporal-ui'), ['--root', opts.dir, '--config', 'config', '--env', 'docker', 'start'], {
    cwd: opts.dir,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_UI_PORT: String(opts.port),
      TEMPORAL_DEFAULT_NAMESPACE: opts.namespace ?? 'default',
      TEMPORAL_CORS_ORIGINS: (opts.corsOrigins ?? [url]).join(','),
      TEMPORAL_NOTIFY_ON_NEW_VERSION: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Temporal Web UI exited (${child.exitCode}):\n${tail}`);
    const ok = await fetch(`${url}/api/v1/settings`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal Web UI did not answer on ${url} within 30 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
