/**
 * Request ids and the access log. Every request gets an id (a sane incoming `X-Request-Id` is
 * kept, so a caller's id follows the request through our logs), echoed in the response header
 * and in problem bodies, and is logged once as one JSON line when the response ends.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Ids we are willing to echo and log: short, printable, no separators that could forge log lines. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Per-request values the API keeps on `res.locals`. */
export interface RequestContext {
  requestId: string;
  /** A logger bound to this request's id. */
  log: Logger;
}

/** The request context set by {@link requestContext}. */
export function ctx(res: Response): RequestContext {
  return res.locals.ctx as RequestContext;
}

/** Assigns the request id and logs `{ requestId, method, path, status, durationMs }` when the response ends. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    // With tracing on, the server span is active here: its trace id joins the logs to the trace.
    const span = trace.getActiveSpan()?.spanContext();
    const log = logger.child(span ? { requestId, trace_id: span.traceId, span_id: span.spanId } : { requestId });
    res.locals.ctx = { requestId, log } satisfies RequestContext;
    res.setHeader(REQUEST_ID_HEADER, requestId);

    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const entry = {
        method: req.method,
        // The path only: query strings may carry things that do not belong in logs.
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const level = res.statusCode >= 500 ? 'error' : 'info';
      // The context's logger: routes may have bound more fields (customerId) to it.
      (res.locals.ctx as RequestContext).log[level](entry, 'request');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}

/**
 * Security headers for a JSON-only API, by helmet: a CSP that allows nothing (responses are
 * data, never documents; /docs sets its own), HSTS, nosniff, no framing, no referrer, and no
 * caching of responses that may carry personal data.
 */
const helmetHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
});

export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  helmetHeaders(req, res, next);
}
