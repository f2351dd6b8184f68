/**
 * Request metrics and tracing for the API: every request is counted and timed per route
 * template (`/v1/orders/:orderId`, never the raw path, so label values stay few), and, when
 * tracing is on, runs inside a server span that becomes the parent of the workflows it starts,
 * signals or updates (the Temporal client's OpenTelemetry interceptor puts it into headers).
 */
import { SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { PROMETHEUS_CONTENT_TYPE, type HttpMetrics } from '../observability/metrics';

/** The label for requests no route matched (404s, or failures before routing). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The route template of a request. Express sets `req.route` while it dispatches, when
 * `req.baseUrl` is the router's mount path; by the time the response ends an error may have left
 * the router and reset `baseUrl`, so the template is taken at that moment.
 */
function captureRouteTemplate(req: Request): () => string {
  let template: string | undefined;
  let route: unknown = req.route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      // A router's own root ('/' under '/v1/orders') is the mount path itself.
      if (value?.path !== undefined) template = `${req.baseUrl}${String(value.path)}`.replace(/(.)\/$/, '$1');
    },
  });
  return () => template ?? UNMATCHED_ROUTE;
}

/** Counts, times and (with a tracer) traces every request. Mount first. */
export function observeHttp({ metrics, tracer }: { metrics: HttpMetrics; tracer?: Tracer }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const routeTemplate = captureRouteTemplate(req);
    // A caller's traceparent makes this request part of the caller's trace.
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer?.startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);

    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const labels = { method: req.method, route: routeTemplate(), status: String(res.statusCode) };
      metrics.requests.inc(labels);
      if (res.statusCode >= 500) metrics.errors.inc(labels);
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (span) {
        span.updateName(`${req.method} ${labels.route}`);
        span.setAttributes({ 'http.route': labels.route, 'http.response.status_code': res.statusCode });
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    };
    res.on('finish', finish);
    res.on('close', finish);
    if (span) context.with(trace.setSpan(parent, span), next);
    else next();
  };
}

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsHandler(registry: Registry) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.setHeader('Content-Type', PROMETHEUS_CONTENT_TYPE);
    res.send(await registry.metrics());
  };
}

/**
 * The API's metrics listener: only `GET /metrics`, on its own port (API_METRICS_PORT), so the
 * public port never serves it; everything else is a bare 404.
 */
export function createMetricsApp(registry: Registry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(registry));
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}
