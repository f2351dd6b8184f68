/**
 * Signing and verification of WMS callbacks.
 *
 * Header format: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<rawBody>")>`. Several `v1=`
 * entries are allowed (a provider rotating secrets signs with both); any one matching is enough.
 * The simulator signs with signWmsPayload; closetflow's webhook endpoint checks with
 * verifyWmsSignature over the exact bytes it received.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WMS_SIGNATURE_TOLERANCE_SECONDS } from './contract';

export type WmsSignatureFailure = 'missing' | 'malformed' | 'expired' | 'mismatch';
export type WmsSignatureResult = { ok: true } | { ok: false; reason: WmsSignatureFailure };

function hmacHex(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return mac.digest('hex');
}

/** Returns the `X-WMS-Signature` header value for a body sent at `timestampSeconds`. */
export function signWmsPayload(secret: string, rawBody: string | Buffer, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  return `t=${t},v1=${hmacHex(secret, t, rawBody)}`;
}

/** Splits a signature header into its timestamp and v1 signatures; null when it is not well formed. */
export function parseWmsSignatureHeader(header: string): { t: number; v1: string[] } | null {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return null;
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null;
      v1.push(value.toLowerCase());
    }
    // Unknown schemes (v0, v2, ...) are ignored, as providers add them over time.
  }
  if (t === undefined || v1.length === 0) return null;
  return { t, v1 };
}

/** Checks a callback's signature header against the raw request body, in constant time. */
export function verifyWmsSignature(args: {
  secret: string;
  rawBody: string | Buffer;
  header: string | string[] | undefined | null;
  nowSeconds: number;
  toleranceSeconds?: number;
}): WmsSignatureResult {
  const { secret, rawBody, nowSeconds, toleranceSeconds = WMS_SIGNATURE_TOLERANCE_SECONDS } = args;
  const header = Array.isArray(args.header) ? args.header[0] : args.header;
  if (header === undefined || header === null || header.trim() === '') return { ok: false, reason: 'missing' };
  const parsed = parseWmsSignatureHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(nowSeconds) - parsed.t) > toleranceSeconds) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(hmacHex(secret, parsed.t, rawBody), 'hex');
  let matched = false;
  for (const candidate of parsed.v1) {
    // Both are 32 bytes (the parser only accepts 64 hex digits); check every entry to keep timing flat.
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
