import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../../services/storage/spool.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (segmentBytes = 1 << 20, maxBytes = 1 << 30) => {
  const s = new Spool({ dir, maxBytes, segmentBytes, fsyncMs: 0 });
  s.open();
  return s;
};

function drain(s: Spool, maxBytes = 64): string[] {
  const out: string[] = [];
  for (let b = s.readBatch(maxBytes); b; b = s.readBatch(maxBytes)) {
    out.push(...b.body.toString().trimEnd().split('\n'));
    s.commit(b.end);
  }
  return out;
}

describe('spool', () => {
  it('returns appended lines in order, in whole-line batches, and forgets committed ones', () => {
    const s = open();
    for (let i = 0; i < 100; i++) s.append([`m v=${i} ${i}`]);
    expect(s.pendingBytes()).toBeGreaterThan(0);
    const lines = drain(s);
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `m v=${i} ${i}`));
    expect(s.pendingBytes()).toBe(0);
    expect(s.readBatch(64)).toBeUndefined();
    s.close();
  });

  it('rolls segments, deletes drained ones, and keeps order across them', () => {
    const s = open(200);
    for (let i = 0; i < 50; i++) s.append([`m v=${i} ${i}`, `n v=${i} ${i}`]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeGreaterThan(3);
    const lines = drain(s, 1000);
    expect(lines.length).toBe(100);
    expect(lines[0]).toBe('m v=0 0');
    expect(lines[99]).toBe('n v=49 49');
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBe(1);
    expect(s.pendingBytes()).toBe(0);
    s.close();
  });

  it('replays from the checkpoint after a restart: nothing committed is sent again, nothing pending is lost', () => {
    const s = open(300);
    for (let i = 0; i < 40; i++) s.append([`m v=${i} ${i}`]);
    const first = s.readBatch(100)!;
    s.commit(first.end);
    const sent = first.lines;
    s.close(); // as if killed: the uncommitted rest must come back

    const again = open(300);
    const rest = drain(again, 100);
    expect(sent + rest.length).toBe(40);
    expect(rest[0]).toBe(`m v=${sent} ${sent}`);
    again.close();
  });

  it('cuts a torn last line left by a crash in the middle of a write', () => {
    const s = open();
    s.append(['m v=1 1', 'm v=2 2']);
    s.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.lp'))!;
    appendFileSync(join(dir, seg), 'm v=3'); // no newline: the write never completed
    const again = open();
    expect(drain(again)).toEqual(['m v=1 1', 'm v=2 2']);
    again.append(['m v=4 4']);
    expect(drain(again)).toEqual(['m v=4 4']);
    again.close();
  });

  it('reports full at its size bound, so the consumer stops acknowledging', () => {
    const s = open(1 << 20, 1000);
    while (!s.full) s.append(['m v=1234567890 1']);
    expect(s.pendingBytes()).toBeGreaterThanOrEqual(1000);
    const b = s.readBatch(500)!;
    s.commit(b.end);
    expect(s.full).toBe(false);
    s.close();
  });

  it('returns a line longer than the batch size whole', () => {
    const s = open();
    const long = `m s="${'x'.repeat(500)}" 1`;
    s.append([long, 'm v=2 2']);
    const b = s.readBatch(100)!;
    expect(b.body.toString()).toBe(`${long}\n`);
    s.close();
  });
});
