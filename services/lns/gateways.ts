/**
 * When a gateway that received an uplink is worth a `gateway` point: the first time a tenant's uplink names it, when
 * it moves, and then at most once an hour (of uplink time) — enough for coverage maps, a few points per gateway a
 * day instead of one per uplink.
 */
import type { GatewayInfo } from './uplink.ts';

const EVERY_MS = 3_600_000;
const MAX_ENTRIES = 50_000;

export class GatewayLog {
  private readonly last = new Map<string, { timeMs: number; latitude?: number; longitude?: number }>();

  due(tenant: string, g: GatewayInfo, timeMs: number): boolean {
    const key = `${tenant}|${g.gatewayId}`;
    const prev = this.last.get(key);
    const moved = prev !== undefined && g.latitude !== undefined && (g.latitude !== prev.latitude || g.longitude !== prev.longitude);
    if (prev && !moved && Math.abs(timeMs - prev.timeMs) < EVERY_MS) return false;
    if (this.last.size >= MAX_ENTRIES) this.last.clear();
    this.last.set(key, { timeMs, ...(g.latitude !== undefined ? { latitude: g.latitude, longitude: g.longitude } : {}) });
    return true;
  }
}
