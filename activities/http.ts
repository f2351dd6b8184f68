/** The one way activities call outside HTTP services: JSON POST with an Idempotency-Key and a timeout. */

/** Status and parsed JSON body of an answer (a non-JSON body is kept, shortened, under `raw`). */
export interface JsonAnswer {
  status: number;
  json: Record<string, unknown>;
}

/** POSTs `body` as JSON to `path` under `baseUrl`; network errors and timeouts throw (retryable). */
export async function postJson(baseUrl: string, path: string, idempotencyKey: string, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
  const res = await fetch(new URL(path, baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  try {
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch {
    return { status: res.status, json: { raw: text.slice(0, 200) } };
  }
}
