/**
 * The API proxy (scripts/api-proxy.ts), the load balancer of start:cluster and of docker-compose's
 * `api-proxy` service: it balances over every address a name resolves to (Docker's DNS answers a
 * service name with each replica), sees a replica that comes or goes, and moves a refused request
 * to the next address. Its upstreams here are HTTP servers that answer with their own address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { parseUpstreams, startApiProxy, type ApiProxy } from '../../scripts/api-proxy';

/** An upstream on `host` that answers every request with its host and the X-Forwarded-For it got. */
async function upstream(host: string, port = 0): Promise<http.Server> {
  const server = http.createServer((req, res) => res.end(JSON.stringify({ host, forwardedFor: req.headers['x-forwarded-for'] })));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
const close = (server: http.Server) => new Promise((resolve) => server.close(resolve));

describe('the API proxy', () => {
  const log = pino({ level: 'silent' });
  let proxy: ApiProxy & { port: number };
  let servers: http.Server[] = [];
  afterEach(async () => {
    await proxy?.close();
    for (const s of servers) if (s.listening) await close(s);
    servers = [];
  });
  const hits = async (n: number) => {
    const answers: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
      answers.push(res.ok ? String(((await res.json()) as { host: string }).host) : `status ${res.status}`);
    }
    return answers;
  };
  const count = (answers: string[]) => Object.fromEntries([...new Set(answers)].sort().map((a) => [a, answers.filter((x) => x === a).length]));

  it('balances over every address the upstream name resolves to, and says who the client was', async () => {
    const first = await upstream('127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    servers = [first, await upstream('127.0.0.2', port)];
    proxy = await startApiProxy({ port: 0, host: '127.0.0.1', upstreams: [{ host: 'api', port }], log, resolve: async () => ['127.0.0.1', '127.0.0.2'] });
    expect(count(await hits(6))).toEqual({ '127.0.0.1': 3, '127.0.0.2': 3 });
    const res = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
    expect(((await res.json()) as { forwardedFor: string }).forwardedFor).toBe('127.0.0.1');
  });

  it('moves a request a replica refuses to the next one, and answers 502 problem+json when none is left', async () => {
    const first = await upstream('127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    servers = [first, await upstream('127.0.0.2', port)];
    proxy = await startApiProxy({ port: 0, host: '127.0.0.1', upstreams: [{ host: 'api', port }], log, resolve: async () => ['127.0.0.1', '127.0.0.2'] });
    await close(servers[1]!);
    expect(count(await hits(4))).toEqual({ '127.0.0.1': 4 });
    await close(servers[0]!);
    const res = await fetch(`http://127.0.0.1:${proxy.port}/v1/orders`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('sees a replica that starts after it, at its next look-up of the name', async () => {
    const first = await upstream('127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    servers = [first];
    let addresses = ['127.0.0.1'];
    proxy = await startApiProxy({ port: 0, host: '127.0.0.1', upstreams: [{ host: 'api', port }], log, resolve: async () => addresses, resolveEveryMs: 50 });
    expect(count(await hits(2))).toEqual({ '127.0.0.1': 2 });
    servers.push(await upstream('127.0.0.2', port));
    addresses = ['127.0.0.1', '127.0.0.2'];
    await new Promise((r) => setTimeout(r, 100));
    expect(count(await hits(4))).toEqual({ '127.0.0.1': 2, '127.0.0.2': 2 });
  });

  it('reads its upstreams as host:port pairs and refuses anything else', () => {
    expect(parseUpstreams('api:3000, 127.0.0.1:3002')).toEqual([
      { host: 'api', port: 3000 },
      { host: '127.0.0.1', port: 3002 },
    ]);
    expect(() => parseUpstreams('api')).toThrow(/"api" is not host:port/);
    expect(() => parseUpstreams('api:99999')).toThrow(/not host:port/);
    expect(() => parseUpstreams('')).toThrow(/names no upstream/);
  });
});
