/**
 * A few minutes of memory for reports: the page, its frame and the downloads ask for the same report within seconds,
 * and a fleet page's radio figures over a week do not change from one minute to the next. Bounded in entries.
 */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 16;

export class ReportCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();
  constructor(
    private readonly ttlMs = CACHE_MS,
    private readonly max = CACHE_MAX,
  ) {}

  get<T>(key: string, compute: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = compute();
    this.entries.delete(key);
    this.entries.set(key, { at: now, value });
    // A failed computation is not kept: the next request tries again.
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
