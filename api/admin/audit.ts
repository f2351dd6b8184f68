/**
 * The admin audit trail: every call under `/admin` (refused ones included) becomes one
 * `admin.audit_log` row with who (the token's customer id), what (method and route), about what
 * (target), why (reason), the request id, the answered status and outcome.
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../../db/client';
import { auditLog } from '../../db/schema/admin';
import { principal } from '../auth/middleware';
import { toProblem } from '../errors';
import { ctx } from '../request-context';

/** What a route adds to its audit row. */
export interface AuditNote {
  /** A stable name for the call (`reset-workflow`); the method and path when a route gives none. */
  action?: string;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
  /** The problem type answered, when the call failed. */
  problemType?: string;
}

/** Adds to the audit row of this request (merged; later notes win). */
export function audit(res: Response, note: AuditNote): void {
  const current = (res.locals.audit ?? {}) as AuditNote;
  res.locals.audit = { ...current, ...note, details: { ...current.details, ...note.details } } satisfies AuditNote;
}

/** An error middleware for admin routers: notes the problem type in the audit row, then passes the error on. */
export function auditFailure(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  audit(res, { problemType: toProblem(err)?.problemType ?? 'internal' });
  next(err);
}

/** Must run after `requireAuth` (the actor is the token's customer id). */
export function auditTrail({ db }: { db: Db }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const actorId = principal(res).customerId;
    const { requestId } = ctx(res);
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      const note = (res.locals.audit ?? {}) as AuditNote;
      const action = note.action ?? `${req.method} ${req.originalUrl.split('?')[0]}`;
      const failed = note.problemType ?? (res.statusCode === 403 ? 'forbidden' : `http-${res.statusCode}`);
      // Closed before the answer was sent: the call may still complete; a reset's reason in Temporal
      // names the admin and this request id, so the two can be matched.
      const outcome = !res.writableFinished ? 'aborted' : res.statusCode < 400 ? 'ok' : failed;
      db.insert(auditLog)
        .values({
          actorId,
          action,
          target: note.target ?? null,
          reason: note.reason ?? null,
          requestId,
          status: res.statusCode,
          outcome,
          details: note.details ?? {},
        })
        .catch((err: unknown) => ctx(res).log.error({ err, action }, 'admin audit row not written'));
    };
    // `close` without `finish`: the caller went away, but the call (a reset, say) may have happened.
    res.once('finish', write);
    res.once('close', write);
    next();
  };
}

/** Audit entries, newest first: one actor's or one target's, before a cursor (an entry id). */
export async function auditEntries(db: Db, q: { actorId?: string; target?: string; before?: number; limit: number }) {
  return db
    .select()
    .from(auditLog)
    .where(
      and(
        q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
        q.target ? eq(auditLog.target, q.target) : undefined,
        q.before !== undefined ? lt(auditLog.id, q.before) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(q.limit);
}
