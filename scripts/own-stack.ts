/**
 * The environment of a stack of its own (`npm start`, or `npm run start:cluster` with `cluster`)
 * on free ports, for the end-to-end tests and the benches' api-stack: every port the launcher
 * opens, the URLs between its processes, and none of the caller's Temporal or PostgreSQL.
 */
import { freePort, freePortRun } from '../config/ports';

/** The URLs of a stack of its own, as its processes reach each other. */
export interface OwnStackUrls {
  api: string;
  apiMetrics: string;
  ui: string;
  mail: string;
  wms: string;
  psp: string;
  temporalAddress: string;
  /** Where the embedded PostgreSQL will listen (its database, once the launcher created it). */
  databaseUrl: string;
}

/** A stack of its own: `base` (the caller's environment) with its ports and URLs set. */
export interface OwnStack {
  env: NodeJS.ProcessEnv;
  urls: OwnStackUrls;
  ports: { api: number; temporal: number; ui: number; pg: number };
}

/** Free ports for a stack, its URLs, and `base` (the caller's environment) with them set. */
export async function ownStackEnv({
  dataDir,
  cluster = false,
  base = process.env,
}: {
  dataDir: string;
  cluster?: boolean;
  base?: NodeJS.ProcessEnv;
}): Promise<OwnStack> {
  const [temporal, ui, pg, wms, psp, mail, apiMetrics] = await Promise.all(Array.from({ length: 7 }, freePort));
  // The cluster's API processes take API_PORT + 1 and + 2, the Temporal server base + 1 to + 8 (below 32 768).
  const api = cluster ? await freePortRun(3) : await freePort();
  const urls: OwnStackUrls = {
    api: `http://127.0.0.1:${api}`,
    apiMetrics: `http://127.0.0.1:${apiMetrics}/metrics`,
    ui: `http://127.0.0.1:${ui}`,
    mail: `http://127.0.0.1:${mail}`,
    wms: `http://127.0.0.1:${wms}`,
    psp: `http://127.0.0.1:${psp}`,
    temporalAddress: `127.0.0.1:${temporal}`,
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${pg}/closetflow`,
  };
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: 'warn',
    WORKER_METRICS_BASE_PORT: '0',
    ...base,
    DATA_DIR: dataDir,
    API_PORT: String(api),
    API_PUBLIC_URL: urls.api,
    API_METRICS_PORT: String(apiMetrics),
    EMBEDDED_TEMPORAL_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    TEMPORAL_UI_URL: urls.ui,
    EMBEDDED_PG_PORT: String(pg),
    WMS_PORT: String(wms),
    WMS_URL: urls.wms,
    WMS_CALLBACK_URL: `${urls.api}/v1/webhooks/wms`,
    PSP_PORT: String(psp),
    PSP_URL: urls.psp,
    MAIL_PORT: String(mail),
    MAIL_URL: urls.mail,
    ...(cluster ? { TEMPORAL_CLUSTER_PORT_BASE: String(await freePortRun(9, 32_700)) } : {}),
  };
  // Its own Temporal and PostgreSQL, never ones the caller's environment points at.
  delete env.TEMPORAL_ADDRESS;
  delete env.DATABASE_URL;
  delete env.CLOSETFLOW_WORKFLOW_BUNDLE;
  return { env, urls, ports: { api, temporal, ui, pg } };
}
