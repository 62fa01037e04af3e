import { describe, expect, it } from 'vitest';
import { decodeUplink, findDevice, type DecodeResult } from '../../decoders/index.ts';
import { hexToBytes } from '../../decoders/core/reader.ts';

/**
 * Lenient decoding, family by family (issue 12): a frame with an unknown trailing record still yields the readings
 * of the records before it plus a warning naming the byte offset; a frame that identifies itself decodes on a port
 * the installer changed, with a warning; a frame of which nothing can be parsed is still an error. Each case starts
 * from a vendor example (or a vector of the vendor's layout) stored in the model's examples.json.
 */
interface Frame {
  fPort: number;
  hex: string;
  recvTime?: string;
}
interface FamilyCase {
  vendor: string;
  model: string;
  /** A frame the model decodes cleanly on its documented port. */
  clean: Frame;
  /** Bytes no document describes, appended to `clean`. */
  trailing: string;
  /** A self-identifying frame on a port the model does not list; `sameAs` is the same frame on its documented port. */
  otherPort: Frame & { sameAs: Frame };
  /** A frame of which nothing can be parsed (unknown first record, unknown header). */
  unparseable: Frame;
}

const RECV = '2024-08-02T20:00:00Z';

const FAMILIES: FamilyCase[] = [
  {
    vendor: 'Milesight', model: 'EM300-ZLD',
    clean: { fPort: 85, hex: '03671001046871050000' },
    trailing: 'fe0102',
    otherPort: { fPort: 3, hex: '050001', sameAs: { fPort: 85, hex: '050001' } },
    unparseable: { fPort: 85, hex: 'fe0001' },
  },
  {
    vendor: 'Netvox', model: 'R718WA',
    clean: { fPort: 6, hex: '0132011E01000000000000' },
    trailing: 'aabb',
    otherPort: { fPort: 99, hex: '0132011E01000000000000', sameAs: { fPort: 6, hex: '0132011E01000000000000' } },
    unparseable: { fPort: 6, hex: '0132FF1E01000000000000' },
  },
  {
    vendor: 'Adeunis', model: 'PULSE',
    clean: { fPort: 1, hex: '46800000009f00000002' },
    trailing: 'fe01',
    otherPort: { fPort: 2, hex: '46800000009f00000002', sameAs: { fPort: 1, hex: '46800000009f00000002' } },
    unparseable: { fPort: 1, hex: 'ee8000' },
  },
  {
    vendor: 'Watteco', model: 'TH',
    clean: { fPort: 125, hex: '110A04020000290B89' },
    trailing: 'fe01',
    otherPort: { fPort: 1, hex: '110A04020000290B89', sameAs: { fPort: 125, hex: '110A04020000290B89' } },
    unparseable: { fPort: 125, hex: '11FF04020000290B89' },
  },
  {
    vendor: 'Elsys', model: 'ERS CO2',
    clean: { fPort: 5, hex: '0100E202290400270506060308' },
    trailing: 'ff00',
    otherPort: { fPort: 12, hex: '0100E202290400270506060308', sameAs: { fPort: 5, hex: '0100E202290400270506060308' } },
    unparseable: { fPort: 5, hex: 'ff00e2' },
  },
  {
    vendor: 'Elvaco', model: 'CMi4110',
    clean: { fPort: 2, hex: '000c06526761020c14978999000b2d0000000b3b0000000a5a33060a5e41050c782911036602fd170000' },
    // DIF 0x0F: a manufacturer data block, whose content no document describes.
    trailing: '0f0102',
    otherPort: {
      fPort: 3,
      hex: '000c06526761020c14978999000b2d0000000b3b0000000a5a33060a5e41050c782911036602fd170000',
      sameAs: { fPort: 2, hex: '000c06526761020c14978999000b2d0000000b3b0000000a5a33060a5e41050c782911036602fd170000' },
    },
    unparseable: { fPort: 2, hex: '000f0102' },
  },
  {
    vendor: 'Fludia', model: 'FM432e',
    clean: { fPort: 129, hex: '200004E8000A000C000F0014001400190000001E', recvTime: RECV },
    trailing: 'abcd',
    otherPort: {
      fPort: 1, hex: '69010000ffff000100020003', recvTime: RECV,
      sameAs: { fPort: 129, hex: '69010000ffff000100020003', recvTime: RECV },
    },
    unparseable: { fPort: 129, hex: 'aa00' },
  },
  {
    vendor: 'YOBIIQ', model: 'EM2101',
    clean: { fPort: 1, hex: '000165A1F08000040012D687000500003039' },
    trailing: '0BFE0000',
    otherPort: { fPort: 20, hex: 'ff090100ff0a0100ff1624016400ff0f00ff0b00', sameAs: { fPort: 50, hex: 'ff090100ff0a0100ff1624016400ff0f00ff0b00' } },
    unparseable: { fPort: 1, hex: '00FE00000000' },
  },
  {
    vendor: 'Axioma', model: 'Qalcosonic W1',
    clean: { fPort: 100, hex: '80F0A16500877E1200' },
    trailing: 'AABBCC',
    otherPort: {
      fPort: 2, hex: '80F0A16500877E1200', recvTime: '2024-01-13T02:10:00Z',
      sameAs: { fPort: 100, hex: '80F0A16500877E1200', recvTime: '2024-01-13T02:10:00Z' },
    },
    unparseable: { fPort: 100, hex: '80F0A1' },
  },
  {
    vendor: 'Quandify', model: 'CubicMeter',
    clean: { fPort: 1, hex: '49FBDF010000DE1400000000000046EDDF0106FC8B0702E2E6535455' },
    trailing: 'ff01',
    otherPort: {
      fPort: 9, hex: '650001b65d010000800000000000000000000000000000000000bfbb54575a',
      sameAs: { fPort: 6, hex: '650001b65d010000800000000000000000000000000000000000bfbb54575a' },
    },
    unparseable: { fPort: 6, hex: '3209091300001602053F' },
  },
  {
    vendor: 'Nexelec', model: 'ORIGIN',
    clean: { fPort: 56, hex: 'B2047DD6C0', recvTime: RECV },
    trailing: 'AA55',
    otherPort: { fPort: 1, hex: 'B2047DD6C0', recvTime: RECV, sameAs: { fPort: 56, hex: 'B2047DD6C0', recvTime: RECV } },
    unparseable: { fPort: 56, hex: 'A2000000000000' },
  },
  {
    vendor: 'Dragino', model: 'LWL03A',
    clean: { fPort: 2, hex: '0100000A00000A635CD2F2', recvTime: '2022-10-29T08:00:00Z' },
    trailing: 'c0ffee',
    otherPort: { fPort: 10, hex: '14010001FF0E10', sameAs: { fPort: 5, hex: '14010001FF0E10' } },
    unparseable: { fPort: 2, hex: '0100000A' },
  },
];

