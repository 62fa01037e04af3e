/**
 * Gives memory back once a burst is over. V8 keeps what it grew for a burst (start-up, a backlog replayed after an
 * outage, a benchmark): heap it no longer uses and pages it no longer counts in its heap at all, and its own memory
 * reducer did not hand them back here (Node 24, measured for minutes). So once ingestion is quiet after a burst, or
 * whenever the heap holds much more than it uses, one last-resort collection (compacting, memory-reducing, about
 * 60 ms) returns them: at rest after start-up 158–163 → 112–115 MB, 15 s after 100,000 uplinks 201–207 → 136 MB
 * (`npm run bench`, docs/performance.md). It needs node's --expose-gc (SERVICE_NODE_FLAGS, as in the Dockerfile);
 * without it, or while uplinks keep coming, it does nothing.
 */
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';

export interface MemoryTrimOptions {
  /** A number that grows with the work done (bytes appended to the spool): unchanged enough means quiet. */
  activity: () => number;
  log: Logger;
  everyMs?: number;
  /** At most this much activity during the last interval for the service to count as quiet. */
  quietBelow?: number;
  /** Heap committed beyond what is used that is worth a collection. */
  slackBytes?: number;
  /** Within one quiet spell, collections at least this far apart (a report or a console page can grow the heap again). */
  minGapMs?: number;
  /** After a new burst, at least this long since the last collection (a rate hovering at the threshold). */
  minGapAfterBurstMs?: number;
  /** The collection and the heap's figures: node's own unless a test gives others. */
  collect?: Collect;
  heap?: () => { total_heap_size: number; used_heap_size: number };
}

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export function startMemoryTrim(opts: MemoryTrimOptions): { stop(): void } {
  const collect = opts.collect ?? (globalThis as { gc?: Collect }).gc;
  const heap = opts.heap ?? getHeapStatistics;
  if (typeof collect !== 'function') {
    opts.log.debug('node runs without --expose-gc: the heap is not trimmed after bursts');
    return { stop() {} };
  }
  const { everyMs = 5_000, quietBelow = 128 * 1024, slackBytes = 24 * 2 ** 20, minGapMs = 600_000, minGapAfterBurstMs = 60_000 } = opts;
  let last = opts.activity();
  // If the heap stays large after a collection, collecting again at every check would only cost CPU: once per quiet
  // spell, then at most every minGapMs.
  let lastTrimAt = Number.NEGATIVE_INFINITY;
  let afterBurst = false;
  const timer = setInterval(() => {
    const now = opts.activity();
    const work = now - last;
    last = now;
    if (work > quietBelow) {
      afterBurst = true;
      return;
    }
    if (Date.now() - lastTrimAt < (afterBurst ? minGapAfterBurstMs : minGapMs)) return;
    const before = heap();
    // After a burst, always: V8 keeps pages it no longer counts in its heap (pooled), which only such a collection
    // hands back; otherwise only when the heap itself holds much more than it uses.
    if (!afterBurst && before.total_heap_size - before.used_heap_size < slackBytes) return;
    afterBurst = false;
    const started = performance.now();
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    lastTrimAt = Date.now();
    const after = heap();
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    opts.log.debug({ heapMb: { before: mb(before.total_heap_size), after: mb(after.total_heap_size), used: mb(after.used_heap_size) }, ms: Math.round(performance.now() - started) }, 'heap trimmed after a burst');
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
