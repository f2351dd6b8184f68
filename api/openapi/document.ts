/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas the routes validate with
 * (`z.toJSONSchema`) and the problem catalogue (api/problems.ts). `operations` lists every route;
 * test/api/openapi.test.ts checks it against the routes Express really has.
 */
import { z } from 'zod';
import type { Config } from '../../config';
import { WMS_SIGNATURE_HEADER } from '../../simulators/wms/contract';
import { loginBody, refreshBody, signupAcceptedSchema, signupBody, tokenResponseSchema, verifyBody } from '../auth/routes';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from '../idempotency';
import {
  cancelBody,
  cancelResultSchema,
  itemParams,
  listQuery,
  orderAcceptedSchema,
  orderIdParams,
  orderPageSchema,
  orderViewSchema,
  placeOrderBody,
  purchaseAcceptedSchema,
  returnAcceptedSchema,
  timelineSchema,
} from '../orders/routes';
import { paymentMethodSchema, putPaymentMethodBody, savedPaymentMethodSchema } from '../payment/routes';
import { lagReportSchema } from '../admin/lag/routes';
import { chargeViewSchema, retryChargeBody } from '../admin/payments/routes';
import { PROBLEMS, problemUri, type ProblemType } from '../problems';
import { REQUEST_ID_HEADER } from '../request-context';
import { wmsCallbackSchema, wmsWebhookResultSchema } from '../webhooks/routes';

type Method = 'get' | 'post' | 'put';
type Auth = 'none' | 'bearer' | 'admin' | 'wms-signature';

interface ResponseSpec {
  description: string;
  /** OpenAPI links: operations that take a value of this response (operationId → parameter → runtime expression). */
  links?: Record<string, Record<string, string>>;
  schema?: z.ZodType;
  /** Names of components.headers this response sets. */
  headers?: string[];
  contentType?: string;
}

/** One route of the API. */
export interface Operation {
  method: Method;
  /** Express syntax, `/v1/orders/:orderId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** False when the whole body may be omitted (every field optional). */
  bodyRequired?: boolean;
  /** Accepts `Idempotency-Key`. */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
  /** Problem types this route answers with beyond the common ones of its kind. */
  problems: ProblemType[];
}

const healthSchema = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.object({ database: z.enum(['ok', 'failing']), temporal: z.enum(['ok', 'failing']) }).strict() })
  .strict();
const adminAnySchema = z.record(z.string(), z.unknown()).meta({ description: 'Admin response; see the admin API docs.' });
const adminReadQuery = z.record(z.string(), z.string()).meta({ description: 'Filters of this admin read; a `reason` is recorded in the audit log.' });

const orderTag = 'Orders';
const withOrder = ['not-found'] as ProblemType[];

