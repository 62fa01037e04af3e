/**
 * Failed sign-ins per client address: a key guesser gets a few tries, then waits. Fixed window per address,
 * bounded map (the oldest addresses go first), so a flood of addresses cannot grow memory without end.
 */
export class FailureThrottle {
  private readonly byAddress = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 15 * 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds to wait before trying again, or 0 when the address may try. */
  retryAfterMs(address: string, now = Date.now()): number {
    const e = this.byAddress.get(address);
    if (!e || e.resetAt <= now) return 0;
    return e.count >= this.maxFailures ? e.resetAt - now : 0;
  }

  fail(address: string, now = Date.now()): void {
    let e = this.byAddress.get(address);
    if (!e || e.resetAt <= now) {
      if (this.byAddress.size >= this.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
      e = { count: 0, resetAt: now + this.windowMs };
      this.byAddress.set(address, e);
    }
    e.count++;
  }

  succeed(address: string): void {
    this.byAddress.delete(address);
  }
}
