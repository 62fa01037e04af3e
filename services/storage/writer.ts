/**
 * Drains the spool to InfluxDB in order, with up to `concurrency` batches in flight: a batch fills up to `batchBytes`,
 * or is sent `flushMs` after the first line waiting in it. A failed write is retried with exponential back-off and jitter
 * for as long as it takes (InfluxDB down for an hour only grows the spool); a batch InfluxDB refuses as invalid is
 * logged and skipped. The checkpoint moves only after InfluxDB answered 2xx.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { isRetryable, retryAfterMs, type InfluxTarget } from './influx.ts';
import type { Batch, Cursor, Spool } from './spool.ts';

type Outcome = { kind: 'ok' } | { kind: 'refused'; err: unknown } | { kind: 'retry'; err: unknown };

export interface WriterOptions {
  batchBytes: number;
  flushMs: number;
  minRetryMs?: number;
  maxRetryMs?: number;
  /** Batches written at once (2: InfluxDB parses one while it receives the next); the checkpoint stays in order. */
  concurrency?: number;
  /**
   * Measurements whose lines are also written to another retention policy once their batch is stored (e.g.
   * `alert_event` to the long-kept `events` policy): each copy lives as long as its policy says, the original as
   * long as the default one. A copy that fails like its batch would is retried with it (writes are idempotent); one
   * whose policy is missing is logged and skipped, so a missing policy never blocks ingestion.
   */
  copies?: readonly { measurement: string; rp: string }[];
  /**
   * Measurements written only to another retention policy (the action trail to `actions`): they leave the batch
   * bound for the default one. Should that policy be missing, they go to the default one rather than be lost.
   */
  moves?: readonly { measurement: string; rp: string }[];
}

/** A batch split in two: the lines of `measurement`, and the others. */
export function splitMeasurement(body: Buffer, measurement: string): { of: Buffer | undefined; rest: Buffer } {
  const of = linesOfMeasurement(body, measurement);
  if (!of) return { of, rest: body };
  const head = Buffer.from(measurement);
  const rest: Buffer[] = [];
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length - 1;
    const next = body[start + head.length];
    if (!((next === 0x2c || next === 0x20) && body.compare(head, 0, head.length, start, start + head.length) === 0)) rest.push(body.subarray(start, end + 1));
    start = end + 1;
  }
  return { of, rest: Buffer.concat(rest) };
}

