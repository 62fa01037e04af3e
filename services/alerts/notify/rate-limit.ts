/**
 * Token bucket: a route may send `max` notifications at once, then `max` per `perMinutes` as tokens come back.
 * What goes over the limit is not dropped but held for one summary (see dispatcher.ts).
 */
import type { RateLimit } from './config.ts';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    /** Tokens regained per millisecond. */
    private readonly perMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  static fromLimit(limit: RateLimit, now?: () => number): TokenBucket {
    return new TokenBucket(limit.max, limit.max / (limit.perMinutes * 60_000), now);
  }

  private refill(): void {
    const t = this.now();
    // A clock that goes back (NTP step) regains nothing rather than losing tokens.
    if (t > this.last) this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.perMs);
    this.last = Math.max(this.last, t);
  }

  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token even if none is left (a summary sent at shutdown): the debt delays later sends. */
  forceTake(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** Milliseconds until a token is available (0 if one is). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }
}
