/** Request validation with zod: failures become one `validation-error` problem listing every issue. */
import type { Request } from 'express';
import type { z } from 'zod';
import { ProblemError } from './problems';

export type RequestPart = 'body' | 'query' | 'params' | 'header';

/** One invalid field, as listed in a validation problem's `errors`. */
export interface FieldError {
  /** Where the field is: `body`, `query`, `params` or `header`. */
  in: RequestPart;
  /** Dotted path inside that part (`address.country`); empty for the part itself. */
  path: string;
  message: string;
  code: string;
}

/** Thrown when a request part does not match its schema; mapped to 400 `validation-error`. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(readonly errors: FieldError[]) {
    super(`invalid request: ${errors.map((e) => `${e.in}${e.path ? `.${e.path}` : ''}: ${e.message}`).join('; ')}`);
  }
}

/** Converts zod issues into field errors. */
export function fieldErrors(error: z.ZodError, part: RequestPart): FieldError[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys : undefined;
    return {
      in: part,
      path: issue.path.map(String).join('.'),
      message: keys?.length ? `unknown field(s): ${keys.join(', ')}` : issue.message,
      code: issue.code,
    };
  });
}

/** Parses one part of a request or throws {@link RequestValidationError}. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, part: RequestPart): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new RequestValidationError(fieldErrors(result.error, part));
  return result.data;
}

/**
 * Parses a JSON request body. A request without a body counts as `{}` (so all-optional bodies may
 * be omitted); a body in another media type is refused with 415 rather than read as missing.
 */
export function parseBody<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  if (req.body === undefined) {
    const hasBody = Number(req.get('Content-Length') ?? 0) > 0 || req.get('Transfer-Encoding') !== undefined;
    if (hasBody) throw new ProblemError('unsupported-media-type', 'Send the request body as application/json.');
    return parseRequest(schema, {}, 'body');
  }
  return parseRequest(schema, req.body, 'body');
}
