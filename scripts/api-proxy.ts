/**
 * The load balancer in front of the API processes: a round-robin HTTP proxy on API_PORT. In
 * `npm run start:cluster` its upstreams are the two processes on loopback; in docker-compose.yml it
 * is the `api-proxy` service and its upstream is the `api` service, whose name resolves to every
 * replica (each name is looked up again every few seconds, so a replica that comes or goes is
 * seen). A refused connection (a process restarting) is retried on the next address, so a
 * replica's crash costs no request that had not reached it. Sets X-Forwarded-For: the API trusts
 * it from the proxy's network when TRUST_PROXY says so (the rate limits count the real client).
 *
 * As a program (`tsx scripts/api-proxy.ts`): it listens on API_PORT and balances over
 * API_PROXY_UPSTREAMS (`host:port,...`).
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';

/** An API process, or a name that resolves to several. */
export interface Upstream {
  host: string;
  port: number;
}

export interface ApiProxy {
  close(): Promise<void>;
}

/** How long a name's addresses are used before it is looked up again. */
const RESOLVE_EVERY_MS = 5_000;

/** A name's addresses (the system resolver: Docker's DNS answers a service name with every replica). */
export type Resolve = (host: string) => Promise<string[]>;
const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** Parses API_PROXY_UPSTREAMS: comma-separated `host:port`. */
export function parseUpstreams(text: string): Upstream[] {
  const upstreams = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(.+):(\d{1,5})$/.exec(entry);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65_535) throw new Error(`API_PROXY_UPSTREAMS: ${JSON.stringify(entry)} is not host:port`);
      return { host: m[1]!, port };
    });
  if (upstreams.length === 0) throw new Error('API_PROXY_UPSTREAMS names no upstream (host:port,...)');
  return upstreams;
}

/** Every address of every upstream, each name looked up again after `everyMs`. */
function addressBook(upstreams: Upstream[], resolve: Resolve, everyMs: number, log: Logger): () => Promise<Upstream[]> {
  let cached: { at: number; targets: Upstream[] } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < everyMs) return cached.targets;
    const resolved = await Promise.all(
      upstreams.map(async (u) => {
        try {
          return (await resolve(u.host)).map((address) => ({ host: address, port: u.port }));
        } catch (err) {
          log.warn({ err: (err as Error).message, upstream: u }, 'API proxy: upstream name did not resolve');
          return [];
        }
      }),
    );
    const targets = resolved.flat();
    // Keep the last addresses known if a lookup fails for all (a DNS blip is not an outage).
    if (targets.length > 0 || !cached) cached = { at: Date.now(), targets };
    return cached.targets;
  };
}

/** What the proxy listens on and balances over. */
export interface ApiProxyOptions {
  port: number;
  /** Listen address; every interface by default (a container's). */
  host?: string;
  upstreams: Upstream[];
  log: Logger;
  resolve?: Resolve;
  resolveEveryMs?: number;
}

/** Starts the proxy on `port`, balancing over every address of `upstreams`. */
export async function startApiProxy({
  port,
  host = '0.0.0.0',
  upstreams,
  log,
  resolve = systemResolve,
  resolveEveryMs = RESOLVE_EVERY_MS,
}: ApiProxyOptions): Promise<ApiProxy & { port: number }> {
  let next = 0;
  const targets = addressBook(upstreams, resolve, resolveEveryMs, log);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void targets().then((addresses) => forward(req, res, Buffer.concat(chunks), addresses)));
  });
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, addresses: Upstream[]) => {
    const unavailable = () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'https://closetflow.dev/problems/bad-gateway', title: 'No API process answered', status: 502 }));
    };
    const attempt = (tries: number): void => {
      if (addresses.length === 0) return unavailable();
      const upstream = addresses[next++ % addresses.length]!;
      const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
      const out = http.request(
        { host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwarded } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', (err: NodeJS.ErrnoException) => {
        // Nothing reached a process that refused the connection: another may take it.
        if (['ECONNREFUSED', 'EHOSTUNREACH'].includes(err.code ?? '') && tries < addresses.length) return attempt(tries + 1);
        log.warn({ err: err.message, upstream }, 'API proxy: upstream failed');
        unavailable();
      });
      out.end(body);
    };
    attempt(1);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const listening = (server.address() as AddressInfo).port;
  log.info({ port: listening, upstreams }, 'API proxy listening');
  return { port: listening, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

if (require.main === module) {
  const config = loadConfig();
  const log = createLogger('api-proxy', config.LOG_LEVEL);
  Promise.resolve()
    .then(() => startApiProxy({ port: config.API_PORT, upstreams: parseUpstreams(config.API_PROXY_UPSTREAMS), log }))
    .then(
      (proxy) => {
        const stop = () => void proxy.close().then(() => process.exit(0));
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      },
      (err: unknown) => {
        log.fatal({ err }, 'API proxy could not start');
        process.exit(1);
      },
    );
}