function decode(c: FamilyCase, f: Frame): DecodeResult {
  const device = findDevice(c.vendor, c.model);
  if (!device) throw new Error(`${c.vendor} ${c.model} is not registered`);
  return decodeUplink(device, { bytes: hexToBytes(f.hex), fPort: f.fPort, ...(f.recvTime ? { recvTime: new Date(f.recvTime) } : {}) });
}

describe('lenient decoding, for each vendor family', () => {
  it('covers every vendor family of the registry at the time of writing', () => {
    expect(new Set(FAMILIES.map((c) => c.vendor)).size).toBe(12);
  });

  for (const c of FAMILIES) {
    describe(`${c.vendor} (${c.model})`, () => {
      it('an unknown trailing record: the known readings, a warning naming its byte offset', () => {
        const clean = decode(c, c.clean);
        expect(clean.errors).toEqual([]);
        expect(clean.readings.length + clean.events.length + Object.keys(clean.data).length).toBeGreaterThan(0);
        const offset = c.clean.hex.length / 2;
        const r = decode(c, { ...c.clean, hex: c.clean.hex + c.trailing });
        expect(r.errors).toEqual([]);
        expect(r.readings).toEqual(clean.readings);
        expect(r.undecodedFrom).toBe(offset);
        const warning = r.warnings.find((w) => w.includes(`byte ${offset}:`));
        expect(warning, r.warnings.join(' | ')).toBeDefined();
        expect(warning).toContain(`${c.trailing.length / 2} byte(s) from there not decoded (${c.trailing.toLowerCase()})`);
      });

      it('a self-identifying frame on another fPort decodes, with a warning', () => {
        const listed = decode(c, c.otherPort.sameAs);
        expect(listed.errors).toEqual([]);
        const r = decode(c, c.otherPort);
        expect(r.errors).toEqual([]);
        expect(r.unlistedPort).toBe(true);
        expect(r.readings).toEqual(listed.readings);
        expect(r.data).toEqual(listed.data);
        expect(r.warnings.join(' | ')).toContain(`fPort ${c.otherPort.fPort} is not the model's documented uplink port`);
      });

      it('a frame of which nothing can be parsed is still an error, with no reading', () => {
        const r = decode(c, c.unparseable);
        expect(r.errors.length).toBeGreaterThan(0);
        expect(r.readings).toEqual([]);
      });
    });
  }
});

describe('decoder boundary', () => {
  const em300 = findDevice('Milesight', 'EM300-ZLD')!;
  it('refuses port 0 (MAC commands) and the reserved ports 224..255, whatever the bytes', () => {
    for (const fPort of [0, 224, 255]) {
      const r = decodeUplink(em300, { bytes: hexToBytes('050001'), fPort });
      expect(r.errors).toEqual([`EM300-ZLD: fPort ${fPort} is not an application port (1..223)`]);
    }
  });
  it('keeps the contract for decoders that return no warnings, events or errors (all optional)', () => {
    const minimal = { model: 'MINIMAL', fPorts: [7], decode: () => ({ data: { x: 1 }, readings: [{ quantity: 'battery' as const, value: 3.1 }] }) };
    expect(decodeUplink(minimal, { bytes: hexToBytes('01'), fPort: 7 })).toEqual({
      data: { x: 1 },
      readings: [{ quantity: 'battery', value: 3.1 }],
      events: [],
      warnings: [],
      errors: [],
    });
  });
  it('turns a decode that stopped at byte 0 into an error: nothing was decoded', () => {
    const stopsAtOnce = {
      model: 'STOP',
      decode: () => ({ data: {}, readings: [], warnings: ['STOP: byte 0: unknown record 0x99'], undecodedFrom: 0 }),
    };
    const r = decodeUplink(stopsAtOnce, { bytes: hexToBytes('99'), fPort: 1 });
    expect(r.errors).toEqual(['STOP: nothing could be decoded: STOP: byte 0: unknown record 0x99']);
  });
});
