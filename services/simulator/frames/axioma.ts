/**
 * Axioma frame builder: Qalcosonic W1 basic frame on port 100 (Axioma "W1 LORA PAYLOAD EXTENDED" §2, the
 * inverse of decoders/vendors/axioma/qalcosonic-w1/index.ts), little endian:
 *   current date/time (4, Unix s) | status code (1) | current volume (4, L, wraps at 2^32).
 * The format carries the meter's clock: the simulated time of the report.
 * An absent volume is sent as 0 L.
 * Status code (§3 "Device alarms"): 0x00 without alarm; a temporary alarm sets 0x10 and names itself in bits 7–5
 * (0 dry, 1 leakage, 3 backflow, 4 low temperature, 5 burst, 6 manipulation). The meter also sends the status
 * alone in an alarm frame on port 103 (date/time, status) when an alarm appears: `qalcosonicW1AlarmFrame`.
 */
import { frame, u32le, wrapCounter } from './bytes.ts';
import type { DeviceState, Frame, FrameBuilder, MeterAlarm } from './types.ts';

const DATA_PORT = 100;
const ALARM_PORT = 103;
const STATUS_OK = 0x00;
const TEMPORARY_ALARM = 0x10;
const ALARM_CODE: Record<MeterAlarm, number> = { dry: 0, leakage: 1, backflow: 3, lowTemperature: 4, burst: 5, manipulation: 6 };

function statusCode(s: DeviceState): number {
  return s.meterAlarm === undefined ? STATUS_OK : TEMPORARY_ALARM | (ALARM_CODE[s.meterAlarm] << 5);
}

const meterTime = (now: Date): number[] => u32le(Math.floor(now.getTime() / 1000));

/** The basic frame at a given time. */
export function qalcosonicW1Frame(s: DeviceState, now: Date): Frame {
  return frame(DATA_PORT, meterTime(now), [statusCode(s)], u32le(wrapCounter(s.volumeL ?? 0, 32)));
}

/** The alarm frame (port 103, 5 bytes) at a given time. */
export function qalcosonicW1AlarmFrame(s: DeviceState, now: Date): Frame {
  return frame(ALARM_PORT, meterTime(now), [statusCode(s)]);
}

export const qalcosonicW1: FrameBuilder = {
  decoder: 'axioma/qalcosonic w1',
  build: (s, time) => qalcosonicW1Frame(s, time),
};

export const axiomaBuilders: FrameBuilder[] = [qalcosonicW1];