export const operations: Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Is the API able to serve (PostgreSQL and Temporal reachable)?',
    tag: 'Platform',
    auth: 'none',
    responses: { 200: { description: 'Healthy.', schema: healthSchema }, 503: { description: 'A dependency is failing.', schema: healthSchema } },
    problems: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document.',
    tag: 'Platform',
    auth: 'none',
    responses: { 200: { description: 'The OpenAPI 3.1 document.', schema: z.record(z.string(), z.unknown()) } },
    problems: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    summary: 'Interactive documentation of this API (HTML, self-contained).',
    tag: 'Platform',
    auth: 'none',
    responses: { 200: { description: 'An HTML page.', contentType: 'text/html', schema: z.string() } },
    problems: [],
  },
  {
    method: 'post',
    path: '/v1/auth/signup',
    operationId: 'signup',
    summary: 'Ask to become a member: e-mails the address a verification token (POST it to /v1/auth/verify).',
    description:
      'Answers the same 202 whether or not the address is already a member, so signup tells nobody which addresses are registered: a new address is e-mailed a single-use token (valid SIGNUP_VERIFICATION_TTL_SECONDS), a registered one a notice that someone tried to sign up with it. One address gets at most SIGNUP_MAILS_PER_ADDRESS such e-mails per SIGNUP_MAIL_WINDOW_SECONDS, whoever asks; past it the answer is the same 202 and nothing is sent. Nothing is created until the token is verified.',
    tag: 'Auth',
    auth: 'none',
    body: signupBody,
    responses: { 202: { description: 'Accepted: the e-mail is on its way.', schema: signupAcceptedSchema } },
    problems: [],
  },
  {
    method: 'post',
    path: '/v1/auth/verify',
    operationId: 'verifySignup',
    summary: "Finish signing up with the e-mail's token: creates the account, the card on file and the membership; logs in.",
    description:
      'A token works once. Unknown: 400 invalid-verification-token; expired or already used: 410 verification-token-expired (sign up again, or log in); the address became a member meanwhile: 409 email-taken.',
    tag: 'Auth',
    auth: 'none',
    body: verifyBody,
    responses: { 201: { description: 'Signed up and logged in.', schema: tokenResponseSchema } },
    problems: ['invalid-verification-token', 'verification-token-expired', 'email-taken'],
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    operationId: 'login',
    summary: 'Exchange email and password for an access token and a refresh token.',
    description:
      "Failed logins are counted per (account, client IP) pair and per client IP; past the limit (LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP / LOGIN_MAX_FAILURES_PER_IP within LOGIN_LOCKOUT_SECONDS) login answers 429 too-many-login-attempts with Retry-After, without checking the password. Failing with a member's email from one address does not lock the member out elsewhere.",
    tag: 'Auth',
    auth: 'none',
    body: loginBody,
    responses: { 200: { description: 'Logged in.', schema: tokenResponseSchema } },
    problems: ['invalid-credentials', 'too-many-login-attempts'],
  },
  {
    method: 'post',
    path: '/v1/auth/refresh',
    operationId: 'refresh',
    summary: 'Exchange a refresh token for a new access token and a new refresh token (rotation).',
    description: 'A refresh token works once. Presenting one that was already exchanged revokes the whole session (it was copied): log in again.',
    tag: 'Auth',
    auth: 'none',
    body: refreshBody,
    responses: { 200: { description: 'A new token pair.', schema: tokenResponseSchema } },
    problems: ['invalid-refresh-token'],
  },
  {
    method: 'post',
    path: '/v1/auth/logout',
    operationId: 'logout',
    summary: 'End the session of this access token: it and its refresh token stop working at once.',
    tag: 'Auth',
    auth: 'bearer',
    responses: { 204: { description: 'Logged out.' } },
    problems: [],
  },
  {
    method: 'get',
    path: '/v1/me/payment-method',
    operationId: 'getPaymentMethod',
    summary: 'The card on file.',
    tag: 'Me',
    auth: 'bearer',
    responses: { 200: { description: 'The card (null if none).', schema: paymentMethodSchema } },
    problems: [],
  },
  {
    method: 'put',
    path: '/v1/me/payment-method',
    operationId: 'putPaymentMethod',
    summary: 'Replace the card on file; the next charge attempt uses it.',
    tag: 'Me',
    auth: 'bearer',
    body: putPaymentMethodBody,
    responses: { 200: { description: 'Saved.', schema: savedPaymentMethodSchema } },
    problems: [],
  },
  {
    method: 'post',
    path: '/v1/orders',
    operationId: 'placeOrder',
    summary: 'Order a box. Answers 202 as soon as the order is durably accepted; it is styled, reserved and shipped asynchronously.',
    description:
      "While the system is behind (accepted orders waiting to start, or a domain's workflow tasks waiting for workers, past their limits), answers 503 `overloaded` with `Retry-After` and the figures, and places nothing: retry after the delay with the same Idempotency-Key.",
    tag: orderTag,
    auth: 'bearer',
    body: placeOrderBody,
    bodyRequired: false,
    idempotent: true,
    responses: {
      202: {
        description: 'Accepted; follow links.self.',
        schema: orderAcceptedSchema,
        headers: ['Location', IDEMPOTENT_REPLAYED_HEADER],
        links: Object.fromEntries(
          ['getOrder', 'getOrderTimeline', 'cancelOrder', 'returnOrder', 'purchaseItem'].map((id) => [id, { orderId: '$response.body#/orderId' }]),
        ),
      },
    },
    problems: ['membership-suspended', 'overloaded'],
  },
  {
    method: 'get',
    path: '/v1/orders',
    operationId: 'listOrders',
    summary: "The member's orders, newest first, by cursor pages.",
    tag: orderTag,
    auth: 'bearer',
    query: listQuery,
    responses: { 200: { description: 'One page; pass nextCursor as cursor for the next.', schema: orderPageSchema } },
    problems: ['validation-error'],
  },
  {
    method: 'get',
    path: '/v1/orders/:orderId',
    operationId: 'getOrder',
    summary: 'One order.',
    tag: orderTag,
    auth: 'bearer',
    params: orderIdParams,
    responses: { 200: { description: 'The order.', schema: orderViewSchema } },
    problems: withOrder,
  },
  {
    method: 'get',
    path: '/v1/orders/:orderId/timeline',
    operationId: 'getOrderTimeline',
    summary: 'Every event of the order across domains, in publish order.',
    tag: orderTag,
    auth: 'bearer',
    params: orderIdParams,
    responses: { 200: { description: 'The timeline.', schema: timelineSchema } },
    problems: withOrder,
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/cancel',
    operationId: 'cancelOrder',
    summary: 'Cancel an order that has not shipped yet.',
    tag: orderTag,
    auth: 'bearer',
    params: orderIdParams,
    body: cancelBody,
    bodyRequired: false,
    responses: {
      200: { description: 'Cancelled.', schema: cancelResultSchema },
      202: { description: 'Accepted, still releasing stock.', schema: cancelResultSchema },
    },
    problems: [...withOrder, 'order-not-cancellable', 'temporarily-unavailable'],
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/return',
    operationId: 'returnOrder',
    summary: 'Send the delivered box back.',
    tag: orderTag,
    auth: 'bearer',
    params: orderIdParams,
    responses: { 202: { description: 'Return pickup requested.', schema: returnAcceptedSchema } },
    problems: [...withOrder, 'return-not-allowed', 'temporarily-unavailable'],
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/items/:itemId/purchase',
    operationId: 'purchaseItem',
    summary: 'Buy one item of the box at home; the card on file is charged.',
    tag: orderTag,
    auth: 'bearer',
    params: itemParams,
    idempotent: true,
    responses: { 202: { description: 'Purchase requested.', schema: purchaseAcceptedSchema, headers: [IDEMPOTENT_REPLAYED_HEADER] } },
    problems: [...withOrder, 'purchase-not-allowed', 'already-purchased', 'temporarily-unavailable'],
  },
  {
    method: 'post',
    path: '/v1/webhooks/wms',
    operationId: 'wmsWebhook',
    summary: 'Warehouse shipment callbacks (for the WMS, not for members).',
    description: `Signed: \`${WMS_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>\`. Timestamps more than 300 s from the server clock (past or future) are refused; a refused callback is logged (without its body) and signals nothing.`,
    tag: 'Webhooks',
    auth: 'wms-signature',
    body: wmsCallbackSchema,
    responses: { 200: { description: 'Accepted or ignored (duplicate of a closed shipment).', schema: wmsWebhookResultSchema } },
    problems: ['invalid-signature'],
  },
  ...(
    [
      ['get', '/admin/accounting/trial-balance', 'adminTrialBalance', 'Trial balance of a period.'],
      ['get', '/admin/accounting/ledger', 'adminLedger', 'Journal entries of a period.'],
      [
        'post',
        '/admin/accounting/ledgers/:customerId/rebook',
        'adminRebookLedger',
        "Make a customer's ledger book its unbooked money events: a running ledger sweeps, a closed one starts again (`{ reason }`, audited).",
      ],
      [
        'post',
        '/admin/accounting/periods/:period/close',
        'adminRunPeriodClose',
        'Run the close of an ended period again after a failure (`{ reason, maxWaitMs? }`, audited); a succeeded close is never repeated.',
      ],
      ['get', '/admin/orders/:orderId/trace', 'adminTraceOrder', 'Every workflow of one box.'],
      ['get', '/admin/workflows', 'adminListWorkflows', 'Workflows by status and domain.'],
      ['post', '/admin/workflows/:workflowId/reset', 'adminResetWorkflow', 'Reset a workflow (audited).'],
      ['put', '/admin/orders/:orderId/address', 'adminCorrectAddress', "Correct a box's delivery address (audited)."],
      ['get', '/admin/activities/pending', 'adminPendingActivities', 'Activities that keep retrying.'],
      ['get', '/admin/audit-log', 'adminAuditLog', 'The audit trail of admin calls, newest first (cursor).'],
    ] as const
  ).map(([method, path, operationId, summary]): Operation => ({
    method,
    path,
    operationId,
    summary,
    description: 'Admin role only; every call is audited.',
    tag: 'Admin',
    auth: 'admin',
    params: path.includes(':')
      ? z.object(Object.fromEntries([...path.matchAll(/:(\w+)/g)].map((m) => [m[1], z.string().min(1).max(400)]))).strict()
      : undefined,
    query: method === 'get' ? (adminReadQuery as unknown as z.ZodObject) : undefined,
    body: method !== 'get' ? adminAnySchema : undefined,
    responses: { 200: { description: 'OK.', schema: adminAnySchema } },
    problems: ['forbidden', 'not-found'],
  })),
  {
    method: 'get',
    path: '/admin/lag',
    operationId: 'adminLag',
    summary: "How far behind each domain is: the order outbox and every task queue's backlog, with the backpressure verdict.",
    description: 'Admin role only; every call is audited.',
    tag: 'Admin',
    auth: 'admin',
    query: z.object({ reason: z.string().min(3).max(500).optional() }).strict(),
    responses: { 200: { description: 'The lag, read now.', schema: lagReportSchema } },
    problems: [],
  },
  {
    method: 'get',
    path: '/admin/payments/charges/:chargeKey',
    operationId: 'adminReadCharge',
    summary: "One charge: its record, its attempts at the PSP, and its workflow's state.",
    description: 'Admin role only; every call is audited.',
    tag: 'Admin',
    auth: 'admin',
    params: z.object({ chargeKey: z.string().min(1).max(400).meta({ example: 'membership:c_k3x9a0b1c2d3e4f5:2026-12' }) }).strict(),
    responses: { 200: { description: 'The charge.', schema: chargeViewSchema } },
    problems: ['not-found'],
  },
  {
    method: 'post',
    path: '/admin/payments/charges/:chargeKey/retry',
    operationId: 'adminRetryCharge',
    summary: 'Make the next attempt of a declined charge now, with the card on file now (audited).',
    description:
      "For a charge in dunning (declined, waiting for its next attempt): one new attempt under its own PSP key, with the member's current card. Answers the charge after that attempt (`workflow.status` captured, or dunning again). A reset cannot do this: a re-run meets the recorded decline of every attempt it repeats.",
    tag: 'Admin',
    auth: 'admin',
    params: z.object({ chargeKey: z.string().min(1).max(400) }).strict(),
    body: retryChargeBody,
    responses: { 200: { description: 'The charge after the attempt.', schema: chargeViewSchema } },
    problems: ['not-found', 'charge-not-retryable', 'temporarily-unavailable'],
  },
];

