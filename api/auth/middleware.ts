/** `requireAuth`: accepts `Authorization: Bearer <token>` and puts `{ customerId, role }` on `res.locals.auth`. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ProblemError } from '../problems';
import { ctx } from '../request-context';
import { InvalidTokenError, type Principal, type TokenService } from './tokens';

const BEARER = /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/;

/** The authenticated caller (only inside routes behind {@link requireAuth}). */
export function principal(res: Response): Principal {
  const auth = res.locals.auth as Principal | undefined;
  if (!auth) throw new Error('principal() used on a route without requireAuth');
  return auth;
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError('unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="closetflow"' });
}

/** Refuses the request with 401 `unauthorized` unless it carries a valid access token. */
export function requireAuth(tokens: TokenService): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const match = BEARER.exec(req.get('Authorization') ?? '');
    if (!match) {
      next(unauthorized('This endpoint needs an access token: Authorization: Bearer <token>.'));
      return;
    }
    try {
      const auth = await tokens.verify(match[1]);
      res.locals.auth = auth satisfies Principal;
      ctx(res).log = ctx(res).log.child({ customerId: auth.customerId });
      next();
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      ctx(res).log.info({ reason: err.message }, 'access token refused');
      next(unauthorized('The access token is invalid or has expired.'));
    }
  };
}
