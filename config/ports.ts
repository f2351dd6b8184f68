/** Loopback ports for processes started on the fly (the embedded stack, tests, core's metrics exporter). */
import net from 'node:net';

/** A loopback port that was free a moment ago: the OS picks it (listen on 0), then it is released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A run of `count` free loopback ports from 20 000 up to `below`, under Linux's ephemeral range
 * (32 768+): a port the OS hands out for listen(0) or an outgoing connection could otherwise take
 * one of the run first. For processes that take consecutive ports (the cluster's API processes,
 * the Temporal server's internal ports).
 */
export async function freePortRun(count: number, below = 32_000): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (below - 20_000 - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no run of ${count} free ports below ${below}`);
}
