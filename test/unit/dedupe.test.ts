import { describe, expect, it } from 'vitest';
import { RecentUplinks } from '../../services/pipeline/dedupe.ts';

describe('recent uplinks', () => {
  it('flags a redelivered uplink, not a new one', () => {
    const r = new RecentUplinks();
    expect(r.check('a', 1, 1000)).toBe(false);
    expect(r.check('a', 2, 2000)).toBe(false);
    expect(r.check('a', 1, 1000)).toBe(true);
    expect(r.check('b', 1, 1000)).toBe(false);
  });

  it('does not take a frame counter reset (rejoin) for a duplicate', () => {
    const r = new RecentUplinks();
    expect(r.check('a', 0, 1000)).toBe(false);
    expect(r.check('a', 0, 900_000)).toBe(false);
  });

  it('remembers the last uplinks of each device, then forgets the oldest', () => {
    const r = new RecentUplinks();
    for (let f = 0; f < 20; f++) r.check('a', f, f * 60_000);
    expect(r.check('a', 19, 19 * 60_000)).toBe(true);
    expect(r.check('a', 12, 12 * 60_000)).toBe(true);
    expect(r.check('a', 0, 0)).toBe(false);
  });
});
