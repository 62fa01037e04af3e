import { describe, expect, it } from 'vitest';
import { decodeUplink, devices, findDevice, type DecodeResult, type DeviceDefinition } from '../../decoders/index.ts';
import { qalcosonicW1Frame } from '../../services/simulator/frames/axioma.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import type { DeviceState, Frame } from '../../services/simulator/frames/types.ts';

// Round trip of every simulator frame builder through the real decoder: the canonical readings must give the
// state back, exactly (or the state rounded / wrapped as the format does, where a case says so in `expect`).

type Field = keyof DeviceState;

/** Where a state field comes back: the canonical quantity, and the channel (none for a whole-device value). */
interface Target {
  quantity: string;
  channel?: string;
}

interface Case {
  state: DeviceState;
  /** Decoded values that differ from the state because the format rounds, clamps or wraps them. */
  expect?: Partial<DeviceState>;
}

interface Spec {
  targets: Partial<Record<Field, Target>>;
  cases: Case[];
}

const T = { quantity: 'air.temperature' };
const RH = { quantity: 'air.relativeHumidity' };
const CO2 = { quantity: 'air.co2' };
const LEAK = { quantity: 'water.leak' };
const BATTERY_PCT = { quantity: 'batteryLevel' };
const BATTERY_V = { quantity: 'battery' };

const SPECS: Record<string, Spec> = {
  'milesight/em300-di': {
    targets: { pulsesA: { quantity: 'metering.pulse.total' }, batteryPct: BATTERY_PCT, temperatureC: T, humidityPct: RH },
    cases: [
      { state: { pulsesA: 0, batteryPct: 100, temperatureC: 21.5, humidityPct: 45.5 } },
      { state: { pulsesA: 4294967295, batteryPct: 0, temperatureC: -20.3, humidityPct: 0 } },
      {
        state: { pulsesA: 2 ** 32 + 41, batteryPct: 57, temperatureC: 23.47, humidityPct: 61.3 },
        expect: { pulsesA: 41, temperatureC: 23.5, humidityPct: 61.5 },
      },
      { state: { pulsesA: 123456 } },
    ],
  },
  'milesight/em300-zld': {
    targets: { leak: LEAK, temperatureC: T, humidityPct: RH, batteryPct: BATTERY_PCT },
    cases: [
      { state: { leak: false, temperatureC: 19.2, humidityPct: 50, batteryPct: 98 } },
      { state: { leak: true, temperatureC: -5.5, humidityPct: 100, batteryPct: 1 } },
      { state: { leak: true, temperatureC: 0, humidityPct: 33.26, batteryPct: 150 }, expect: { humidityPct: 33.5, batteryPct: 100 } },
    ],
  },
  'milesight/am319': {
    targets: { temperatureC: T, humidityPct: RH, co2Ppm: CO2, batteryPct: BATTERY_PCT },
    cases: [
      { state: { temperatureC: 22.1, humidityPct: 41.5, co2Ppm: 415 } },
      { state: { temperatureC: -0.1, humidityPct: 0, co2Ppm: 0 } },
      {
        state: { temperatureC: 35.04, humidityPct: 80.2, co2Ppm: 5000.4, batteryPct: 88 },
        expect: { temperatureC: 35, humidityPct: 80, co2Ppm: 5000 },
      },
    ],
  },
  'milesight/ws523': {
    targets: { energyWh: { quantity: 'metering.electricity.activeEnergy' }, powerW: { quantity: 'electricity.activePower' } },
    cases: [
      { state: { energyWh: 0, powerW: 0 } },
      { state: { energyWh: 26121, powerW: 2300 } },
      { state: { energyWh: 4294967295, powerW: 3680 } },
      { state: { energyWh: 2 ** 32 + 10, powerW: 1499.6 }, expect: { energyWh: 10, powerW: 1500 } },
    ],
  },
  'adeunis/pulse 4': {
    targets: {
      pulsesA: { quantity: 'metering.pulse.total', channel: 'A' },
      pulsesB: { quantity: 'metering.pulse.total', channel: 'B' },
    },
    cases: [
      { state: { pulsesA: 0, pulsesB: 0 } },
      { state: { pulsesA: 295, pulsesB: 4096 } },
      { state: { pulsesA: 4294967295, pulsesB: 2 ** 32 + 7 }, expect: { pulsesB: 7 } },
    ],
  },
  'adeunis/tic cbe/linky mono': {
    // PAPP is the meter's apparent power (VA): the simulator's powerW comes back as electricity.apparentPower.
    targets: { energyWh: { quantity: 'metering.electricity.activeEnergy' }, powerW: { quantity: 'electricity.apparentPower' } },
    cases: [
      { state: { energyWh: 0, powerW: 0 } },
      { state: { energyWh: 12345678, powerW: 2990 } },
      { state: { energyWh: 999_999_999, powerW: 99_999 } },
      { state: { energyWh: 1_000_000_123, powerW: 120_000.4 }, expect: { energyWh: 123, powerW: 99_999 } },
    ],
  },
  'adeunis/comfort co2': {
    targets: { temperatureC: T, humidityPct: RH, co2Ppm: CO2 },
    cases: [
      { state: { temperatureC: 21.3, humidityPct: 45, co2Ppm: 650 } },
      { state: { temperatureC: -10, humidityPct: 0, co2Ppm: 0 } },
      { state: { temperatureC: 43.56, humidityPct: 62.4, co2Ppm: 10000 }, expect: { temperatureC: 43.6, humidityPct: 62 } },
    ],
  },
  'netvox/r718wa': {
    targets: { leak: LEAK, batteryV: BATTERY_V },
    cases: [
      { state: { leak: false, batteryV: 3.6 } },
      { state: { leak: true, batteryV: 0 } },
      { state: { leak: false, batteryV: 12.7 } },
      { state: { leak: true, batteryV: 3.04 }, expect: { batteryV: 3 } },
    ],
  },
  'dragino/lht65': {
    targets: { temperatureC: T, humidityPct: RH, batteryV: BATTERY_V },
    cases: [
      { state: { temperatureC: 28.29, humidityPct: 88.6, batteryV: 3.062 } },
      { state: { temperatureC: -40, humidityPct: 0, batteryV: 2.5 } },
      { state: { temperatureC: 0.004, humidityPct: 100, batteryV: 2.9996 }, expect: { temperatureC: 0, batteryV: 3 } },
    ],
  },
  'watteco/th': {
    targets: { temperatureC: T },
    cases: [
      { state: { temperatureC: 29.53 } },
      { state: { temperatureC: -27.37 } },
      { state: { temperatureC: 0 } },
      { state: { temperatureC: 21.234 }, expect: { temperatureC: 21.23 } },
    ],
  },
  'axioma/qalcosonic w1': {
    targets: { volumeL: { quantity: 'metering.water.total' } },
    cases: [
      { state: { volumeL: 0 } },
      { state: { volumeL: 1212039 } },
      { state: { volumeL: 4294967295 } },
      { state: { volumeL: 2 ** 32 + 1000.4 }, expect: { volumeL: 1000 } },
    ],
  },
  'elsys/ers co2': {
    targets: { temperatureC: T, humidityPct: RH, co2Ppm: CO2, batteryV: BATTERY_V },
    cases: [
      { state: { temperatureC: 22.6, humidityPct: 41, co2Ppm: 776, batteryV: 3.6 } },
      { state: { temperatureC: -2, humidityPct: 0, co2Ppm: 0, batteryV: 0 } },
      {
        state: { temperatureC: 19.96, humidityPct: 55.5, co2Ppm: 1234, batteryV: 3.6789 },
        expect: { temperatureC: 20, humidityPct: 56, batteryV: 3.679 },
      },
    ],
  },
};

