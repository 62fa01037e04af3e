/**
 * RFC 3339 → Date. Network servers print nanoseconds ("2025-01-01T00:00:00.997000000+00:00"); JavaScript keeps
 * milliseconds, which is the precision Veilleur stores (two uplinks of one device are always > 1 ms apart).
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const zone = m[4] === 'z' ? 'Z' : m[4];
  const d = new Date(`${m[1]}T${m[2]}.${ms}${zone}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
