/**
 * Nexelec ORIGIN (Insafe+ ORIGIN successor, X8 range) — LoRaWAN smoke alarm with temperature/humidity.
 *
 * Follows Nexelec's "ORIGIN / ORIGIN+ / GUARD / GUARD+ — Frame Decoding Reference (Uplink 0x00–0x05)"
 * (nexelec/Decoders, X8 - ORIGIN+ ORIGIN GUARD+ GUARD/README-Frames_ORIGIN-GUARD.md) and its companion
 * "Communication Overview" (fPort 56). Every frame starts with the product type byte (ORIGIN 0xB2,
 * ORIGIN+ 0xB1 / 0xBD, GUARD+ 0xB3, GUARD 0xB4) and the message type byte; fields are then packed
 * MSB first at the documented bit offsets:
 *   0x00 Product Status (§2), 0x01 Product Configuration (§3), 0x02 Alarm Status (§4),
 *   0x03 Daily Air Quality (§5), 0x04 Periodic Data (§6), 0x05 Historical temperature datalog (§7).
 * Temperature: 10 bits, 0.1 °C, offset −30 °C (1023 = error, 1022 = sensor disconnected, per Nexelec's
 * decoder); humidity: 8 bits, 0.5 %RH (255 = error); battery voltage: 2000 mV + raw × 5 mV.
 * `data` keeps the document's field names and units (mV, months, weeks, minutes).
 * Lenient decoding: the product type and message type bytes identify a frame, so it is decoded on a port other
 * than 56 too (with a warning); bytes after a message's documented length (its bit table, "Not used" bits
 * included) are named in a warning.
 */
import { DecodeError } from '../../../core/errors.ts';
import { trailingBytes } from '../../../core/lenient.ts';
import { emptyResult } from '../../../core/boundary.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition } from '../../../core/types.ts';

const PORT = 56;

const PRODUCT_TYPES: Record<number, string> = {
  0xb1: 'ORIGIN+ LoRa',
  0xb2: 'ORIGIN',
  0xb3: 'GUARD+',
  0xb4: 'GUARD',
  0xbd: 'ORIGIN+',
};

const MESSAGE_TYPES = ['Product Status', 'Product Configuration', 'Alarm Status', 'Daily Air Quality', 'Periodic Data', 'Historical Data'];

/** Minimum frame length per message type (bytes), from the documented bit tables. */
const MIN_LENGTH = [7, 9, 7, 9, 5, 5];
/** Documented length (bytes) of the fixed messages: the bit tables end on a byte boundary. 0x05 depends on n. */
const FULL_LENGTH = [7, 11, 7, 9, 5];

/** Unsigned field of `len` bits at bit `offset` (MSB first) of the payload. */
function bits(bytes: Uint8Array, offset: number, len: number, field: string): number {
  if (offset + len > bytes.length * 8) {
    throw new DecodeError(`payload ends at byte ${bytes.length}, field '${field}' needs bits ${offset}..${offset + len - 1}`);
  }
  let v = 0;
  for (let i = offset; i < offset + len; i++) v = v * 2 + ((bytes[i >> 3]! >> (7 - (i & 7))) & 1);
  return v;
}

const pick = (names: readonly string[], v: number) => names[v] ?? 'Reserved';

/** Temperature code → °C, or the documented error label. */
function temperature(raw: number): number | string {
  if (raw === 1023) return 'Error';
  if (raw === 1022) return 'Sensor disconnected';
  if (raw > 1000) return 'Out of range';
  return (raw - 300) / 10;
}

function humidity(raw: number): number | string {
  if (raw === 255) return 'Error';
  if (raw > 200) return 'Out of range';
  return raw / 2;
}

