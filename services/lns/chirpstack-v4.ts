/**
 * ChirpStack v4 MQTT integration, JSON marshaler (`[integration.mqtt] json=true`): protobuf JSON mapping, camelCase,
 * fields at their default value omitted (no `fCnt` means 0). Topic: application/{applicationId}/device/{devEui}/event/{event}.
 * Reference: chirpstack/chirpstack api/proto/integration/integration.proto; ../shared/reference/lns-and-decoders.md §a.
 */
import { z } from 'zod';
import { best, earliest, ignored, pickTime, position, statusEvent, devEuiHex, lenientTime, rfc3339, stringMap } from './common.ts';
import { decodeBase64Strict } from './base64.ts';
import type { DeviceIdentity, GatewayInfo, ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';
import { parseRfc3339 } from './time.ts';

const deviceInfo = z.looseObject({
  tenantId: z.string().default(''),
  tenantName: z.string().default(''),
  applicationId: z.string().default(''),
  applicationName: z.string().default(''),
  deviceProfileName: z.string().default(''),
  deviceName: z.string().default(''),
  devEui: devEuiHex,
  tags: stringMap.default({}),
});

const location = z.looseObject({
  latitude: z.number().optional(),
  longitude: z.number().optional(),
  altitude: z.number().optional(),
  accuracy: z.number().optional(),
  source: z.string().optional(),
});

// Protobuf JSON omits zero values: a gateway entry without `snr` reported 0 dB. Gateway times are hints (the NS time
// comes first), so one gateway's odd clock never costs the uplink.
const rxInfo = z.looseObject({
  gatewayId: z.string().optional(),
  rssi: z.number().default(0),
  snr: z.number().default(0),
  gwTime: lenientTime.optional(),
  nsTime: lenientTime.optional(),
  location: location.optional(),
});

const txInfo = z.looseObject({
  frequency: z.number().optional(),
  modulation: z
    .looseObject({
      lora: z.looseObject({ bandwidth: z.number().optional(), spreadingFactor: z.number().optional() }).optional(),
    })
    .optional(),
});

const up = z.looseObject({
  deduplicationId: z.string().optional(),
  time: rfc3339.optional(),
  deviceInfo,
  dr: z.number().int().min(0).default(0),
  fCnt: z.number().int().min(0).default(0),
  fPort: z.number().int().min(0).max(255).default(0),
  confirmed: z.boolean().default(false),
  data: z.string().default(''),
  object: z.record(z.string(), z.unknown()).optional(),
  rxInfo: z.array(rxInfo).default([]),
  txInfo: txInfo.optional(),
});

const status = z.looseObject({
  time: rfc3339.optional(),
  deviceInfo,
  margin: z.number().optional(),
  externalPowerSource: z.boolean().default(false),
  batteryLevelUnavailable: z.boolean().default(false),
  batteryLevel: z.number().optional(),
});

const join = z.looseObject({ time: rfc3339.optional(), deviceInfo, devAddr: z.string().optional() });

const locationEvent = z.looseObject({ time: rfc3339.optional(), deviceInfo, location });

/** Events ChirpStack v4's MQTT integration publishes that Veilleur counts but does not store (chirpstack/src/integration/mqtt.rs). */
const IGNORED_EVENTS = ['ack', 'txack', 'log', 'integration'] as const;

type Info = z.infer<typeof deviceInfo>;

function identity(info: Info, topicApplication: string): DeviceIdentity {
  return {
    topicApplication,
    lns: 'chirpstack-v4',
    lnsTenant: info.tenantName || info.tenantId,
    applicationId: info.applicationId,
    applicationName: info.applicationName || info.applicationId,
    devEui: info.devEui,
    deviceName: info.deviceName,
    deviceProfile: info.deviceProfileName,
    tags: info.tags,
  };
}

export function parseChirpstackV4(topic: string, topicApp: string, event: string, json: unknown, now: Date): ParseOutcome {
  if (event !== 'up' && event !== 'status' && event !== 'join' && event !== 'location') {
    return ignored('chirpstack-v4', event, IGNORED_EVENTS, `ChirpStack v4 '${event}' event is not stored`);
  }
  // Uplinks, the bulk of the traffic, try the hand-written check first; zod runs when it declines, to accept what
  // it missed or to say precisely what is wrong.
  const fast = event === 'up' ? fastUp(json) : undefined;
  const schema = event === 'up' ? up : event === 'status' ? status : event === 'join' ? join : locationEvent;
  const parsed = fast ? { success: true as const, data: fast } : schema.safeParse(json);
  if (!parsed.success) {
    return { kind: 'rejected', reason: 'invalid_envelope', lns: 'chirpstack-v4', detail: `ChirpStack v4 ${event}: ${zodDetail(parsed.error)}` };
  }
  if (event === 'status') {
    const s = parsed.data as z.infer<typeof status>;
    return statusEvent(topic, identity(s.deviceInfo, topicApp), pickTime([['network_server', s.time]], now), s);
  }
  if (event === 'join') {
    const j = parsed.data as z.infer<typeof join>;
    return { kind: 'join', topic, ...identity(j.deviceInfo, topicApp), ...pickTime([['network_server', j.time]], now), ...(j.devAddr ? { devAddr: j.devAddr } : {}) };
  }
  if (event === 'location') {
    const l = parsed.data as z.infer<typeof locationEvent>;
    const at = position(l.location.latitude, l.location.longitude);
    if (!at) {
      return { kind: 'rejected', reason: 'invalid_envelope', lns: 'chirpstack-v4', devEui: l.deviceInfo.devEui, detail: 'ChirpStack v4 location: location.latitude/longitude: expected a position' };
    }
    return {
      kind: 'location',
      topic,
      ...identity(l.deviceInfo, topicApp),
      ...pickTime([['network_server', l.time]], now),
      ...at,
      ...(l.location.altitude !== undefined ? { altitudeM: l.location.altitude } : {}),
      ...(l.location.accuracy ? { accuracyM: l.location.accuracy } : {}),
      source: (l.location.source ?? '').toLowerCase(),
    };
  }
  const u = parsed.data as z.infer<typeof up>;
  const payload = decodeBase64Strict(u.data);
  if (!payload) {
    return {
      kind: 'rejected',
      reason: 'bad_base64',
      lns: 'chirpstack-v4',
      devEui: u.deviceInfo.devEui,
      detail: `ChirpStack v4 up from ${u.deviceInfo.devEui}: field 'data' is not valid base64 ('${u.data.slice(0, 32)}')`,
    };
  }
  const lora = u.txInfo?.modulation?.lora;
  const gatewayInfo: GatewayInfo[] = [];
  for (const r of u.rxInfo) {
    if (!r.gatewayId) continue;
    const at = position(r.location?.latitude, r.location?.longitude);
    gatewayInfo.push({ gatewayId: r.gatewayId.toLowerCase(), rssi: r.rssi, snr: r.snr, ...at, ...(at && r.location?.altitude !== undefined ? { altitudeM: r.location.altitude } : {}) });
  }
  return {
    kind: 'uplink',
    topic,
    ...identity(u.deviceInfo, topicApp),
    fPort: u.fPort,
    fCnt: u.fCnt,
    payload,
    ...pickTime(
      [
        ['network_server', u.time],
        ['network_server', earliest(u.rxInfo.map((r) => r.nsTime))],
        ['gateway', earliest(u.rxInfo.map((r) => r.gwTime))],
      ],
      now,
    ),
    ...(u.deduplicationId ? { messageId: u.deduplicationId } : {}),
    confirmed: u.confirmed,
    radio: {
      gateways: u.rxInfo.length,
      rssi: best(u.rxInfo.map((r) => r.rssi)),
      snr: best(u.rxInfo.map((r) => r.snr)),
      spreadingFactor: lora?.spreadingFactor,
      bandwidthHz: lora?.bandwidth,
      frequencyHz: u.txInfo?.frequency,
      dataRate: u.dr,
    },
    ...(u.object ? { lnsObject: u.object } : {}),
    ...(gatewayInfo.length ? { gatewayInfo } : {}),
  };
}

type Up = z.infer<typeof up>;
type Loose = Record<string, unknown>;

const DEV_EUI = /^[0-9a-fA-F]{16}$/;
const isObj = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNum = (v: unknown): v is number | undefined => v === undefined || typeof v === 'number';
const optStr = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';
const uint = (v: unknown, max: number): number | undefined => (v === undefined ? 0 : typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : undefined);

/**
 * The `up` schema's result for a well-formed uplink (same defaults, same transforms, unknown keys kept), or
 * undefined as soon as anything is unusual: zod then decides. The parsed JSON is completed in place once it is
 * known to be valid (no copy of the envelope per uplink). Exported for the test that holds it equal to zod.
 */
export function fastUp(json: unknown): Up | undefined {
  if (!isObj(json)) return undefined;
  const d = json.deviceInfo;
  if (!isObj(d)) return undefined;
  const { tenantId = '', tenantName = '', applicationId = '', applicationName = '', deviceProfileName = '', deviceName = '', devEui, tags = {} } = d;
  if (typeof tenantId !== 'string' || typeof tenantName !== 'string' || typeof applicationId !== 'string' || typeof applicationName !== 'string') return undefined;
  if (typeof deviceProfileName !== 'string' || typeof deviceName !== 'string' || typeof devEui !== 'string' || !DEV_EUI.test(devEui)) return undefined;
  if (!isObj(tags)) return undefined;
  for (const k in tags) if (typeof tags[k] !== 'string') return undefined;
  const { deduplicationId, time, dr, fCnt, fPort, confirmed = false, data = '', object, rxInfo = [], txInfo } = json;
  if (!optStr(deduplicationId) || !optStr(time) || typeof confirmed !== 'boolean' || typeof data !== 'string') return undefined;
  const timeAt = time === undefined ? undefined : parseRfc3339(time);
  if (time !== undefined && !timeAt) return undefined;
  const drN = uint(dr, Number.MAX_SAFE_INTEGER);
  const fCntN = uint(fCnt, Number.MAX_SAFE_INTEGER);
  const fPortN = uint(fPort, 255);
  if (drN === undefined || fCntN === undefined || fPortN === undefined) return undefined;
  if (object !== undefined && !isObj(object)) return undefined;
  if (!Array.isArray(rxInfo)) return undefined;
  for (const r of rxInfo as unknown[]) {
    if (!isObj(r)) return undefined;
    const { gatewayId, rssi = 0, snr = 0, gwTime, nsTime, location: loc } = r;
    if (!optStr(gatewayId) || typeof rssi !== 'number' || typeof snr !== 'number' || !optStr(gwTime) || !optStr(nsTime)) return undefined;
    if (loc !== undefined && !(isObj(loc) && optNum(loc.latitude) && optNum(loc.longitude) && optNum(loc.altitude) && optNum(loc.accuracy) && optStr(loc.source))) return undefined;
  }
  if (txInfo !== undefined) {
    if (!isObj(txInfo) || !optNum(txInfo.frequency)) return undefined;
    const m = txInfo.modulation;
    if (m !== undefined) {
      if (!isObj(m)) return undefined;
      const lora = m.lora;
      if (lora !== undefined && !(isObj(lora) && optNum(lora.bandwidth) && optNum(lora.spreadingFactor))) return undefined;
    }
  }
  // Valid: defaults and transforms, in place.
  for (const r of rxInfo as Loose[]) {
    r.rssi ??= 0;
    r.snr ??= 0;
    if (r.gwTime !== undefined) r.gwTime = parseRfc3339(r.gwTime as string);
    if (r.nsTime !== undefined) r.nsTime = parseRfc3339(r.nsTime as string);
  }
  Object.assign(d, { tenantId, tenantName, applicationId, applicationName, deviceProfileName, deviceName, devEui: devEui.toLowerCase(), tags });
  if (time !== undefined) json.time = timeAt;
  Object.assign(json, { dr: drN, fCnt: fCntN, fPort: fPortN, confirmed, data, rxInfo });
  return json as Up;
}

/** The `up` schema, for the test that holds the fast path (fastUp) to the same result. */
export const chirpstackV4UpSchema = up;
