/**
 * Remembers recently seen uplinks to count duplicates (QoS 1 redelivery, an LNS re-publishing). Storage is
 * idempotent anyway: a duplicate that is not caught here (e.g. after a restart) rewrites the same points.
 * Key: DevEUI, frame counter and the LNS reception time, so a device whose counter restarted after a rejoin is
 * not mistaken for a duplicate.
 */
export class RecentUplinks {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 200_000) {}

  /** True when the uplink was already seen; remembers it otherwise. */
  check(devEui: string, fCnt: number, timeMs: number): boolean {
    const key = `${devEui}:${fCnt}:${timeMs}`;
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      // A Set iterates in insertion order: drop the oldest.
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return false;
  }
}
