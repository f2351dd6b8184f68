/**
 * The load balancer of `npm run start:cluster`: a round-robin HTTP proxy on API_PORT in front of
 * the API processes. A refused connection (a process restarting) is retried on the next one, so a
 * replica's crash costs no request that had not reached it. Sets X-Forwarded-For: the API trusts
 * it from loopback when TRUST_PROXY says so (the rate limits count the real client).
 */
import http from 'node:http';
import type { Logger } from 'pino';

export interface ApiProxy {
  close(): Promise<void>;
}

export async function startApiProxy({ port, upstreams, log }: { port: number; upstreams: { host: string; port: number }[]; log: Logger }): Promise<ApiProxy> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number) => {
        const upstream = upstreams[next++ % upstreams.length]!;
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
          if (err.code === 'ECONNREFUSED' && tries < upstreams.length) return attempt(tries + 1);
          log.warn({ err: err.message, upstream }, 'API proxy: upstream failed');
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ type: 'https://closetflow.dev/problems/bad-gateway', title: 'No API process answered', status: 502 }));
        });
        out.end(body);
      };
      attempt(1);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  log.info({ port, upstreams: upstreams.map((u) => u.port) }, 'API proxy listening');
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
