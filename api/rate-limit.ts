/**
 * Rate limits shared by every API process: fixed windows counted per key in PostgreSQL
 * (store/api/rate-windows.ts), so N replicas together enforce one budget instead of N. One upsert
 * per counted request; a window ends on the database's clock, the same for every replica.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/client';
import { clearWindow, hitWindow, peekWindow, sweepWindows, type WindowState } from '../store/api/rate-windows';
import { ProblemError } from './problems';
import { ctx } from './request-context';

/** Counts hits per key in fixed windows of `windowSeconds`, in the shared store; keys are namespaced by `name`. */
export class WindowCounter {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly windowSeconds: number,
  ) {}

  /** Adds one hit; the count in the current window and when it resets (epoch ms). */
  async hit(key: string): Promise<WindowState> {
    this.sweep();
    return hitWindow(this.db, `${this.name}:${key}`, this.windowSeconds);
  }

  /** The current count without adding a hit. */
  peek(key: string): Promise<WindowState> {
    return peekWindow(this.db, `${this.name}:${key}`, this.windowSeconds);
  }

  reset(key: string): Promise<void> {
    return clearWindow(this.db, `${this.name}:${key}`);
  }

  /** Now and then (once a window per process), ended windows are deleted; a failed sweep is the next one's. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.windowSeconds * 1000) return;
    this.lastSweep = now;
    sweepWindows(this.db).catch(() => undefined);
  }
}

/** Seconds until `resetAt`, at least 1: the value of `Retry-After`. */
export const retryAfterSeconds = (resetAt: number, now = Date.now()): number => Math.max(1, Math.ceil((resetAt - now) / 1000));

/**
 * Refuses requests over `max` per window with 429 `rate-limited` and `Retry-After`. `keyOf`
 * picks what is limited (client IP, or the authenticated member); undefined skips the request.
 * If the store cannot be reached the request goes through (logged): a limit must not turn a
 * database hiccup into an outage of its own.
 */
export function rateLimit({
  db,
  name,
  max,
  windowSeconds,
  keyOf,
}: {
  db: Db;
  name: string;
  max: number;
  windowSeconds: number;
  keyOf: (req: Request, res: Response) => string | undefined;
}): RequestHandler {
  const counter = new WindowCounter(db, `rate:${name}`, windowSeconds);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = keyOf(req, res);
    if (key === undefined) return next();
    let window: WindowState;
    try {
      window = await counter.hit(key);
    } catch (err) {
      ctx(res).log.warn({ err, limit: name }, 'rate limit store unreachable: request let through');
      return next();
    }
    const { count, resetAt } = window;
    res.setHeader('RateLimit-Policy', `${max};w=${windowSeconds}`);
    res.setHeader('RateLimit', `limit=${max}, remaining=${Math.max(0, max - count)}, reset=${retryAfterSeconds(resetAt)}`);
    if (count > max) {
      if (count === max + 1) ctx(res).log.warn({ limit: name, max, windowSeconds }, 'rate limit reached');
      const retryAfter = String(retryAfterSeconds(resetAt));
      return next(
        new ProblemError(
          'rate-limited',
          `More than ${max} requests in ${windowSeconds} s (${name}); retry after ${retryAfter} s.`,
          {},
          { 'Retry-After': retryAfter },
        ),
      );
    }
    next();
  };
}
