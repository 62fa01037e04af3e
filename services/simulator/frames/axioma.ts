/**
 * Axioma frame builder: Qalcosonic W1 basic frame on port 100 (Axioma "W1 LORA PAYLOAD EXTENDED" §2, the
 * inverse of decoders/vendors/axioma/qalcosonic-w1/index.ts), little endian:
 *   current date/time (4, Unix s) | status code (1, 0x00 = no alarm) | current volume (4, L, wraps at 2^32).
 * The format carries the meter's clock: the simulated time of the report.
 * An absent volume is sent as 0 L.
 */
import { frame, u32le, wrapCounter } from './bytes.ts';
import type { DeviceState, Frame, FrameBuilder } from './types.ts';

const DATA_PORT = 100;
const STATUS_OK = 0x00;

/** The basic frame at a given time. */
export function qalcosonicW1Frame(s: DeviceState, now: Date): Frame {
  return frame(DATA_PORT, u32le(Math.floor(now.getTime() / 1000)), [STATUS_OK], u32le(wrapCounter(s.volumeL ?? 0, 32)));
}

export const qalcosonicW1: FrameBuilder = {
  decoder: 'axioma/qalcosonic w1',
  build: (s, time) => qalcosonicW1Frame(s, time),
};

export const axiomaBuilders: FrameBuilder[] = [qalcosonicW1];