/** The decoder definition a builder key names: `${vendor}/${model}` in lower case (models may contain '/'). */
function deviceFor(key: string): DeviceDefinition {
  const slash = key.indexOf('/');
  const device = findDevice(key.slice(0, slash), key.slice(slash + 1));
  if (!device) throw new Error(`no decoder for '${key}'`);
  return device;
}

function decode(key: string, f: Frame): DecodeResult {
  return decodeUplink(deviceFor(key), { bytes: f.bytes, fPort: f.fPort, recvTime: new Date() });
}

function valuesOf(result: DecodeResult, target: Target): (number | boolean)[] {
  return result.readings.filter((r) => r.quantity === target.quantity && r.channel === target.channel).map((r) => r.value);
}

const hex = (f: Frame): string => Buffer.from(f.bytes).toString('hex');
const FIXED_TIME = new Date('2026-03-01T12:34:56Z');

describe('simulator frame builders', () => {
  it('has one builder per decoder spec, each keyed by its decoder definition', () => {
    expect(Object.keys(frameBuilders).sort()).toEqual(Object.keys(SPECS).sort());
    for (const [key, builder] of Object.entries(frameBuilders)) {
      expect(builder.decoder).toBe(key);
      const device = deviceFor(key);
      expect(`${device.vendor}/${device.model}`.toLowerCase()).toBe(key);
      expect(devices).toContain(device);
    }
  });

  for (const [key, spec] of Object.entries(SPECS)) {
    describe(key, () => {
      spec.cases.forEach((c, i) => {
        it(`round-trips state ${i + 1}: ${JSON.stringify(c.state)}`, () => {
          const f = frameBuilders[key]!.build(c.state, FIXED_TIME);
          const result = decode(key, f);
          expect(result.errors, hex(f)).toEqual([]);
          expect(result.warnings, hex(f)).toEqual([]);
          for (const field of Object.keys(c.state) as Field[]) {
            const target = spec.targets[field];
            expect(target, `no expected reading for ${field}`).toBeDefined();
            const want = c.expect?.[field] ?? c.state[field];
            expect(valuesOf(result, target!), `${field} → ${target!.quantity} (frame ${hex(f)})`).toEqual([want]);
          }
        });
      });
    });
  }

  it('Qalcosonic W1: basic frame carries the given time and no alarm', () => {
    const now = new Date('2026-03-01T12:34:56Z');
    const result = decode('axioma/qalcosonic w1', qalcosonicW1Frame({ volumeL: 4200 }, now));
    expect(result.errors).toEqual([]);
    expect(result.data.frame).toBe('basic');
    expect(result.data.alarms).toEqual([]);
    for (const r of result.readings) expect(r.time).toEqual(now);
    expect(result.readings.filter((r) => r.quantity.startsWith('water.alarm.')).every((r) => r.value === false)).toBe(true);
    expect(result.events).toEqual([]);
  });

  it('builders are pure functions of the state and the time', () => {
    const state: DeviceState = { pulsesA: 10, pulsesB: 20, leak: true, temperatureC: 20, humidityPct: 50, co2Ppm: 600, energyWh: 1000, powerW: 100, volumeL: 5, batteryPct: 90, batteryV: 3.6 };
    for (const [key, builder] of Object.entries(frameBuilders)) {
      expect(hex(builder.build(state, FIXED_TIME)), key).toBe(hex(builder.build({ ...state }, FIXED_TIME)));
    }
  });
});
