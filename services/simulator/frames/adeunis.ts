/**
 * Adeunis frame builders (port 1, values MSB first), the inverse of decoders/vendors/adeunis/*:
 *   frame code (1) | status (1) | payload. The status byte is 0x00: frame counter 0, no flag, and in the
 *   timestamped layout (PULSE 4, COMFORT CO2) bit 2 clear, so no trailing timestamp is sent.
 * - PULSE 4, 0x46 periodic data (pulse.ts): counter A u32, counter B u32 (wrapping at 2^32).
 * - TIC CBE/LINKY MONO, 0x49 TIC data, MONO profile (tic.ts): ADCO (12 chars), OPTARIF (4), BASE Wh, ISOUSC A,
 *   IINST A, IMAX A, PAPP VA, HCHC Wh, HCHP Wh, PTEC (4), numbers u32. A BASE-contract meter is simulated:
 *   HCHC/HCHP are "not found" (0x80000000), BASE = energyWh (a 9-digit TIC index, wrapping at 10^9),
 *   PAPP = powerW (the meter's apparent power, 5 digits, VA), IINST = PAPP / 230 V rounded.
 * - COMFORT CO2, 0x6A data with one sample (comfort.ts): temperature i16 0.1 °C, humidity u8 %, CO2 u16 ppm.
 * Fields absent from the state are sent as 0 (these layouts are fixed).
 */
import { ascii, frame, scaledInt, u16be, u32be, u8, wrapAt, wrapCounter } from './bytes.ts';
import type { FrameBuilder } from './types.ts';

const ADEUNIS_PORT = 1;
const STATUS = 0x00;

export const pulse4: FrameBuilder = {
  decoder: 'adeunis/pulse 4',
  build: (s) => frame(ADEUNIS_PORT, [0x46, STATUS], u32be(wrapCounter(s.pulsesA ?? 0, 32)), u32be(wrapCounter(s.pulsesB ?? 0, 32))),
};

const TIC_NOT_FOUND = 0x80000000;
/** Historic-mode TIC energy indexes have 9 digits. */
const TIC_INDEX_MODULUS = 1_000_000_000;
const TIC_ADCO = '000000000000';
const TIC_ISOUSC_A = 30;
const TIC_IMAX_A = 90;
const MAINS_V = 230;

export const ticCbeLinkyMono: FrameBuilder = {
  decoder: 'adeunis/tic cbe/linky mono',
  build: (s) => {
    const base = wrapAt(s.energyWh ?? 0, TIC_INDEX_MODULUS);
    const papp = scaledInt(s.powerW ?? 0, 1, 0, 99_999);
    const iinst = Math.round(papp / MAINS_V);
    return frame(
      ADEUNIS_PORT,
      [0x49, STATUS],
      ascii(TIC_ADCO, 12),
      ascii('BASE', 4),
      u32be(base),
      u32be(TIC_ISOUSC_A),
      u32be(iinst),
      u32be(TIC_IMAX_A),
      u32be(papp),
      u32be(TIC_NOT_FOUND),
      u32be(TIC_NOT_FOUND),
      ascii('TH..', 4),
    );
  },
};

export const comfortCo2: FrameBuilder = {
  decoder: 'adeunis/comfort co2',
  build: (s) =>
    frame(
      ADEUNIS_PORT,
      [0x6a, STATUS],
      u16be(scaledInt(s.temperatureC ?? 0, 10, -32768, 32767)),
      u8(scaledInt(s.humidityPct ?? 0, 1, 0, 100)),
      u16be(scaledInt(s.co2Ppm ?? 0, 1, 0, 0xffff)),
    ),
};

export const adeunisBuilders: FrameBuilder[] = [pulse4, ticCbeLinkyMono, comfortCo2];
