/**
 * Frame builders for the simulator: the inverse of the decoders, for the few models the simulated town uses.
 * Each builder turns the town's state of one device into the bytes that real device would send, so the demo,
 * the tests and the benchmark go through the real decoders. test/unit/simulator-frames.test.ts decodes every
 * builder's output with the matching decoder and checks the canonical readings.
 */
export interface Frame {
  fPort: number;
  bytes: Uint8Array;
}

/** The physical state of a simulated device at one moment; each builder uses the fields its model reports. */
export interface DeviceState {
  /** Cumulative pulse counters (inputs A and B, or the single input). */
  pulsesA?: number;
  pulsesB?: number;
  leak?: boolean;
  temperatureC?: number;
  humidityPct?: number;
  co2Ppm?: number;
  /** Cumulative active energy index, Wh. */
  energyWh?: number;
  powerW?: number;
  /** Cumulative water index, litres. */
  volumeL?: number;
  batteryPct?: number;
  batteryV?: number;
  /** A water meter's own temporary alarm (Axioma Qalcosonic W1 status code); absent: no alarm. */
  meterAlarm?: MeterAlarm;
}

/** Temporary alarms a water meter reports in its status (Axioma "W1 LORA PAYLOAD EXTENDED" §3). */
export type MeterAlarm = 'dry' | 'leakage' | 'backflow' | 'lowTemperature' | 'burst' | 'manipulation';

export interface FrameBuilder {
  /** 'vendor/model', as in the registry's `decoder` and `veilleur devices`. */
  decoder: string;
  /** `time`: the simulated moment, for formats that carry the device's clock. */
  build(state: DeviceState, time: Date): Frame;
}
