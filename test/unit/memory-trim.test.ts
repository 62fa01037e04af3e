import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startMemoryTrim } from '../../services/memory-trim.ts';

const MB = 2 ** 20;

describe('heap trim after a burst', () => {
  let activity = 0;
  let heap = { total_heap_size: 70 * MB, used_heap_size: 33 * MB };
  const shrink = () => {
    heap = { total_heap_size: 35 * MB, used_heap_size: 33 * MB };
  };
  const collect = vi.fn(shrink);
  const start = () => startMemoryTrim({ activity: () => activity, log: pino({ level: 'silent' }), collect, heap: () => heap, everyMs: 1000, quietBelow: 100, slackBytes: 24 * MB });

  beforeEach(() => {
    vi.useFakeTimers();
    activity = 0;
    heap = { total_heap_size: 70 * MB, used_heap_size: 33 * MB };
    collect.mockReset();
    collect.mockImplementation(shrink);
  });
  afterEach(() => vi.useRealTimers());

  it('collects once when ingestion is quiet and the heap holds much more than it uses', () => {
    const trim = start();
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    expect(collect).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(1);
    trim.stop();
  });

  it('leaves a busy service alone, and trims when the burst is over', () => {
    const trim = start();
    for (let i = 0; i < 5; i++) {
      activity += 10_000;
      vi.advanceTimersByTime(1000);
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    trim.stop();
  });

  it('does not collect again in the same quiet spell when the heap stays large, but does after a new burst', () => {
    collect.mockImplementation(() => {});
    const trim = start();
    vi.advanceTimersByTime(3000);
    expect(collect).toHaveBeenCalledTimes(1);
    activity += 10_000;
    vi.advanceTimersByTime(2000);
    // A new burst right after: not before a minute has passed since the last collection.
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(120_000);
    expect(collect).toHaveBeenCalledTimes(2);
    trim.stop();
  });

  it('collects after a burst even when the heap reports little slack (V8 keeps pooled pages it no longer counts)', () => {
    heap = { total_heap_size: 40 * MB, used_heap_size: 33 * MB };
    const trim = start();
    activity += 10_000;
    vi.advanceTimersByTime(1000);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    trim.stop();
  });

  it('collects again in a long quiet spell once the gap has passed, if the heap grew again', () => {
    const trim = start();
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
    heap = { total_heap_size: 70 * MB, used_heap_size: 33 * MB };
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(540_000);
    expect(collect).toHaveBeenCalledTimes(2);
    trim.stop();
  });

  it('does nothing while the heap has little slack', () => {
    heap = { total_heap_size: 40 * MB, used_heap_size: 33 * MB };
    const trim = start();
    vi.advanceTimersByTime(5000);
    expect(collect).not.toHaveBeenCalled();
    trim.stop();
  });
});
