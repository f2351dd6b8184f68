/**
 * The CORS policy: browsers may call the API only from the origins in CORS_ALLOWED_ORIGINS
 * (exact match; none by default). Credentials are never allowed: the API authenticates with a
 * bearer token, not cookies. A preflight from an allowed origin is answered 204 here; from any
 * other origin it gets no CORS headers, so the browser blocks the call.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const ALLOWED_METHODS = 'GET, POST, PUT, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id';
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, Location, Idempotent-Replayed, RateLimit, RateLimit-Policy';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('Origin');
    res.vary('Origin');
    const isPreflight = req.method === 'OPTIONS' && origin !== undefined && req.get('Access-Control-Request-Method') !== undefined;
    if (origin === undefined || !allowed.has(origin)) {
      if (isPreflight) {
        res.status(204).end();
        return;
      }
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (isPreflight) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      res.status(204).end();
      return;
    }
    next();
  };
}
