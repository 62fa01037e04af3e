/**
 * Drains the spool to InfluxDB, in order, one batch at a time: a batch fills up to `batchBytes`, or is sent
 * `flushMs` after the first line waiting in it. A failed write is retried with exponential back-off and jitter
 * for as long as it takes (InfluxDB down for an hour only grows the spool); a batch InfluxDB refuses as invalid is
 * logged and skipped. The checkpoint moves only after InfluxDB answered 2xx.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { isRetryable, retryAfterMs, type InfluxTarget } from './influx.ts';
import type { Spool } from './spool.ts';

export interface WriterOptions {
  batchBytes: number;
  flushMs: number;
  minRetryMs?: number;
  maxRetryMs?: number;
}

export class SpoolWriter {
  private running = false;
  private loop: Promise<void> | undefined;
  private sleeper: { done: () => void; wakeOnAppend: boolean } | undefined;
  private failures = 0;
  /** True once a write succeeded and none failed since: part of readiness. */
  healthy = false;
  lastError: string | undefined;

  constructor(
    private readonly spool: Spool,
    private readonly target: InfluxTarget,
    private readonly opts: WriterOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Called after an append: wakes the loop if it sleeps on an empty spool. */
  notify(): void {
    if (this.sleeper?.wakeOnAppend) this.sleeper.done();
  }

  /** A sleep that stop() always cuts short, and an append too when `wakeOnAppend`. */
  private sleep(ms: number, wakeOnAppend: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeper = { done, wakeOnAppend };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const pending = this.spool.pendingBytes();
      this.metrics.spoolBytes.set(pending);
      if (pending === 0) {
        await this.sleep(1000, true);
        continue;
      }
      // Let a small batch grow a little: fewer, larger writes cost InfluxDB far less.
      if (pending < this.opts.batchBytes && this.failures === 0) await this.sleep(this.opts.flushMs, false);
      const batch = this.spool.readBatch(this.opts.batchBytes);
      if (!batch) continue;
      const started = process.hrtime.bigint();
      try {
        await this.target.write(batch.body);
        this.metrics.writeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics.pointsWritten.inc(batch.lines);
        this.spool.commit(batch.end);
        if (this.failures > 0) this.log.info({ failures: this.failures, spoolBytes: this.spool.pendingBytes() }, 'InfluxDB writes resumed; draining the spool');
        this.failures = 0;
        this.healthy = true;
        this.lastError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        if (!isRetryable(err)) {
          // InfluxDB stored the valid lines and refused the rest: moving on is the only way not to block everything.
          this.metrics.writeRejected.inc(batch.lines);
          this.log.error({ err: message, lines: batch.lines, sample: batch.body.subarray(0, 300).toString() }, 'InfluxDB refused a batch as invalid; skipped');
          this.spool.commit(batch.end);
          continue;
        }
        this.failures++;
        this.healthy = false;
        this.lastError = message;
        this.metrics.writeFailures.inc();
        const delay = retryAfterMs(err) ?? this.backoff();
        // Log the first failure and then every tenth, so an outage does not flood the log.
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn({ err: message, attempt: this.failures, retryInMs: delay, spoolBytes: this.spool.pendingBytes() }, 'InfluxDB write failed; data stays in the spool');
        }
        await this.sleep(delay, false);
      }
    }
  }

  private backoff(): number {
    const min = this.opts.minRetryMs ?? 250;
    const max = this.opts.maxRetryMs ?? 10_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** Waits until the spool is empty or `timeoutMs` passes; returns the bytes left (kept on disk for next start). */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    this.sleeper?.done();
    while (this.spool.pendingBytes() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.spool.pendingBytes();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper?.done();
    await this.loop;
  }
}
