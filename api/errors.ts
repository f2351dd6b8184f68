/**
 * The one error handler. Every failure a route throws (or passes to `next`) ends here and becomes
 * an RFC 9457 `application/problem+json` response. Unknown errors are logged with their stack
 * and answered with a generic 500 that reveals nothing about the internals.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { FailureType } from '../workflows/failures';
import { PROBLEMS, ProblemError, problemUri, type ProblemBody } from './problems';
import { ctx } from './request-context';
import { RequestValidationError, fieldErrors } from './validation';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Answers a request no route matched. */
export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new ProblemError('not-found', `nothing at ${req.method} ${req.path}`));
}

/** The business failure type carried by an error, looking through update/activity wrappers. */
export function failureType(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return undefined;
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: number } | undefined)?.code;
    return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
  }
  return false;
}

/** Body-parser errors carry a `type`; http-errors carry `status` and `expose`. */
interface HttpishError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/** Maps any thrown value to the problem to answer with; undefined means "unexpected" (500). */
export function toProblem(err: unknown): ProblemError | undefined {
  if (err instanceof ProblemError) return err;
  if (err instanceof RequestValidationError) {
    return new ProblemError('validation-error', 'One or more fields are invalid; see errors.', { errors: err.errors });
  }
  if (err instanceof ZodError) {
    return new ProblemError('validation-error', 'One or more fields are invalid; see errors.', { errors: fieldErrors(err, 'body') });
  }
  const httpish = (typeof err === 'object' && err !== null ? err : {}) as HttpishError;
  switch (httpish.type) {
    case 'entity.parse.failed':
      return new ProblemError('malformed-json', 'The request body could not be parsed as JSON.');
    case 'entity.too.large':
      return new ProblemError('payload-too-large', 'The request body exceeds the 100kb limit.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError('unsupported-media-type', 'The request body encoding or charset is not supported.');
  }
  if (failureType(err) === FailureType.OrderNotCancellable) {
    // Either the update validator's refusal (WorkflowUpdateFailedError → ApplicationFailure) or the failure itself.
    const cause = err instanceof WorkflowUpdateFailedError && err.cause ? err.cause : err;
    return new ProblemError('order-not-cancellable', (cause as Error).message);
  }
  const refusal = failureType(err);
  const refusalProblem =
    refusal === FailureType.ReturnNotAllowed
      ? 'return-not-allowed'
      : refusal === FailureType.PurchaseNotAllowed
        ? 'purchase-not-allowed'
        : refusal === FailureType.AlreadyPurchased
          ? 'already-purchased'
          : refusal === FailureType.ChargeNotRetryable
            ? 'charge-not-retryable'
            : undefined;
  if (refusalProblem) {
    const cause = err instanceof WorkflowUpdateFailedError && err.cause ? err.cause : err;
    return new ProblemError(refusalProblem, (cause as Error).message);
  }
  if (isTemporalUnavailable(err)) {
    return new ProblemError('temporarily-unavailable', 'The workflow service did not answer in time; please retry.', {}, { 'Retry-After': '5' });
  }
  const status = httpish.status ?? httpish.statusCode;
  if (httpish.expose && status === 400) return new ProblemError('bad-request', 'The request could not be understood.');
  if (httpish.expose && status === 413) return new ProblemError('payload-too-large');
  if (httpish.expose && status === 415) return new ProblemError('unsupported-media-type');
  return undefined;
}

/** Sends a problem response. */
export function sendProblem(req: Request, res: Response, problem: ProblemError): void {
  const { requestId } = ctx(res) ?? {};
  const def = PROBLEMS[problem.problemType];
  const body: ProblemBody = {
    ...problem.extensions,
    type: problemUri(problem.problemType),
    title: def.title,
    status: def.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance: req.originalUrl.split('?')[0],
    ...(requestId ? { requestId } : {}),
  };
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.status(def.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The Express error handler (must keep four parameters). */
export function errorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    // Too late for a problem body: let Express close the connection.
    next(err);
    return;
  }
  const log = ctx(res)?.log;
  const problem = toProblem(err);
  if (problem) {
    if (problem.status >= 500) log?.warn({ err, problemType: problem.problemType }, 'request failed');
    else log?.debug({ problemType: problem.problemType, detail: problem.detail }, 'request refused');
    sendProblem(req, res, problem);
    return;
  }
  log?.error({ err }, 'unexpected error');
  sendProblem(req, res, new ProblemError('internal', 'An unexpected error occurred. Quote the request id if you report it.'));
}
