/**
 * Prometheus metrics (prom-client). Business counters live in one registry per process
 * (`businessMetrics`), incremented where the fact happens (the bus activities, compensating
 * activities); a worker serves them next to the Temporal SDK's own metrics
 * (workers/observability.ts). The API has its own per-app registry (api/observability.ts).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Activities that undo earlier work of a box (the saga's compensations), counted when they succeed. */
export const COMPENSATION_ACTIVITIES = new Set(['releaseItems', 'cancelShippingInstruction', 'refundCharge']);

function createBusinessMetrics() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    ordersPlaced: new Counter({ name: 'closetflow_orders_placed_total', help: 'Orders placed (first record of each order.placed event)', registers }),
    eventsPublished: new Counter({
      name: 'closetflow_events_published_total',
      help: 'Events recorded in the event log for the first time, by type and publishing domain',
      labelNames: ['type', 'domain'] as const,
      registers,
    }),
    eventsDelivered: new Counter({
      name: 'closetflow_events_delivered_total',
      help: 'Event deliveries recorded for the first time, by event type, subscriber domain and outcome (started, signalled, rejected)',
      labelNames: ['type', 'subscriber_domain', 'outcome'] as const,
      registers,
    }),
    deliveryLag: new Histogram({
      name: 'closetflow_event_delivery_lag_seconds',
      help: 'Time from an event occurring (publisher workflow time) to its delivery being recorded',
      labelNames: ['type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    compensations: new Counter({
      name: 'closetflow_compensations_total',
      help: 'Compensating activities completed (stock released, WMS instruction cancelled, charge refunded)',
      labelNames: ['activity', 'domain'] as const,
      registers,
    }),
  };
}

/** The process's business counters. */
export const businessMetrics = createBusinessMetrics();

/** The request metrics of one HTTP app, registered in `registry`. */
export function createHttpMetrics(registry: Registry) {
  const registers = [registry];
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    requests: new Counter({ name: 'closetflow_http_requests_total', help: 'HTTP requests by method, route template and status', labelNames, registers }),
    errors: new Counter({ name: 'closetflow_http_request_errors_total', help: 'HTTP requests answered with a 5xx status', labelNames, registers }),
    duration: new Histogram({
      name: 'closetflow_http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

/**
 * Accepted orders whose orderWorkflow has not started yet (the outbox of
 * workers/order-start-relay.ts), read from the database on each scrape: a growing number or age
 * means Temporal is down or behind.
 */
export function createOrderStartMetrics(registry: Registry, backlog: () => Promise<{ pending: number; oldestAgeSeconds: number }>): void {
  // One read per scrape for both gauges (a scrape collects them together); a failed read keeps the
  // last value: a scrape should not fail because the database blinked.
  let reading: Promise<{ pending: number; oldestAgeSeconds: number } | undefined> | undefined;
  const read = () =>
    (reading ??= backlog()
      .catch(() => undefined)
      .finally(() => (reading = undefined)));
  const gauges = [
    { name: 'closetflow_order_starts_pending', help: 'Orders accepted by the API whose workflow has not been started yet', pick: 'pending' },
    {
      name: 'closetflow_order_starts_oldest_pending_seconds',
      help: 'Age of the oldest accepted order whose workflow has not been started yet',
      pick: 'oldestAgeSeconds',
    },
  ] as const;
  for (const { name, help, pick } of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await read();
        if (value) this.set(value[pick]);
      },
    });
  }
}

/** The Prometheus text-format content type prom-client writes. */
export const PROMETHEUS_CONTENT_TYPE = new Registry().contentType;