/** `/v1/orders/:orderId` → `/v1/orders/{orderId}`. */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:(\w+)/g, '{$1}');

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

const HEADERS: Record<string, { description: string; schema: Record<string, unknown> }> = {
  [REQUEST_ID_HEADER]: { description: 'The request id (yours if you sent a sane one); quote it when reporting a problem.', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before retrying (429, 503, 409 idempotency-key-in-flight).', schema: { type: 'string' } },
  RateLimit: { description: 'Remaining budget of the rate limit: `limit=<n>, remaining=<n>, reset=<seconds>`.', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The rate limit: `<max>;w=<window seconds>`.', schema: { type: 'string' } },
  Location: { description: 'URL of the created resource.', schema: { type: 'string' } },
  [IDEMPOTENT_REPLAYED_HEADER]: {
    description: 'Present (`true`) when this is the stored response of an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  'WWW-Authenticate': { description: 'The Bearer challenge of a 401.', schema: { type: 'string' } },
};

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details. Switch on `type`; `title` is fixed per type, `detail` varies.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', enum: Object.keys(PROBLEMS).map((t) => problemUri(t as ProblemType)) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'validation-error only: every invalid field.',
      items: {
        type: 'object',
        required: ['in', 'path', 'message', 'code'],
        properties: {
          in: { type: 'string', enum: ['body', 'query', 'params', 'header'] },
          path: { type: 'string' },
          message: { type: 'string' },
          code: { type: 'string' },
        },
      },
    },
  },
};

