/**
 * Remembers each device's last few uplinks to count duplicates (QoS 1 redelivery, an LNS re-publishing). Storage is
 * idempotent anyway: a duplicate not caught here (e.g. after a restart) rewrites the same points.
 * An uplink is the same when DevEUI, frame counter and LNS reception time match, so a device whose counter
 * restarted after a rejoin is not mistaken for a duplicate.
 */
const PER_DEVICE = 8;

export class RecentUplinks {
  private readonly byDevice = new Map<string, { fCnt: Int32Array; time: Float64Array; next: number }>();

  constructor(private readonly maxDevices = 100_000) {}

  /** True when the uplink was already seen; remembers it otherwise. */
  check(devEui: string, fCnt: number, timeMs: number): boolean {
    let ring = this.byDevice.get(devEui);
    if (!ring) {
      if (this.byDevice.size >= this.maxDevices) this.byDevice.clear();
      ring = { fCnt: new Int32Array(PER_DEVICE).fill(-1), time: new Float64Array(PER_DEVICE), next: 0 };
      this.byDevice.set(devEui, ring);
    }
    for (let i = 0; i < PER_DEVICE; i++) if (ring.fCnt[i] === (fCnt | 0) && ring.time[i] === timeMs) return true;
    ring.fCnt[ring.next] = fCnt | 0;
    ring.time[ring.next] = timeMs;
    ring.next = (ring.next + 1) % PER_DEVICE;
    return false;
  }
}