function decode(input: DecodeInput): DecodeResult {
  const port = input.fPort === PORT ? '' : ` on fPort ${input.fPort} (ORIGIN uplinks use fPort ${PORT})`;
  const out = emptyResult();
  const { data, readings, events, warnings } = out;
  const productType = bits(input.bytes, 0, 8, 'Product type');
  const messageType = bits(input.bytes, 8, 8, 'Message type');
  const product = PRODUCT_TYPES[productType];
  if (!product) throw new DecodeError(`unknown product type 0x${productType.toString(16)} (expected 0xB1, 0xB2, 0xB3, 0xB4 or 0xBD)${port}`);
  const message = MESSAGE_TYPES[messageType];
  if (!message) throw new DecodeError(`unknown message type 0x${messageType.toString(16).padStart(2, '0')} (expected 0x00..0x05)${port}`);
  if (input.bytes.length < MIN_LENGTH[messageType]!) {
    throw new DecodeError(`${message} frame needs ${MIN_LENGTH[messageType]} bytes, got ${input.bytes.length}`);
  }
  const full = messageType === 0x05 ? Math.ceil((36 + 10 * bits(input.bytes, 16, 6, 'Number of measurements')) / 8) : FULL_LENGTH[messageType]!;
  // 0x01 may end before its Downlink FCnt (9 bytes); every other byte beyond the bit table is not understood.
  const end = messageType === 0x01 && input.bytes.length < full ? input.bytes.length : full;
  if (input.bytes.length > end) trailingBytes(out, input.bytes, end, `${message} message`, 'ORIGIN');
  const b = input.bytes.subarray(0, end);
  data.productType = product;
  data.messageType = message;

  const temp = (key: string, offset: number, reading: boolean) => {
    const t = temperature(bits(b, offset, 10, key));
    data[key] = t;
    if (typeof t === 'number') {
      if (reading) readings.push({ quantity: 'air.temperature', value: t });
    } else warnings.push(`${key}: ${t}`);
  };
  const hum = (key: string, offset: number, reading: boolean) => {
    const h = humidity(bits(b, offset, 8, key));
    data[key] = h;
    if (typeof h === 'number') {
      if (reading) readings.push({ quantity: 'air.relativeHumidity', value: h });
    } else warnings.push(`${key}: ${h}`);
  };

  switch (messageType) {
    case 0x00: {
      data.hardwareVersion = bits(b, 16, 8, 'Hardware version');
      data.softwareVersion = bits(b, 24, 8, 'Software version');
      data.remainingLife = bits(b, 32, 8, 'Remaining life'); // months
      const smoke = bits(b, 40, 1, 'Smoke chamber');
      const th = bits(b, 41, 1, 'Temp/Humidity sensor');
      const base = bits(b, 43, 3, 'Magnetic base detection');
      const level = bits(b, 46, 2, 'Battery level');
      data.smokeChamber = smoke ? 'Fault' : 'OK';
      data.tempHumiditySensor = th ? 'Fault' : 'OK';
      data.magneticBaseDetection = pick(['Not detected', 'Detected', 'Removed', 'Installed', 'Never detected'], base);
      data.batteryLevel = pick(['High', 'Medium', 'Low', 'Critical'], level);
      const mv = 2000 + bits(b, 48, 8, 'Battery voltage') * 5;
      data.batteryVoltage = mv; // mV
      readings.push({ quantity: 'battery', value: mv / 1000 });
      if (smoke) events.push({ type: 'fault', message: 'smoke chamber fault' });
      if (th) events.push({ type: 'fault', message: 'temperature/humidity sensor fault' });
      if (base === 2) events.push({ type: 'tamper', message: 'product removed from its magnetic base' });
      if (level >= 2) events.push({ type: 'low_battery', message: `battery level ${String(data.batteryLevel)}` });
      break;
    }
    case 0x01: {
      data.reconfigurationSource = pick(['NFC', 'Downlink', 'Startup', 'Reserved', 'Reserved', 'Local'], bits(b, 16, 3, 'Reconfiguration source'));
      data.reconfigurationStatus = pick(['Success', 'Partial', 'Fail'], bits(b, 19, 2, 'Reconfiguration status'));
      data.datalogTemperature = bits(b, 21, 1, 'Datalog temperature') ? 'On' : 'Off';
      data.dailyAirQuality = bits(b, 22, 1, 'Daily air quality') ? 'On' : 'Off';
      data.delayedConnection = bits(b, 24, 1, 'Delayed connection') ? 'Pending' : 'No';
      data.nfcStatus = pick(['Discoverable', 'Non-discoverable'], bits(b, 25, 2, 'NFC status'));
      data.loraRegion = pick(['EU868'], bits(b, 27, 4, 'LoRa region'));
      data.numberOfNewDatalog = bits(b, 31, 6, 'Number of new Datalog');
      data.numberOfTransmissions = bits(b, 37, 5, 'Number of transmissions');
      data.transmissionPeriod = bits(b, 42, 8, 'Transmission period') * 10; // minutes
      data.d2dNetworkId = bits(b, 50, 17, 'D2D network ID');
      if (b.length >= 11) data.downlinkFCnt = bits(b, 72, 16, 'Downlink FCnt');
      break;
    }
    case 0x02: {
      const alarm = bits(b, 16, 2, 'Alarm status');
      const test = bits(b, 20, 2, 'Product test');
      data.alarmStatus = pick(['None', 'Smoke', 'Repeated'], alarm);
      data.pauseAlarm = pick(['None', 'Manual', 'Network stop'], bits(b, 18, 2, 'Pause alarm'));
      data.productTest = pick(['None', 'Local', 'Remote'], test);
      data.timeSinceLastTest = bits(b, 22, 8, 'Time since last test'); // weeks
      data.maintenance = bits(b, 30, 1, 'Maintenance flag') ? 'Performed' : 'None';
      data.timeSinceMaintenance = bits(b, 31, 8, 'Time since maintenance'); // weeks
      temp('temperature', 39, true);
      if (alarm === 1) events.push({ type: 'alarm', message: 'smoke alarm' });
      if (alarm === 2) events.push({ type: 'alarm', message: 'smoke alarm repeated from an interconnected detector' });
      if (test === 1 || test === 2) events.push({ type: 'test', message: `${String(data.productTest)} product test` });
      break;
    }
    case 0x03: {
      // 24-hour statistics: kept in data only (not instantaneous values).
      temp('temperatureMin', 16, false);
      temp('temperatureMax', 26, false);
      temp('temperatureAvg', 36, false);
      hum('humidityMin', 46, false);
      hum('humidityMax', 54, false);
      hum('humidityAvg', 62, false);
      break;
    }
    case 0x04: {
      temp('temperature', 16, true);
      hum('humidity', 26, true);
      break;
    }
    case 0x05: {
      const n = bits(b, 16, 6, 'Number of measurements');
      const period = bits(b, 22, 8, 'Period between measurements'); // minutes
      data.numberOfMeasurements = n;
      data.period = period;
      data.repeat = bits(b, 30, 6, 'Repeat');
      const temps: (number | string)[] = [];
      for (let i = 0; i < n; i++) temps.push(temperature(bits(b, 36 + 10 * i, 10, `Temperature[n-${i}]`)));
      data.temperatures = temps; // latest first
      if (!input.recvTime) {
        warnings.push('no reception time: datalog samples have no timestamp, no readings produced');
        break;
      }
      temps.forEach((t, i) => {
        if (typeof t === 'number') {
          readings.push({ quantity: 'air.temperature', value: t, time: new Date(input.recvTime!.getTime() - i * period * 60_000) });
        } else warnings.push(`Temperature[n-${i}]: ${t}`);
      });
      break;
    }
  }
  return out;
}

export const nexelecOrigin: DeviceDefinition = {
  vendor: 'Nexelec',
  model: 'ORIGIN',
  description: 'Insafe+ ORIGIN LoRaWAN smoke alarm with temperature and humidity (also decodes ORIGIN+, GUARD, GUARD+)',
  category: 'indoor-climate',
  fPorts: [PORT],
  exposes: ['air.temperature', 'air.relativeHumidity', 'battery'],
  documentation: [
    {
      title: 'Nexelec — ORIGIN / ORIGIN+ / GUARD / GUARD+ Frame Decoding Reference (Uplink 0x00–0x05)',
      url: 'https://github.com/nexelec/Decoders/blob/main/X8%20-%20ORIGIN%2B%20ORIGIN%20GUARD%2B%20GUARD/README-Frames_ORIGIN-GUARD.md',
    },
    {
      title: 'Nexelec — ORIGIN / ORIGIN+ / GUARD / GUARD+ Communication Overview (LoRaWAN fPort 56)',
      url: 'https://github.com/nexelec/Decoders/blob/main/X8%20-%20ORIGIN%2B%20ORIGIN%20GUARD%2B%20GUARD/README-General_ORIGIN-GUARD.md',
    },
  ],
  decode,
};
