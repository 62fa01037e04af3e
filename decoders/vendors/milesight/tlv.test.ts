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
  it('stops at an unknown channel/type, keeping the entries before it and naming the offset', () => {
    const r = run('0175640a0001');
    expect(r.data).toEqual({ battery: 100 });
    expect(r.undecodedFrom).toBe(3);
    expect(r.warnings).toEqual(['TEST: byte 3: unknown channel 0x0a type 0x00; 3 byte(s) from there not decoded (0a0001)']);
  });
  it('stops at a value cut short, naming the field', () => {
    const r = run('017564036710');
    expect(r.data).toEqual({ battery: 100 });
    expect(r.warnings.join()).toMatch(/byte 3: field 'temperature' \(channel 0x03 type 0x67\) at byte 5 needs 2 byte/);
  });
  it('stops at a lone trailing byte (incomplete header)', () => {
    const r = run('01756403');
    expect(r.undecodedFrom).toBe(3);
    expect(r.warnings.join()).toMatch(/byte 3: a channel\/type header needs 2 bytes/);
  });
  it('reads a frame on another port when its first entry is known, and rejects it otherwise', () => {
    expect(run('017564', 3).data).toEqual({ battery: 100 });
    expect(() => run('0a0001', 3)).toThrow(/fPort 3 is not an uplink port .* does not start with one of its channel\/type entries/);
  });
  it('rejects an empty payload', () => {
    expect(() => run('')).toThrow(new DecodeError('empty payload, expected at least one channel/type/value entry'));
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
  it('every model rejects a frame that starts with an unknown entry (nothing to keep)', () => {
    for (const d of definitions) {
      const r = decodeUplink(d, { bytes: hexToBytes('fe00017564'), fPort: 85 });
      expect(r.errors.join(), d.model).toMatch(/nothing could be decoded: .*byte 0: unknown channel 0xfe type 0x00/);
      expect(r.readings, d.model).toEqual([]);
    }
  });
});
