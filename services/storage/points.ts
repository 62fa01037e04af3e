/** Events → line protocol, following storage/schema.ts. Time is in milliseconds (the writer's precision). */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import type { DecodeResult, Reading } from '../../decoders/index.ts';
import { storedWarnings, undecodedBytes, type DecodeOutcome } from './outcome.ts';
import type { GatewayInfo, JoinEvent, LocationEvent, Rejection, StatusEvent, Uplink } from '../lns/uplink.ts';
import { loraAirtimeMs } from '../radio/airtime.ts';
import type { DeviceMeta } from '../registry/registry.ts';
import { escapeTag, int, line, lineWithTags, tagString, type FieldValue } from './line-protocol.ts';
import { DEVICE_EVENT, DEVICE_LOCATION, DEVICE_STATUS, GATEWAY, LNS_OBJECT, UPLINK, UPLINK_DEFAULTS, UPLINK_REJECTED, UPLINK_UNDECODED } from './schema.ts';

const MAX_RAW_BYTES = 64 * 1024;

/** The tag strings of one device, escaped once (the registry hands out one DeviceMeta object per device). */
interface DeviceTags {
  /** tenant, site, dev_eui, device: uplink_*, lns_object, device_status, device_event */
  device: string;
  /** + building, zone, role: reading measurements */
  reading: string;
}
const tagsCache = new WeakMap<DeviceMeta, Map<string, DeviceTags>>();

function tagsOf(devEui: string, meta: DeviceMeta): DeviceTags {
  let byEui = tagsCache.get(meta);
  if (!byEui) tagsCache.set(meta, (byEui = new Map()));
  let t = byEui.get(devEui);
  if (!t) {
    const base = { dev_eui: devEui, device: meta.name, site: meta.site, tenant: meta.tenant };
    t = { device: tagString(base), reading: tagString({ building: meta.building, ...base, role: meta.role, zone: meta.zone }) };
    byEui.set(devEui, t);
  }
  return t;
}

