/**
 * Adeunis TIC (French "Télé-Information Client" meter interface) with the CBE/LINKY MONO and
 * CBE/LINKY TRI configuration profiles (historic TIC mode). Written from the vendor's frame
 * descriptions and published examples, no vendor code used.
 *
 * 0x49 "TIC data" frame, layout fixed by the configuration profile, every label in a fixed slot,
 * numbers as uint32 MSB first, texts as ASCII (TTN lorawan-devices tic-cbe-linky-mono-codec.yaml and
 * tic-cbe-linky-tri-codec.yaml, vendor examples):
 *   MONO: ADCO (12 chars), OPTARIF (4), BASE Wh, ISOUSC A, IINST A, IMAX A, PAPP VA, HCHC Wh, HCHP Wh, PTEC (4)
 *   TRI:  ADCO (12 chars), BASE Wh, IINST1 A, IINST2 A, IINST3 A, IMAX1 A, IMAX2 A, IMAX3 A, PMAX W, PAPP VA
 * A numeric slot with its most significant bit set (0x80000000) means the label was not found in the
 * meter's TIC ("BASEstatus: notFound" in the vendor example for an HC.. contract).
 * 0x4A "TIC alarm": label (8 chars, NUL padded) then alarm details, kept raw.
 *
 * Status byte: classic Adeunis layout (bit 2 HW, bit 1 Low Bat, bit 0 Config). The vendor output names
 * two product flags, configurationInconsistency and readError; this decoder assumes they are AppFlag1
 * (bit 3) and AppFlag2 (bit 4) respectively (the vendor examples have both at 0).
 *
 * Readings: energy indexes as `metering.electricity.activeEnergy` with channel = tariff period label
 * (BASE, HCHC, HCHP), IINST as `electricity.current` (TRI: channels L1..L3), PAPP as
 * `electricity.apparentPower`.
 */
import { emptyResult } from '../../core/boundary.ts';
import type { ByteReader } from '../../core/reader.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../core/types.ts';
import type { QuantityId } from '../../model/quantities.ts';
import { stopAt } from '../../core/lenient.ts';
import { ascii, decodeConfigFrame, hex, parseHeader, statusEvents, unknownFrame } from './frame.ts';

type Slot =
  | { label: string; kind: 'text'; size: number }
  | { label: string; kind: 'number'; unit: string; quantity?: QuantityId; channel?: string };

/** BASE is the whole-meter total (no channel); HCHC/HCHP are tariff-period registers (channel = label). */
const energy = (label: string): Slot => ({
  label,
  kind: 'number',
  unit: 'Wh',
  quantity: 'metering.electricity.activeEnergy',
  ...(label === 'BASE' ? {} : { channel: label }),
});

export const TIC_PROFILES: Record<'mono' | 'tri', Slot[]> = {
  mono: [
    { label: 'ADCO', kind: 'text', size: 12 },
    { label: 'OPTARIF', kind: 'text', size: 4 },
    energy('BASE'),
    { label: 'ISOUSC', kind: 'number', unit: 'A' },
    { label: 'IINST', kind: 'number', unit: 'A', quantity: 'electricity.current' },
    { label: 'IMAX', kind: 'number', unit: 'A' },
    { label: 'PAPP', kind: 'number', unit: 'VA', quantity: 'electricity.apparentPower' },
    energy('HCHC'),
    energy('HCHP'),
    { label: 'PTEC', kind: 'text', size: 4 },
  ],
  tri: [
    { label: 'ADCO', kind: 'text', size: 12 },
    energy('BASE'),
    { label: 'IINST1', kind: 'number', unit: 'A', quantity: 'electricity.current', channel: 'L1' },
    { label: 'IINST2', kind: 'number', unit: 'A', quantity: 'electricity.current', channel: 'L2' },
    { label: 'IINST3', kind: 'number', unit: 'A', quantity: 'electricity.current', channel: 'L3' },
    { label: 'IMAX1', kind: 'number', unit: 'A' },
    { label: 'IMAX2', kind: 'number', unit: 'A' },
    { label: 'IMAX3', kind: 'number', unit: 'A' },
    { label: 'PMAX', kind: 'number', unit: 'W' },
    { label: 'PAPP', kind: 'number', unit: 'VA', quantity: 'electricity.apparentPower' },
  ],
};

function readSlots(r: ByteReader, slots: Slot[], data: Record<string, unknown>, readings: Reading[]): void {
  for (const s of slots) {
    if (s.kind === 'text') {
      data[s.label] = ascii(r, s.size, s.label);
      continue;
    }
    const v = r.u32be(s.label);
    if (v >= 0x80000000) {
      data[`${s.label}status`] = 'notFound';
      continue;
    }
    data[s.label] = { unit: s.unit, value: v };
    if (s.quantity) readings.push({ quantity: s.quantity, value: v, ...(s.channel ? { channel: s.channel } : {}) });
  }
}

export function decodeTicFrame(input: DecodeInput, profile: 'mono' | 'tri'): DecodeResult {
  const h = parseHeader(input.bytes, {
    layout: 'classic',
    appFlag1: 'configurationInconsistency',
    appFlag2: 'readError',
  });
  const r = h.reader;
  const result = emptyResult();
  result.events.push(...statusEvents(h));
  if (decodeConfigFrame(h, input.bytes, result)) return result;
  const data = result.data;
  switch (h.code) {
    case 0x49: {
      data.type = '0x49 TIC data';
      data.status = h.status;
      readSlots(r, TIC_PROFILES[profile], data, result.readings);
      if (r.remaining !== 0) {
        stopAt(result, input.bytes, r.offset, `bytes beyond the ${profile.toUpperCase()} profile layout of the 0x49 frame`);
      }
      if (data.readError === true) result.warnings.push('status: TIC read error flag set');
      return result;
    }
    case 0x4a: {
      data.type = '0x4a TIC alarm';
      data.status = h.status;
      data.label = ascii(r, 8, 'alarm label');
      data.details = hex(input.bytes.subarray(r.offset));
      result.events.push({ type: 'alarm', message: `TIC alarm on label ${String(data.label)}` });
      return result;
    }
    case 0x30: {
      data.type = '0x30 keep alive';
      data.status = h.status;
      data.payload = hex(input.bytes.subarray(2));
      return result;
    }
    default:
      return unknownFrame(h.code, input);
  }
}
