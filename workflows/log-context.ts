/**
 * Names shared by the workflow interceptors (workflows/interceptors.ts) and the worker's
 * activity interceptors (workers/observability.ts). No Node imports.
 */

/** Activity header carrying the box's order id (the workflow's OrderId search attribute), for the activity's log lines. */
export const ORDER_ID_HEADER = 'closetflow-order-id';
