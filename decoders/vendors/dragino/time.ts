/**
 * Device timestamps in Dragino frames: a 4-byte big-endian Unix time (seconds, UTC), shown by Dragino's own decoders
 * as "YYYY-MM-DD HH:MM:SS" in UTC. A device whose clock was never synchronised (SYNCMOD) sends times near 1970 or 2000,
 * so a reading only takes the device time when it is plausible.
 */
const EARLIEST = Date.UTC(2016, 0, 1);
const MAX_AHEAD_MS = 24 * 3600 * 1000;

export function draginoTimeString(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The device time as a Date, or undefined when it cannot be right (before 2016, or more than a day after reception). */
export function plausibleTime(unixSeconds: number, recvTime?: Date): Date | undefined {
  const ms = unixSeconds * 1000;
  if (ms < EARLIEST) return undefined;
  if (recvTime && ms > recvTime.getTime() + MAX_AHEAD_MS) return undefined;
  return new Date(ms);
}
