/**
 * The on-disk spool: a write-ahead journal of line protocol. An uplink is acknowledged to the broker only after its
 * lines are appended here (a write(2) to a file: it survives a crash or SIGKILL of the service; `fsyncMs` bounds what
 * an OS crash could lose). The writer drains the journal to InfluxDB in order and records how far it got in a
 * checkpoint file; on start-up the journal is replayed from that checkpoint. Re-writing a line is idempotent
 * (same measurement, tags and time), so a replay after a crash stores nothing twice.
 *
 * Layout in `dir`: segment files `<20-digit number>.lp`, and `checkpoint.json` = {segment, offset} of the first
 * byte not yet confirmed written to InfluxDB.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Above this many bytes not yet written to InfluxDB, `full` is true and the consumer stops acknowledging. */
  maxBytes: number;
  segmentBytes: number;
  /** 0 = fsync after every append (strict); otherwise at most every `fsyncMs`. */
  fsyncMs: number;
}

export interface Cursor {
  segment: number;
  offset: number;
}

export interface Batch {
  body: Buffer;
  lines: number;
  end: Cursor;
}

const SEGMENT = /^(\d{20})\.lp$/;
const name = (segment: number) => `${String(segment).padStart(20, '0')}.lp`;

export class Spool {
  private segments: number[] = [];
  private fd = -1;
  private appendSegment = 0;
  private appendOffset = 0;
  private committed: Cursor = { segment: 0, offset: 0 };
  /** Total size of the closed segments still on disk (all at or after the checkpoint's segment). */
  private closedBytes = 0;
  private readonly sizes = new Map<number, number>();
  private lastSync = 0;
  private dirty = false;
  private readFd: { segment: number; fd: number } | undefined;
  private readonly staged: string[] = [];
  private writeBuffer = Buffer.allocUnsafe(1 << 20);

  constructor(private readonly opts: SpoolOptions) {}

  /** Opens the journal, repairs a torn last line, and positions the reader at the checkpoint. Returns bytes to replay. */
  open(): number {
    mkdirSync(this.opts.dir, { recursive: true });
    this.segments = readdirSync(this.opts.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const cpFile = join(this.opts.dir, 'checkpoint.json');
    if (existsSync(cpFile)) this.committed = JSON.parse(readFileSync(cpFile, 'utf8')) as Cursor;
    if (this.segments.length === 0) this.segments.push(Math.max(1, this.committed.segment));
    // Segments entirely before the checkpoint were written already.
    for (const s of this.segments.filter((s) => s < this.committed.segment)) rmSync(join(this.opts.dir, name(s)));
    this.segments = this.segments.filter((s) => s >= this.committed.segment);
    if (this.committed.segment < this.segments[0]!) this.committed = { segment: this.segments[0]!, offset: 0 };
    this.appendSegment = this.segments[this.segments.length - 1]!;
    this.fd = openSync(join(this.opts.dir, name(this.appendSegment)), 'a+');
    this.appendOffset = this.repairTail();
    // A checkpoint can only point inside what exists (e.g. its segment was removed by hand).
    if (this.committed.segment === this.appendSegment && this.committed.offset > this.appendOffset) {
      this.committed = { segment: this.appendSegment, offset: this.appendOffset };
    }
    this.closedBytes = 0;
    for (const s of this.segments) if (s !== this.appendSegment) this.closedBytes += this.sizeOf(s);
    return this.pendingBytes();
  }

  /** A crash during a write can leave a partial last line: cut it, it was never acknowledged. */
  private repairTail(): number {
    const size = fstatSync(this.fd).size;
    if (size === 0) return 0;
    const probe = Buffer.alloc(Math.min(size, 1 << 20));
    readSync(this.fd, probe, 0, probe.length, size - probe.length);
    const lastNl = probe.lastIndexOf(0x0a);
    const keep = lastNl < 0 ? size - probe.length : size - probe.length + lastNl + 1;
    if (keep < size) {
      closeSync(this.fd);
      const path = join(this.opts.dir, name(this.appendSegment));
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, keep);
      closeSync(fd);
      this.fd = openSync(path, 'a+');
    }
    return keep;
  }

  /**
   * Bytes flushed to the journal since open(), never decreasing: `appendedBytes - pendingBytes()` then grows only as
   * InfluxDB confirms, so a caller can tell when what it flushed is in InfluxDB (the cluster mode acknowledges then).
   */
  appendedBytes = 0;

  /** Bytes appended (flushed) but not yet confirmed written to InfluxDB. */
  pendingBytes(): number {
    return this.closedBytes + this.appendOffset - this.committed.offset;
  }

  /** Bytes appended after `from` (a position at or after the checkpoint). */
  bytesAfter(from: Cursor): number {
    let bytes = (from.segment === this.appendSegment ? this.appendOffset : this.sizeOf(from.segment)) - from.offset;
    for (const s of this.segments) if (s > from.segment) bytes += s === this.appendSegment ? this.appendOffset : this.sizeOf(s);
    return bytes;
  }

  get full(): boolean {
    return this.pendingBytes() >= this.opts.maxBytes;
  }

  /**
   * Stages complete lines (each without a trailing newline) for the next `flush()`. Nothing staged may be
   * acknowledged to anyone before that flush returns.
   */
  stage(lines: readonly string[]): void {
    for (const l of lines) this.staged.push(l);
  }

