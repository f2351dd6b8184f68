/**
 * In-process rate limits: fixed windows counted per key in a Map. Enough for one API process;
 * with several replicas each enforces its own share (documented in the README), and a shared
 * store (PostgreSQL or Redis) would replace `WindowCounter` without touching the middleware.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ProblemError } from './problems';
import { ctx } from './request-context';

/** Counts hits per key in fixed windows of `windowMs`; old windows are swept as time passes. */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Adds one hit; returns the count in the current window and when it resets (epoch ms). */
  hit(key: string): { count: number; resetAt: number } {
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + this.windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return { count: w.count, resetAt: w.resetAt };
  }

  /** The current count without adding a hit. */
  peek(key: string): { count: number; resetAt: number } {
    const w = this.windows.get(key);
    return w && w.resetAt > this.now() ? { count: w.count, resetAt: w.resetAt } : { count: 0, resetAt: this.now() + this.windowMs };
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const [key, w] of this.windows) if (w.resetAt <= t) this.windows.delete(key);
  }
}

/** Seconds until `resetAt`, at least 1: the value of `Retry-After`. */
export const retryAfterSeconds = (resetAt: number, now = Date.now()): number => Math.max(1, Math.ceil((resetAt - now) / 1000));

/**
 * Refuses requests over `max` per window with 429 `rate-limited` and `Retry-After`. `keyOf`
 * picks what is limited (client IP, or the authenticated member); undefined skips the request.
 */
export function rateLimit({
  name,
  max,
  windowSeconds,
  keyOf,
}: {
  name: string;
  max: number;
  windowSeconds: number;
  keyOf: (req: Request, res: Response) => string | undefined;
}): RequestHandler {
  const counter = new WindowCounter(windowSeconds * 1000);
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = keyOf(req, res);
    if (key === undefined) return next();
    const { count, resetAt } = counter.hit(key);
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
