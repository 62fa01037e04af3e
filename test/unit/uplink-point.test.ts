/** The `uplink` point leaves out the values of nearly every uplink (issue 15); readers get them back. */
import { describe, expect, it } from 'vitest';
import type { Uplink } from '../../services/lns/uplink.ts';
import { uplinkLines } from '../../services/storage/points.ts';
import { uplinkField, UPLINK_DEFAULTS } from '../../services/storage/schema.ts';
import { meanBandwidth } from '../../services/reports/read.ts';

const meta = { tenant: 'saint-veilleur', site: 'gymnase', building: '', zone: '', role: 'meter', name: 'Compteur d’eau du gymnase' };

function uplink(over: Partial<Uplink> = {}): Uplink {
  return {
    kind: 'uplink',
    lns: 'chirpstack-v4',
    topic: 'application/a/device/0011223344556677/event/up',
    lnsTenant: '',
    applicationId: 'a',
    applicationName: 'eau',
    devEui: '0011223344556677',
    deviceName: 'compteur',
    deviceProfile: '',
    tags: {},
    fPort: 85,
    fCnt: 12,
    payload: Buffer.from('050001', 'hex'),
    receivedAt: new Date('2026-02-02T06:00:00Z'),
    timeSource: 'network_server',
    confirmed: false,
    radio: { gateways: 2, rssi: -97, snr: 4.25, spreadingFactor: 7, bandwidthHz: 125_000, frequencyHz: 868_100_000 },
    ...over,
  };
}

/** Field part of the `uplink` line, as key → raw text. */
function fields(u: Uplink): Record<string, string> {
  const line = uplinkLines(u, meta, { kind: 'empty' })[0]!;
  expect(line.startsWith('uplink,')).toBe(true);
  // Tags have escaped spaces; the fields start after the first unescaped space.
  const body = line.split(/(?<!\\) /)[1]!;
  return Object.fromEntries(body.split(',').map((kv) => kv.split('=') as [string, string]));
}

describe('uplink point', () => {
  it('leaves out 125 kHz and the network server’s time, and keeps every other radio value and the raw bytes', () => {
    const f = fields(uplink());
    expect(f).not.toHaveProperty('bandwidth_hz');
    expect(f).not.toHaveProperty('time_source');
    expect(f).toMatchObject({ f_cnt: '12i', f_port: '85i', size_bytes: '3i', payload_b64: '"BQAB"', gateways: '2i', rssi_dbm: '-97', snr_db: '4.25', sf: '7i', frequency_hz: '868100000i' });
    expect(Number(f.airtime_ms)).toBeGreaterThan(0);
  });

  it('writes any other bandwidth and time source', () => {
    const f = fields(uplink({ timeSource: 'reception', radio: { gateways: 1, spreadingFactor: 7, bandwidthHz: 250_000 } }));
    expect(f).toMatchObject({ bandwidth_hz: '250000i', time_source: '"reception"' });
    expect(fields(uplink({ timeSource: 'gateway' })).time_source).toBe('"gateway"');
  });

  it('reads an absent field as its default, and old points that carry it the same', () => {
    expect(uplinkField({}, 'time_source')).toBe('network_server');
    expect(uplinkField({ time_source: null }, 'bandwidth_hz')).toBe(UPLINK_DEFAULTS.bandwidth_hz);
    expect(uplinkField({ time_source: 'reception' }, 'time_source')).toBe('reception');
    expect(uplinkField({ bandwidth_hz: 125_000 }, 'bandwidth_hz')).toBe(125_000);
  });

  it('averages a day’s bandwidth over old and new points alike', () => {
    // New points only: 10 at 125 kHz (left out), none stored.
    expect(meanBandwidth(10, null, 0)).toBe(125_000);
    // Old points only: all stored.
    expect(meanBandwidth(10, 125_000, 10)).toBe(125_000);
    // 3 at 250 kHz stored, 1 at 125 kHz left out.
    expect(meanBandwidth(4, 250_000, 3)).toBe(218_750);
  });
});