  /** Writes everything staged to the journal file in one write(2). Synchronous on purpose: the acks follow it. */
  flush(): void {
    if (this.staged.length === 0) return;
    // Encode straight into a reused buffer: no joined string, no new buffer per flush (this runs per network read).
    let size = 0;
    for (const l of this.staged) size += l.length * 3 + 1;
    if (this.writeBuffer.length < size) this.writeBuffer = Buffer.allocUnsafe(Math.max(size, 2 * this.writeBuffer.length));
    const buf = this.writeBuffer;
    let end = 0;
    for (const l of this.staged) {
      end += buf.write(l, end, 'utf8');
      buf[end++] = 0x0a;
    }
    this.staged.length = 0;
    let written = 0;
    while (written < end) written += writeSync(this.fd, buf, written, end - written);
    this.appendOffset += end;
    this.appendedBytes += end;
    this.dirty = true;
    const now = Date.now();
    if (this.opts.fsyncMs === 0 || now - this.lastSync >= this.opts.fsyncMs) this.sync(now);
    if (this.appendOffset >= this.opts.segmentBytes) this.roll();
  }

  /** stage + flush. */
  append(lines: readonly string[]): void {
    this.stage(lines);
    this.flush();
  }

  sync(now = Date.now()): void {
    if (this.dirty && this.fd >= 0) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
    this.lastSync = now;
  }

  private roll(): void {
    this.sync();
    closeSync(this.fd);
    this.sizes.set(this.appendSegment, this.appendOffset);
    this.closedBytes += this.appendOffset;
    this.appendSegment += 1;
    this.segments.push(this.appendSegment);
    this.fd = openSync(join(this.opts.dir, name(this.appendSegment)), 'a+');
    this.appendOffset = 0;
  }

  /**
   * The next batch from the checkpoint, or from `from` (the end of a batch still being written, so that several
   * can be in flight): whole lines, at most `maxBytes` (one line at least), within one segment.
   */
  readBatch(maxBytes: number, from?: Cursor): Batch | undefined {
    let { segment, offset } = from ?? this.committed;
    // Skip to the next segment when the position sits at the end of a closed one.
    while (segment !== this.appendSegment && offset >= this.sizeOf(segment)) {
      if (from) ({ segment, offset } = { segment: this.nextSegment(segment), offset: 0 });
      else {
        this.advanceTo({ segment: this.nextSegment(segment), offset: 0 });
        ({ segment, offset } = this.committed);
      }
    }
    const end = segment === this.appendSegment ? this.appendOffset : this.sizeOf(segment);
    const available = end - offset;
    if (available <= 0) return undefined;
    const fd = this.readerFor(segment);
    let size = Math.min(available, maxBytes);
    let buf = Buffer.allocUnsafe(size);
    let n = readSync(fd, buf, 0, size, offset);
    let cut = buf.lastIndexOf(0x0a, n - 1);
    while (cut < 0 && size < available) {
      // A single line longer than maxBytes: read on until its end, and send it alone.
      size = Math.min(available, size * 2);
      buf = Buffer.allocUnsafe(size);
      n = readSync(fd, buf, 0, size, offset);
      cut = buf.subarray(0, n).indexOf(0x0a);
    }
    if (cut < 0) return undefined;
    const body = buf.subarray(0, cut + 1);
    let lines = 0;
    for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) lines++;
    return { body, lines, end: { segment, offset: offset + body.length } };
  }

  /** Records that everything before `end` is in InfluxDB; deletes segments left behind. */
  commit(end: Cursor): void {
    this.advanceTo(end);
    const tmp = join(this.opts.dir, 'checkpoint.json.tmp');
    writeFileSync(tmp, JSON.stringify(this.committed));
    renameSync(tmp, join(this.opts.dir, 'checkpoint.json'));
  }

  private advanceTo(end: Cursor): void {
    while (this.committed.segment < end.segment) {
      const s = this.committed.segment;
      this.closedBytes -= this.sizeOf(s);
      this.sizes.delete(s);
      if (this.readFd?.segment === s) {
        closeSync(this.readFd.fd);
        this.readFd = undefined;
      }
      rmSync(join(this.opts.dir, name(s)), { force: true });
      this.segments = this.segments.filter((x) => x !== s);
      this.committed = { segment: this.nextSegment(s), offset: 0 };
    }
    this.committed = { ...end };
  }

  private nextSegment(s: number): number {
    return this.segments.find((x) => x > s) ?? this.appendSegment;
  }

  /** Size of a closed segment (closed segments never change). */
  private sizeOf(segment: number): number {
    let size = this.sizes.get(segment);
    if (size === undefined) {
      size = fstatSize(join(this.opts.dir, name(segment)));
      this.sizes.set(segment, size);
    }
    return size;
  }

  private readerFor(segment: number): number {
    if (segment === this.appendSegment) return this.fd;
    if (this.readFd?.segment !== segment) {
      if (this.readFd) closeSync(this.readFd.fd);
      this.readFd = { segment, fd: openSync(join(this.opts.dir, name(segment)), 'r') };
    }
    return this.readFd.fd;
  }

  close(): void {
    if (this.fd >= 0) {
      this.flush();
      this.sync();
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = undefined;
  }
}

function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
