import type { Logger } from 'pino';

/**
 * Logs each bad message once, but at most `perMinute` lines per key, then one summary of what was suppressed:
 * a device sending garbage every second must not drown the log (every message is still stored raw).
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly perMinute: number,
  ) {}

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= 60_000) {
      if (w && w.suppressed > 0) this.log.warn({ key, suppressed: w.suppressed }, 'similar messages were not logged in the last minute (all stored raw)');
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.count < this.perMinute) {
      w.count++;
      this.log.warn(fields, msg);
    } else {
      w.suppressed++;
    }
  }
}
