/** `requireAdmin`: after `requireAuth`, refuses any caller whose token does not carry the `admin` role (403 `forbidden`). */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { principal } from '../auth/middleware';
import { ProblemError } from '../problems';

export function requireAdmin(): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (principal(res).role !== 'admin') {
      next(new ProblemError('forbidden', 'This endpoint is for administrators only.'));
      return;
    }
    next();
  };
}