export function uplinkLines(u: Uplink, meta: DeviceMeta, outcome: DecodeOutcome): string[] {
  const t = u.receivedAt.getTime();
  const tags = tagsOf(u.devEui, meta);
  const lines: string[] = [];
  const r = u.radio;
  const airtime = r.airtimeMs ?? (r.spreadingFactor ? loraAirtimeMs(u.payload.length, r.spreadingFactor, r.bandwidthHz) : undefined);
  const decodedBy = outcome.kind === 'decoded' ? `decoder:${outcome.by}` : outcome.kind === 'lns-object' ? 'lns-object' : '';
  const decoded = outcome.kind === 'decoded' ? outcome.result : undefined;
  const undecoded = decoded ? undecodedBytes(decoded, u.payload.length) : undefined;
  const payloadB64 = u.payload.toString('base64');
  push(
    lines,
    lineWithTags(
      UPLINK.measurement,
      `,application=${escapeTag(u.applicationName)}${tags.device},lns=${u.lns}`,
      {
        f_cnt: int(u.fCnt),
        f_port: int(u.fPort),
        size_bytes: int(u.payload.length),
        payload_b64: payloadB64,
        gateways: int(r.gateways),
        rssi_dbm: r.rssi,
        snr_db: r.snr,
        sf: r.spreadingFactor !== undefined ? int(r.spreadingFactor) : undefined,
        // Issue 15: InfluxDB's work grows with the field values per uplink, so the usual value is left out
        // (UPLINK_DEFAULTS): 125 kHz and the network server's time are what readers assume when absent.
        bandwidth_hz: r.bandwidthHz !== undefined && r.bandwidthHz !== UPLINK_DEFAULTS.bandwidth_hz ? int(r.bandwidthHz) : undefined,
        frequency_hz: r.frequencyHz !== undefined ? int(r.frequencyHz) : undefined,
        airtime_ms: airtime !== undefined ? Math.round(airtime * 1000) / 1000 : undefined,
        decoded_by: decodedBy,
        time_source: u.timeSource !== UPLINK_DEFAULTS.time_source ? u.timeSource : undefined,
        // Lenient decoding (issue 12): what the decoder did not understand, and how many bytes it left.
        decode_warnings: decoded ? storedWarnings(decoded) : undefined,
        undecoded_bytes: undecoded !== undefined ? int(undecoded) : undefined,
      },
      t,
    ),
  );
  switch (outcome.kind) {
    case 'decoded':
      lines.push(...decodedLines(u, meta, outcome.result));
      break;
    case 'lns-object':
      push(lines, lineWithTags(LNS_OBJECT.measurement, tags.device, outcome.fields, t));
      break;
    case 'undecoded':
      push(
        lines,
        lineWithTags(
          UPLINK_UNDECODED.measurement,
          `,dev_eui=${u.devEui},reason=${outcome.reason},tenant=${escapeTag(meta.tenant)}`,
          {
            topic: u.topic,
            payload_b64: payloadB64,
            f_port: int(u.fPort),
            f_cnt: int(u.fCnt),
            device_profile: u.deviceProfile,
            detail: outcome.detail,
            // The LNS identity, so the uplink can be decoded again later exactly as if it arrived then.
            lns: u.lns,
            lns_tenant: u.lnsTenant,
            application_id: u.applicationId,
            application_name: u.applicationName,
            device_name: u.deviceName,
            lns_tags: JSON.stringify(u.tags),
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

/** A decoded uplink's readings and device events (everything but the `uplink` point itself). */
export function decodedLines(u: Uplink, meta: DeviceMeta, result: DecodeResult): string[] {
  const t = u.receivedAt.getTime();
  const tags = tagsOf(u.devEui, meta);
  const lines: string[] = [];
  readingLines(lines, result.readings, tags.reading, t);
  for (const ev of result.events) {
    push(lines, lineWithTags(DEVICE_EVENT.measurement, `${tags.device},type=${escapeTag(ev.type)}`, { count: int(1), message: ev.message ?? '' }, ev.time?.getTime() ?? t));
  }
  return lines;
}

/** Readings as one wide point per (measurement, channel, time), appended to `out`. */
export function readingLines(out: string[], readings: Reading[], deviceTags: string, defaultTimeMs: number): void {
  const groups: { measurement: string; channel: string | undefined; time: number; fields: Record<string, FieldValue> }[] = [];
  for (const r of readings) {
    const spec = QUANTITIES[r.quantity];
    const time = r.time ? r.time.getTime() : defaultTimeMs;
    let g = groups.find((x) => x.measurement === spec.measurement && x.channel === r.channel && x.time === time);
    if (!g) groups.push((g = { measurement: spec.measurement, channel: r.channel, time, fields: {} }));
    g.fields[spec.field] = r.value;
  }
  for (const g of groups) {
    const tags = g.channel !== undefined ? `${deviceTags},channel=${escapeTag(g.channel)}` : deviceTags;
    push(out, lineWithTags(g.measurement, tags, g.fields, g.time));
  }
}

export function statusLines(s: StatusEvent, meta: DeviceMeta): string[] {
  const l = lineWithTags(
    DEVICE_STATUS.measurement,
    tagsOf(s.devEui, meta).device,
    { battery_level_pct: s.batteryLevel, margin_db: s.marginDb, external_power: s.externalPowerSource, time_source: s.timeSource },
    s.receivedAt.getTime(),
  );
  return l ? [l] : [];
}

export function joinLines(j: JoinEvent, meta: DeviceMeta): string[] {
  const l = lineWithTags(
    DEVICE_EVENT.measurement,
    `${tagsOf(j.devEui, meta).device},type=join`,
    { count: int(1), message: j.devAddr ? `DevAddr ${j.devAddr}` : '', time_source: j.timeSource },
    j.receivedAt.getTime(),
  );
  return l ? [l] : [];
}

export function locationLines(l: LocationEvent, meta: DeviceMeta): string[] {
  const line = lineWithTags(
    DEVICE_LOCATION.measurement,
    tagsOf(l.devEui, meta).device,
    { latitude: l.latitude, longitude: l.longitude, altitude_m: l.altitudeM, accuracy_m: l.accuracyM, source: l.source, time_source: l.timeSource },
    l.receivedAt.getTime(),
  );
  return line ? [line] : [];
}

/** One gateway as seen by one uplink of a tenant's device (the caller decides how often: see GatewayLog). */
export function gatewayLine(g: GatewayInfo, lns: string, tenant: string, timeMs: number): string | undefined {
  return line(
    GATEWAY.measurement,
    { gateway_id: g.gatewayId, lns, tenant },
    { latitude: g.latitude, longitude: g.longitude, altitude_m: g.altitudeM, rssi_dbm: g.rssi, snr_db: g.snr },
    timeMs,
  );
}

export function rejectedLine(topic: string, message: Buffer, rejection: Rejection, timeMs: number): string {
  return line(
    UPLINK_REJECTED.measurement,
    { lns: rejection.lns, reason: rejection.reason },
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
