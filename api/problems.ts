/**
 * Every problem type the API answers with (RFC 9457 `application/problem+json`), in one place.
 * A problem's `type` is a stable URI clients can switch on; `title` never varies per occurrence,
 * `detail` does.
 */

export const PROBLEM_BASE_URI = 'https://closetflow.dev/problems/';

export const PROBLEMS = {
  'validation-error': { status: 400, title: 'Your request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'bad-request': { status: 400, title: 'Bad request' },
  'invalid-verification-token': { status: 400, title: 'The verification token is not valid' },
  unauthorized: { status: 401, title: 'Authentication required' },
  'invalid-credentials': { status: 401, title: 'Email or password is incorrect' },
  'invalid-refresh-token': { status: 401, title: 'The refresh token is invalid, expired or revoked' },
  'invalid-signature': { status: 401, title: 'The webhook signature is not valid' },
  forbidden: { status: 403, title: 'You are not allowed to do this' },
  'membership-suspended': { status: 403, title: 'Your membership is suspended' },
  'not-found': { status: 404, title: 'Not found' },
  'email-taken': { status: 409, title: 'An account with this email already exists' },
  'order-not-cancellable': { status: 409, title: 'The order can no longer be cancelled' },
  'return-not-allowed': { status: 409, title: 'The box cannot be returned now' },
  'purchase-not-allowed': { status: 409, title: 'This item cannot be bought now' },
  'already-purchased': { status: 409, title: 'This item is already bought' },
  'charge-not-retryable': { status: 409, title: 'The charge is not waiting for a retry' },
  'idempotency-key-in-flight': { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  'verification-token-expired': { status: 410, title: 'The verification token has expired or was already used' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used with a different request' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'too-many-login-attempts': { status: 429, title: 'Too many failed logins; wait before trying again' },
  'temporarily-unavailable': { status: 503, title: 'A backing service is temporarily unavailable' },
  overloaded: { status: 503, title: 'The system is behind; retry after the delay' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

/** The full `type` URI of a problem. */
export const problemUri = (type: ProblemType): string => `${PROBLEM_BASE_URI}${type}`;

/** A problem body as sent to clients. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/**
 * An error a route throws on purpose: the one error handler turns it into its problem response.
 * `extensions` are extra members of the body (e.g. `errors` for validation problems).
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;

  constructor(
    readonly problemType: ProblemType,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    /** Extra response headers, e.g. `WWW-Authenticate`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? PROBLEMS[problemType].title);
    this.status = PROBLEMS[problemType].status;
  }
}
