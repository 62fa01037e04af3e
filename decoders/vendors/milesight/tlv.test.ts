import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/errors.ts';
import { ByteReader, hexToBytes } from '../../core/reader.ts';
import { decodeUplink } from '../../core/boundary.ts';
import { decodeTlv, firmwareVersion, hardwareVersion, scaled, tlvTable, type TlvEntry } from './tlv.ts';
import { em300Zld } from './em300-zld/index.ts';
import { definitions } from './index.ts';

const entries: TlvEntry[] = [
  { channel: 0x01, type: 0x75, size: 1, name: 'battery', decode: (r, ctx) => ctx.set('battery', r.u8('battery')) },
  { channel: 0x03, type: 0x67, size: 2, name: 'temperature', decode: (r, ctx) => ctx.set('temperature', scaled(r.i16le('t'), 10)) },
];
const table = tlvTable(entries);
const run = (hex: string, fPort = 85) => decodeTlv('TEST', table, { bytes: hexToBytes(hex), fPort });

describe('Milesight channel/type/value parser', () => {
  it('reads consecutive entries in any order', () => {
    expect(run('0367f6ff017564').data).toEqual({ temperature: -1, battery: 100 });
  });
  it('rejects an unknown channel/type, naming it and its offset', () => {
    expect(() => run('0175640a00')).toThrow(new DecodeError('unknown channel 0x0a type 0x00 at byte 3'));
  });
  it('rejects a value cut short, naming the field', () => {
    expect(() => run('017564036710')).toThrow(/field 'temperature' \(channel 0x03 type 0x67\) at byte 5 needs 2 byte/);
  });
  it('rejects a lone trailing byte (incomplete header)', () => {
    expect(() => run('01756403')).toThrow(/channel\/type header at byte 3 needs 2 bytes/);
  });
  it('rejects another port and an empty payload', () => {
    expect(() => run('017564', 1)).toThrow(/fPort 1/);
    expect(() => run('')).toThrow(/empty payload/);
  });
  it('warns when an entry repeats, keeping the last value', () => {
    const r = run('017564017532');
    expect(r.data.battery).toBe(50);
    expect(r.warnings.join()).toMatch(/appears twice/);
  });
  it('refuses a table with the same channel/type twice', () => {
    expect(() => tlvTable([...entries, entries[0]!])).toThrow(/defined twice/);
  });
});

describe('Milesight value helpers', () => {
  it('scales without float noise', () => {
    expect(scaled(627, 100)).toBe(6.27);
    expect(scaled(10086, 10)).toBe(1008.6);
    expect(scaled(-15, 10)).toBe(-1.5);
  });
  it('formats versions as the documents do', () => {
    expect(hardwareVersion(new ByteReader(hexToBytes('0310')))).toBe('v3.1');
    expect(firmwareVersion(new ByteReader(hexToBytes('0110')))).toBe('v1.10');
    expect(firmwareVersion(new ByteReader(hexToBytes('0301')))).toBe('v3.1');
  });
});

describe('Milesight models through the boundary', () => {
  it('gives a negative temperature from INT16', () => {
    const r = decodeUplink(em300Zld, { bytes: hexToBytes('0367f6ff'), fPort: 85 });
    expect(r.readings).toEqual([{ quantity: 'air.temperature', value: -1 }]);
  });
  it('every model rejects a frame with an unknown entry as a whole (no half-decoded readings)', () => {
    for (const d of definitions) {
      const r = decodeUplink(d, { bytes: hexToBytes('017564fe00'), fPort: 85 });
      expect(r.errors.length, d.model).toBeGreaterThan(0);
      expect(r.readings, d.model).toEqual([]);
    }
  });
});
