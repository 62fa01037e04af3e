/** Events → line protocol, following storage/schema.ts. Time is in milliseconds (the writer's precision). */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import type { Reading } from '../../decoders/index.ts';
import type { DecodeOutcome } from '../pipeline/decode.ts';
import type { JoinEvent, Rejection, StatusEvent, Uplink } from '../lns/uplink.ts';
import { loraAirtimeMs } from '../radio/airtime.ts';
import type { DeviceMeta } from '../registry/registry.ts';
import { int, line, type FieldValue } from './line-protocol.ts';
import { DEVICE_EVENT, DEVICE_STATUS, LNS_OBJECT, UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from './schema.ts';

const MAX_RAW_BYTES = 64 * 1024;

function deviceTags(u: { devEui: string }, meta: DeviceMeta): Record<string, string> {
  return { tenant: meta.tenant, site: meta.site, dev_eui: u.devEui, device: meta.name };
}

export function uplinkLines(u: Uplink, meta: DeviceMeta, outcome: DecodeOutcome): string[] {
  const t = u.receivedAt.getTime();
  const lines: string[] = [];
  const r = u.radio;
  const airtime = r.airtimeMs ?? (r.spreadingFactor ? loraAirtimeMs(u.payload.length, r.spreadingFactor, r.bandwidthHz) : undefined);
  const decodedBy = outcome.kind === 'decoded' ? `decoder:${outcome.by}` : outcome.kind === 'lns-object' ? 'lns-object' : '';
  push(
    lines,
    line(
      UPLINK.measurement,
      { tenant: meta.tenant, application: u.applicationName, site: meta.site, dev_eui: u.devEui, device: meta.name, lns: u.lns },
      {
        f_cnt: int(u.fCnt),
        f_port: int(u.fPort),
        size_bytes: int(u.payload.length),
        payload_b64: u.payload.toString('base64'),
        gateways: int(r.gateways),
        rssi_dbm: r.rssi,
        snr_db: r.snr,
        sf: r.spreadingFactor !== undefined ? int(r.spreadingFactor) : undefined,
        bandwidth_hz: r.bandwidthHz !== undefined ? int(r.bandwidthHz) : undefined,
        frequency_hz: r.frequencyHz !== undefined ? int(r.frequencyHz) : undefined,
        airtime_ms: airtime !== undefined ? Math.round(airtime * 1000) / 1000 : undefined,
        decoded_by: decodedBy,
      },
      t,
    ),
  );
  switch (outcome.kind) {
    case 'decoded':
      lines.push(...readingLines(outcome.result.readings, u, meta, t));
      for (const ev of outcome.result.events) {
        push(lines, line(DEVICE_EVENT.measurement, { ...deviceTags(u, meta), type: ev.type }, { count: int(1), message: ev.message ?? '' }, ev.time?.getTime() ?? t));
      }
      break;
    case 'lns-object':
      push(lines, line(LNS_OBJECT.measurement, deviceTags(u, meta), outcome.fields, t));
      break;
    case 'undecoded':
      push(
        lines,
        line(
          UPLINK_UNDECODED.measurement,
          { tenant: meta.tenant, dev_eui: u.devEui, reason: outcome.reason },
          {
            topic: u.topic,
            payload_b64: u.payload.toString('base64'),
            f_port: int(u.fPort),
            f_cnt: int(u.fCnt),
            device_profile: u.deviceProfile,
            detail: outcome.detail,
          },
          t,
        ),
      );
      break;
    case 'empty':
      break;
  }
  return lines;
}

/** Readings grouped into one wide point per (measurement, channel, time). */
export function readingLines(readings: Reading[], u: { devEui: string }, meta: DeviceMeta, defaultTimeMs: number): string[] {
  const groups = new Map<string, { measurement: string; channel?: string; time: number; fields: Record<string, FieldValue> }>();
  for (const r of readings) {
    const spec = QUANTITIES[r.quantity];
    const time = r.time?.getTime() ?? defaultTimeMs;
    const key = `${spec.measurement}\u0000${r.channel ?? ''}\u0000${time}`;
    let g = groups.get(key);
    if (!g) {
      g = { measurement: spec.measurement, ...(r.channel !== undefined ? { channel: r.channel } : {}), time, fields: {} };
      groups.set(key, g);
    }
    g.fields[spec.field] = r.value;
  }
  const tags = { ...deviceTags(u, meta), building: meta.building, zone: meta.zone, role: meta.role };
  const out: string[] = [];
  for (const g of groups.values()) push(out, line(g.measurement, g.channel !== undefined ? { ...tags, channel: g.channel } : tags, g.fields, g.time));
  return out;
}

export function statusLines(s: StatusEvent, meta: DeviceMeta): string[] {
  const l = line(
    DEVICE_STATUS.measurement,
    deviceTags(s, meta),
    { battery_level_pct: s.batteryLevel, margin_db: s.marginDb, external_power: s.externalPowerSource },
    s.receivedAt.getTime(),
  );
  return l ? [l] : [];
}

export function joinLines(j: JoinEvent, meta: DeviceMeta): string[] {
  const l = line(DEVICE_EVENT.measurement, { ...deviceTags(j, meta), type: 'join' }, { count: int(1), message: j.devAddr ? `DevAddr ${j.devAddr}` : '' }, j.receivedAt.getTime());
  return l ? [l] : [];
}

export function rejectedLine(topic: string, message: Buffer, rejection: Rejection, timeMs: number): string {
  return line(
    UPLINK_REJECTED.measurement,
    { reason: rejection.reason, lns: rejection.lns ?? '' },
    {
      topic,
      message_b64: message.subarray(0, MAX_RAW_BYTES).toString('base64'),
      message_bytes: int(message.length),
      dev_eui: rejection.devEui ?? '',
      detail: rejection.detail,
    },
    timeMs,
  )!;
}

function push(lines: string[], l: string | undefined): void {
  if (l !== undefined) lines.push(l);
}
