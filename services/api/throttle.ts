/**
 * Throttling per client address, checked before authentication so that requests without a valid key cost an
 * attacker as much as any other: a general budget of requests per minute, and a stricter one of failed
 * authentications per 15 minutes (a key guesser gets a few tries, then waits, whatever it presents next). Fixed
 * windows in bounded maps (the oldest addresses go first): a flood of addresses cannot grow memory without end.
 * The client address is Fastify's `req.ip`, which honours `HTTP_TRUST_PROXY` behind a reverse proxy.
 */

export class FixedWindow {
  private readonly byAddress = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Counts one more for the address. */
  add(address: string, now = Date.now()): { count: number; resetAt: number } {
    let e = this.byAddress.get(address);
    if (!e || e.resetAt <= now) {
      this.byAddress.delete(address);
      if (this.byAddress.size >= this.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
      e = { count: 0, resetAt: now + this.windowMs };
      this.byAddress.set(address, e);
    }
    e.count++;
    return e;
  }

  /** Counts a request and says whether it is within the budget. */
  take(address: string, now = Date.now()): { allowed: boolean; remaining: number; resetInMs: number } {
    const e = this.add(address, now);
    return { allowed: e.count <= this.max, remaining: Math.max(0, this.max - e.count), resetInMs: e.resetAt - now };
  }

  /** Milliseconds to wait before trying again, or 0 when the address is within its budget. */
  retryAfterMs(address: string, now = Date.now()): number {
    const e = this.byAddress.get(address);
    if (!e || e.resetAt <= now) return 0;
    return e.count >= this.max ? e.resetAt - now : 0;
  }

  /** Same methods as the console's sign-in throttle (services/console/throttle.ts), so it can share this budget. */
  fail(address: string, now = Date.now()): void {
    this.add(address, now);
  }

  succeed(address: string): void {
    this.byAddress.delete(address);
  }
}

export const AUTH_FAILURE_WINDOW_MS = 15 * 60_000;

export class RequestThrottle {
  /** Every request but the health probes, per address and minute. */
  readonly requests: FixedWindow;
  /** Presented keys (or console sign-ins) that did not authenticate, per address and 15 minutes. */
  readonly authFailures: FixedWindow;

  constructor(opts: { requestsPerMinute: number; authFailuresPer15Min: number }) {
    this.requests = new FixedWindow(opts.requestsPerMinute, 60_000);
    this.authFailures = new FixedWindow(opts.authFailuresPer15Min, AUTH_FAILURE_WINDOW_MS);
  }
}

export const DEFAULT_AUTH_FAILURES_PER_15_MIN = 20;

/**
 * The instance's throttle, made on first use and kept on the deps: the API's auth hook and the console's sign-in
 * page count failures in the same budget (`requestThrottle(deps).authFailures`).
 */
// The two budgets only (a structural type: deps.ts imports this module, so importing ApiOptions back would be a cycle).
export function requestThrottle(deps: {
  options: { rateLimitPerMinute: number; authFailuresPer15Min?: number | undefined };
  throttle?: RequestThrottle | undefined;
}): RequestThrottle {
  deps.throttle ??= new RequestThrottle({ requestsPerMinute: deps.options.rateLimitPerMinute, authFailuresPer15Min: deps.options.authFailuresPer15Min ?? DEFAULT_AUTH_FAILURES_PER_15_MIN });
  return deps.throttle;
}

/** At most `max` at once; the rest are refused rather than queued (a queue of year-long backtests helps nobody). */
export class ConcurrencyLimit {
  private running = 0;

  constructor(readonly max: number) {}

  get active(): number {
    return this.running;
  }

  /** Runs `fn` when a slot is free; undefined without running it when none is. */
  tryRun<T>(fn: () => Promise<T>): Promise<T> | undefined {
    if (this.running >= this.max) return undefined;
    this.running++;
    return Promise.resolve()
      .then(fn)
      .finally(() => {
        this.running--;
      });
  }
}