/** The lines of `measurement` in a batch, or undefined when there are none. */
export function linesOfMeasurement(body: Buffer, measurement: string): Buffer | undefined {
  const head = Buffer.from(measurement);
  if (body.indexOf(head) < 0) return undefined; // most batches hold none: one native search decides
  const parts: Buffer[] = [];
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length - 1;
    const next = body[start + head.length];
    if ((next === 0x2c || next === 0x20) && body.compare(head, 0, head.length, start, start + head.length) === 0) parts.push(body.subarray(start, end + 1));
    start = end + 1;
  }
  return parts.length > 0 ? Buffer.concat(parts) : undefined;
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
    const concurrency = Math.max(1, this.opts.concurrency ?? 2);
    const inflight: { batch: Batch; started: bigint; outcome: Promise<Outcome> }[] = [];
    /** Where the next batch starts: after the last one sent, or the checkpoint when none is in flight. */
    let next: Cursor | undefined;
    while (this.running) {
      const pending = this.spool.pendingBytes();
      this.metrics.spoolBytes.set(pending);
      if (inflight.length === 0) {
        next = undefined;
        if (pending === 0) {
          await this.sleep(1000, true);
          continue;
        }
        // Let a small batch grow a little: fewer, larger writes cost InfluxDB far less.
        if (pending < this.opts.batchBytes && this.failures === 0) await this.sleep(this.opts.flushMs, false);
      }
      // Several writes in flight keep InfluxDB busy while the next batch is read; after a failure, one at a time.
      // A partial batch is sent only when nothing else is in flight: meanwhile it grows.
      while (this.running && inflight.length < (this.failures > 0 ? 1 : concurrency)) {
        const ahead = next ? this.spool.bytesAfter(next) : this.spool.pendingBytes();
        if (ahead === 0 || (inflight.length > 0 && ahead < this.opts.batchBytes)) break;
        const batch = this.spool.readBatch(this.opts.batchBytes, next);
        if (!batch) break;
        next = batch.end;
        inflight.push({ batch, started: process.hrtime.bigint(), outcome: this.send(batch) });
      }
      const head = inflight.shift();
      if (!head) continue;
      const outcome = await head.outcome;
      if (outcome.kind !== 'retry') {
        // In order: the checkpoint only ever covers batches that InfluxDB took, and all those before them.
        this.committed(head.batch, head.started, outcome);
        continue;
      }
      // A failure: the batches sent after it are awaited and then sent again from the checkpoint (idempotent).
      await Promise.all(inflight.map((f) => f.outcome));
      inflight.length = 0;
      this.failures++;
      this.healthy = false;
      const message = (outcome.err as Error).message;
      this.lastError = message;
      this.metrics.writeFailures.inc();
      const delay = retryAfterMs(outcome.err) ?? this.backoff();
      // Log the first failure and then every tenth, so an outage does not flood the log.
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.log.warn({ err: message, attempt: this.failures, retryInMs: delay, spoolBytes: this.spool.pendingBytes() }, 'InfluxDB write failed; data stays in the spool');
      }
      await this.sleep(delay, false);
    }
    // Stopping: what is in flight still moves the checkpoint, in order, as far as it succeeded.
    for (const f of inflight) {
      const outcome = await f.outcome;
      if (outcome.kind === 'retry') break;
      this.committed(f.batch, f.started, outcome);
    }
  }

  /** One batch to InfluxDB (moves, the default policy, copies). Never rejects: says whether to retry. */
  private async send(batch: Batch): Promise<Outcome> {
    try {
      const body = await this.writeMoves(batch.body);
      if (body.length > 0) await this.target.write(body);
      await this.writeCopies(body);
      return { kind: 'ok' };
    } catch (err) {
      if (isRetryable(err)) return { kind: 'retry', err };
      // Its valid lines were stored: so are their copies (a failure here is logged, never retried).
      await this.writeCopies(batch.body).catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'copies of a refused batch not written'));
      return { kind: 'refused', err };
    }
  }

  private committed(batch: Batch, started: bigint, outcome: Exclude<Outcome, { kind: 'retry' }>): void {
    if (outcome.kind === 'refused') {
      // InfluxDB stored the valid lines and refused the rest: moving on is the only way not to block everything.
      this.metrics.writeRejected.inc(batch.lines);
      this.log.error({ err: (outcome.err as Error).message, lines: batch.lines, sample: batch.body.subarray(0, 300).toString() }, 'InfluxDB refused a batch as invalid; skipped');
      this.spool.commit(batch.end);
      return;
    }
    this.metrics.writeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.pointsWritten.inc(batch.lines);
    this.spool.commit(batch.end);
    if (this.failures > 0) this.log.info({ failures: this.failures, spoolBytes: this.spool.pendingBytes() }, 'InfluxDB writes resumed; draining the spool');
    this.failures = 0;
    this.healthy = true;
    this.lastError = undefined;
  }

  /** Writes the moved measurements to their policies; returns what is left for the default one. */
  private async writeMoves(body: Buffer): Promise<Buffer> {
    let rest = body;
    for (const { measurement, rp } of this.opts.moves ?? []) {
      const split = splitMeasurement(rest, measurement);
      if (!split.of) continue;
      try {
        await this.target.write(split.of, rp);
        rest = split.rest;
      } catch (err) {
        const message = (err as Error).message;
        if (!/retention policy not found|bucket .*not found/i.test(message)) throw err;
        this.log.error({ err: message, measurement, rp }, 'retention policy missing; these lines go to the default one instead');
      }
    }
    return rest;
  }

  private async writeCopies(body: Buffer): Promise<void> {
    for (const { measurement, rp } of this.opts.copies ?? []) {
      const lines = linesOfMeasurement(body, measurement);
      if (!lines) continue;
      try {
        await this.target.write(lines, rp);
      } catch (err) {
        const message = (err as Error).message;
        if (isRetryable(err) && !/retention policy not found|bucket .*not found/i.test(message)) throw err;
        this.log.error({ err: message, measurement, rp }, 'copy to another retention policy refused; the original is stored, the copy skipped');
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
