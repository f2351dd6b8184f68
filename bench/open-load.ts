/**
 * An open-model load generator: requests are sent on a fixed schedule (request i at
 * start + i / rate, whatever earlier requests are doing), and each latency is measured from the
 * moment the request was *due*, so a stalled server is charged for every request it delayed
 * (no coordinated omission). This is what "N requests per second" means for a public API: N
 * independent clients, not N requests per connection fired back to back at each second's start.
 *
 * (autocannon's fixed-rate mode was used before: it gives each connection rate/connections
 * requests per second, fires them back to back when the second's tick resets, so every connection
 * bursts at once, and corrects for coordinated omission with an expected interval of
 * ceil(1 / rate) = 1 ms, which weights each sample by its own latency. Neither is the load a
 * fixed rate of independent clients puts on a server.)
 */
import http from 'node:http';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  /** Requests that were due in the run. */
  sent: number;
  /** Responses per second over the run (completed / duration). */
  achieved: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Responses outside 2xx, by status. */
  non2xx: Record<number, number>;
  /** Connection errors and time-outs. */
  errors: number;
  /** How late the generator itself sent requests (p99, ms): if large, the client, not the server, was starved. */
  sendLagP99: number;
}

/** The q-quantile (0..1) of sorted values, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Sends `rate` requests per second for `durationS` seconds to `baseUrl`, `next(i)` making request
 * i, and waits for every answer (each at most `timeoutMs`).
 */
export async function openLoad({
  baseUrl,
  rate,
  durationS,
  next,
  timeoutMs = 10_000,
}: {
  baseUrl: string;
  rate: number;
  durationS: number;
  next: (i: number) => LoadRequest;
  timeoutMs?: number;
}): Promise<LoadResult> {
  const url = new URL(baseUrl);
  // Keep-alive, unbounded: a late answer never holds back the next request's send time.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const total = Math.round(rate * durationS);
  const latencies: number[] = [];
  const non2xx: Record<number, number> = {};
  let errors = 0;
  const start = performance.now() + 50;
  const pending: Promise<void>[] = [];

  const sendLags: number[] = [];
  const send = (i: number, dueAt: number): Promise<void> =>
    new Promise<void>((resolve) => {
      sendLags.push(performance.now() - dueAt);
      const spec = next(i);
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: spec.method,
          path: spec.path,
          headers: spec.body ? { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) } : spec.headers,
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.push(performance.now() - dueAt);
            else non2xx[status] = (non2xx[status] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(spec.body);
    });

  for (let i = 0; i < total; i++) {
    const dueAt = start + (i * 1000) / rate;
    const wait = dueAt - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(i, dueAt));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  sendLags.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    sent: total,
    achieved: Math.round(latencies.length / Math.max(elapsedS, durationS)),
    p50: round(quantile(latencies, 0.5)),
    p90: round(quantile(latencies, 0.9)),
    p99: round(quantile(latencies, 0.99)),
    max: round(latencies[latencies.length - 1] ?? Number.NaN),
    non2xx,
    errors,
    sendLagP99: round(quantile(sendLags, 0.99)),
  };
}
