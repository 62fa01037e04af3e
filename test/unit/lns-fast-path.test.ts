/** The ChirpStack v4 uplink fast path gives zod's result when it accepts, and leaves every doubtful case to zod. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chirpstackV4UpSchema, fastUp } from '../../services/lns/chirpstack-v4.ts';
import { parseLnsMessage, withoutNulls } from '../../services/lns/parse.ts';

function fixture(name: string): Record<string, unknown> {
  const f = JSON.parse(readFileSync(new URL(`../fixtures/lns/${name}`, import.meta.url), 'utf8')) as { message: Record<string, unknown> };
  return withoutNulls(f.message) as Record<string, unknown>;
}

const docs = fixture('chirpstack-v4-up-docs.json');
const valid: [string, unknown][] = [
  ['documented up', docs],
  ['several gateways and an object', fixture('chirpstack-v4-up-object-multigw.json')],
  ['no time', fixture('events/chirpstack-v4-up-no-time.json')],
  ['nulls removed', fixture('events/chirpstack-v4-up-nulls.json')],
  ['nothing but deviceInfo', { deviceInfo: { devEui: '0101010101010101' } }],
  ['upper-case DevEUI, extra keys, nanosecond times', { ...docs, extra: 1, deviceInfo: { ...(docs.deviceInfo as object), devEui: 'ABCDEF0123456789' }, time: '2026-01-01T10:00:00.123456789+01:00' }],
  ['gateway without rssi, snr, location', { ...docs, rxInfo: [{ gatewayId: 'AA', nsTime: 'not a time' }] }],
];
const invalid: [string, unknown][] = [
  ['fPort 256', { ...docs, fPort: 256 }],
  ['negative fCnt', { ...docs, fCnt: -1 }],
  ['fractional dr', { ...docs, dr: 1.5 }],
  ['bad DevEUI', { ...docs, deviceInfo: { ...(docs.deviceInfo as object), devEui: '0101' } }],
  ['tag not a string', { ...docs, deviceInfo: { ...(docs.deviceInfo as object), tags: { a: 1 } } }],
  ['bad time', { ...docs, time: 'yesterday' }],
  ['rxInfo not an array', { ...docs, rxInfo: {} }],
  ['rssi as a string', { ...docs, rxInfo: [{ gatewayId: 'a', rssi: '-80' }] }],
  ['object is an array', { ...docs, object: [1] }],
  ['spreading factor as a string', { ...docs, txInfo: { frequency: 868100000, modulation: { lora: { spreadingFactor: '7' } } } }],
  ['deviceInfo not an object', { deviceInfo: 'x', fCnt: 1 }],
];

describe('ChirpStack v4 uplink fast path', () => {
  it.each(valid)('%s: same result as the zod schema', (_name, json) => {
    // fastUp completes its input in place: each side gets its own copy.
    const z = chirpstackV4UpSchema.safeParse(structuredClone(json));
    expect(z.success).toBe(true);
    const fast = fastUp(structuredClone(json));
    expect(fast).toBeDefined();
    expect(fast).toStrictEqual(z.data);
  });

  it.each(invalid)('%s: declined, and zod says what is wrong', (_name, json) => {
    const input = structuredClone(json);
    expect(fastUp(input)).toBeUndefined();
    // Declined before anything was changed: zod sees the message as it came.
    expect(input).toStrictEqual(json);
    expect(chirpstackV4UpSchema.safeParse(json).success).toBe(false);
    const out = parseLnsMessage('application/a/device/0101010101010101/event/up', Buffer.from(JSON.stringify(json)));
    expect(out.kind).toBe('rejected');
    if (out.kind === 'rejected') expect(out.detail).toMatch(/^ChirpStack v4 up: /);
  });
});