/** Problem types every operation of a kind can answer. */
function commonProblems(op: Operation): ProblemType[] {
  const list: ProblemType[] = ['rate-limited'];
  if (op.auth === 'bearer' || op.auth === 'admin') list.push('unauthorized');
  if (op.auth === 'admin') list.push('forbidden');
  if (op.body || op.method !== 'get') list.push('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type');
  if (op.params || op.query) list.push('validation-error');
  if (op.idempotent) list.push('validation-error', 'idempotency-key-in-flight', 'idempotency-key-reused');
  return list;
}

function headerRefs(names: string[]): Record<string, unknown> {
  return Object.fromEntries([REQUEST_ID_HEADER, ...names].map((n) => [n, { $ref: `#/components/headers/${n}` }]));
}

function operationObject(op: Operation): Record<string, unknown> {
  const parameters: unknown[] = [{ $ref: '#/components/parameters/RequestId' }];
  for (const [where, schema] of [
    ['path', op.params],
    ['query', op.query],
  ] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema, 'input');
    const props = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
    const required = new Set((js.required ?? []) as string[]);
    if (!js.properties && where === 'query') {
      parameters.push({
        name: 'filters',
        in: 'query',
        style: 'form',
        explode: true,
        schema: { type: 'object', additionalProperties: { type: 'string' } },
        description: (js as { description?: string }).description,
      });
      continue;
    }
    for (const [name, prop] of Object.entries(props)) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: prop,
        ...(prop.description ? { description: prop.description } : {}),
      });
    }
  }
  if (op.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  if (op.auth === 'wms-signature') parameters.push({ name: WMS_SIGNATURE_HEADER, in: 'header', required: true, schema: { type: 'string' } });

  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    responses[status] = {
      description: spec.description,
      headers: headerRefs(spec.headers ?? []),
      ...(spec.links
        ? { links: Object.fromEntries(Object.entries(spec.links).map(([operationId, parameters]) => [operationId, { operationId, parameters }])) }
        : {}),
      ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: jsonSchema(spec.schema, 'output') } } } : {}),
    };
  }
  const problems = [...new Set([...commonProblems(op), ...op.problems])];
  const byStatus = new Map<number, ProblemType[]>();
  for (const p of problems) byStatus.set(PROBLEMS[p].status, [...(byStatus.get(PROBLEMS[p].status) ?? []), p]);
  for (const [status, types] of [...byStatus].sort(([a], [b]) => a - b)) {
    const extra =
      status === 401 ? ['WWW-Authenticate'] : status === 429 || status === 503 || types.includes('idempotency-key-in-flight') ? ['Retry-After'] : [];
    responses[String(status)] = {
      description: types.map((t) => `\`${problemUri(t)}\` — ${PROBLEMS[t].title}`).join('; '),
      headers: headerRefs(extra),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  responses.default = {
    description: `Unexpected failure: \`${problemUri('internal')}\` (500) or \`${problemUri('temporarily-unavailable')}\` (503). The body never carries internals; quote the requestId.`,
    headers: headerRefs(['Retry-After']),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };

  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: op.auth === 'none' ? [] : op.auth === 'wms-signature' ? [{ wmsSignature: [] }] : [{ bearerAuth: [] }],
    ...(op.auth === 'admin' ? { 'x-required-role': 'admin' } : op.auth === 'bearer' ? { 'x-required-role': 'customer' } : {}),
    parameters,
    ...(op.body ? { requestBody: { required: op.bodyRequired ?? true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
    responses,
  };
}

const DESCRIPTION = `The closetflow member API: sign up, order boxes of rented clothes, buy or return them.

**Auth.** \`POST /v1/auth/signup\` e-mails the address a verification token; \`POST /v1/auth/verify\` with it creates the member. Verify and \`POST /v1/auth/login\` answer an access token (JWT, valid \`expiresIn\` seconds, default 15 min) and a refresh token (valid 30 days). Send \`Authorization: Bearer <accessToken>\`. Before it expires, \`POST /v1/auth/refresh\` with the refresh token: you get a new pair, and the old refresh token stops working (reusing it revokes the session). \`POST /v1/auth/logout\` revokes the session. Tokens are bound to one member and one role (\`customer\` or \`admin\`).

**Idempotency.** \`POST /v1/orders\` and purchases accept \`Idempotency-Key\` (IETF draft-ietf-httpapi-idempotency-key-header): the same key with the same request replays the first response (\`Idempotent-Replayed: true\`); with a different request it is 422 \`idempotency-key-reused\`; while the first is still running it is 409 \`idempotency-key-in-flight\` with \`Retry-After\`. Keys are scoped to the member and kept 24 hours (IDEMPOTENCY_KEY_TTL_HOURS); a 5xx answer is not stored, so a retry runs again; neither is a refused order (400, 403), which created nothing.

**Rate limits.** Per client IP and per member, fixed windows (RATE_LIMIT_PER_IP, RATE_LIMIT_PER_CUSTOMER per RATE_LIMIT_WINDOW_SECONDS; defaults 600 and 300 per 60 s). Over the limit: 429 \`rate-limited\` with \`Retry-After\`; \`RateLimit\` and \`RateLimit-Policy\` headers show the budget.

**Errors.** Every error is \`application/problem+json\` (RFC 9457) with a stable \`type\` URI (listed under \`x-problem-types\` and on /docs), and every response carries \`X-Request-Id\`. Unknown fields in bodies are refused (400 validation-error); bodies over 100 kB are 413. Another member's order is answered 404, exactly like an order that does not exist.`;

/** Builds the document (cheap; routes/openapi.ts caches it). */
export function buildOpenApiDocument(config: Pick<Config, 'API_PUBLIC_URL'>): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) (paths[openApiPath(op.path)] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: { title: 'closetflow API', version: '1.0.0', description: DESCRIPTION },
    servers: [{ url: config.API_PUBLIC_URL }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The accessToken from verify, login or refresh. Admin routes need a token of an admin session.',
        },
        wmsSignature: {
          type: 'apiKey',
          in: 'header',
          name: WMS_SIGNATURE_HEADER,
          description: 'HMAC-SHA256 over "<t>.<raw body>" with the shared WMS secret.',
        },
      },
      parameters: {
        RequestId: {
          name: REQUEST_ID_HEADER,
          in: 'header',
          required: false,
          description: 'Your id for this request (1-128 of A-Z a-z 0-9 . _ : -); otherwise one is generated.',
          schema: { type: 'string' },
        },
        IdempotencyKey: {
          name: IDEMPOTENCY_KEY_HEADER,
          in: 'header',
          required: false,
          description: 'Makes retries safe: a unique value (a UUID) per operation, reused only for retries of the same request. Remembered 24 hours.',
          schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
        },
      },
      headers: HEADERS,
      schemas: { Problem: problemSchema },
    },
    'x-problem-types': Object.entries(PROBLEMS).map(([name, def]) => ({ type: problemUri(name as ProblemType), status: def.status, title: def.title })),
  };
}
