/**
 * The writer keeps several batches in flight, yet moves the checkpoint in order only, and after a failed write
 * sends again from the checkpoint: every line reaches the target, none is skipped. The target here is a function
 * (what is tested is the ordering logic); the fault tests run the same writer against a real InfluxDB.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../services/metrics.ts';
import type { InfluxTarget } from '../../services/storage/influx.ts';
import { Spool } from '../../services/storage/spool.ts';
import { SpoolWriter } from '../../services/storage/writer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('writer pipeline', () => {
  it('writes batches concurrently, commits in order, and after a failure resends from the checkpoint', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 30, segmentBytes: 4096, fsyncMs: 0 });
    spool.open();
    for (let i = 0; i < 500; i++) spool.append([`m v=${i} ${i}`]);
    const stored = new Set<number>();
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const checkpoints: number[] = [];
    const target = {
      async write(body: Buffer) {
        const call = ++calls;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Later batches finish first (shorter waits), and the 3rd call fails once.
        await new Promise((r) => setTimeout(r, call % 2 ? 15 : 2));
        inFlight--;
        if (call === 3) throw Object.assign(new Error('InfluxDB unavailable'), { status: 503 });
        for (const l of body.toString().trimEnd().split('\n')) stored.add(Number(/v=(\d+)/.exec(l)![1]));
        const file = join(dir, 'checkpoint.json');
        const cp = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { segment: number; offset: number }) : { segment: 0, offset: 0 };
        checkpoints.push(cp.segment * 1e9 + cp.offset);
      },
    } as unknown as InfluxTarget;
    const writer = new SpoolWriter(spool, target, { batchBytes: 300, flushMs: 1, minRetryMs: 1, maxRetryMs: 5, concurrency: 3 }, createMetrics(), pino({ level: 'silent' }));
    writer.start();
    await waitFor(() => spool.pendingBytes() === 0).catch((e: Error) => {
      throw new Error(`${e.message}: ${stored.size} stored, ${spool.pendingBytes()} bytes pending, ${calls} calls`);
    });
    await writer.stop();
    expect(stored.size).toBe(500);
    expect(maxInFlight).toBeGreaterThan(1);
    // The checkpoint, read at each write, never went backwards.
    expect(checkpoints).toEqual([...checkpoints].sort((a, b) => a - b));
    spool.close();
  });
});
