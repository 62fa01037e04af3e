/**
 * ChirpStack Application Server v3 MQTT integration, `json` marshaler (and the legacy `json_v3` one): topic
 * application/{applicationID}/device/{devEUI}/event/{up|status|join|location|ack|txack|error|integration}. Byte
 * fields (devEUI, gatewayID) are base64 in `json` and hex in `json_v3`; `txInfo.loRaModulationInfo.bandwidth` is in
 * kHz; the decoded object is `objectJSON` (a JSON string) or `object`. The `json` marshaler prints every unset field
 * (`"time": null` for a gateway without GPS, `"data": null` for an empty payload): parse.ts drops nulls first.
 * Reference: chirpstack-api v3 as/integration/integration.proto; shared/reference §a.
 */
import { z } from 'zod';
import { best, earliest, ignored, lenientTime, pickTime, position, statusEvent, rfc3339, stringMap } from './common.ts';
import { decodeBase64Strict } from './base64.ts';
import type { DeviceIdentity, GatewayInfo, ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';

const identityFields = {
  applicationID: z.union([z.string(), z.number()]).transform(String),
  applicationName: z.string().default(''),
  deviceName: z.string().default(''),
  devEUI: z.string().optional(),
  tags: stringMap.default({}),
};

const location = z.looseObject({
  latitude: z.number().optional(),
  longitude: z.number().optional(),
  altitude: z.number().optional(),
  accuracy: z.number().optional(),
  source: z.string().optional(),
});

const rxInfo = z
  .array(
    z.looseObject({
      gatewayID: z.string().optional(),
      rssi: z.number().default(0),
      loRaSNR: z.number().default(0),
      time: lenientTime.optional(),
      location: location.optional(),
    }),
  )
  .default([]);

const up = z.looseObject({
  ...identityFields,
  rxInfo,
  txInfo: z
    .looseObject({
      frequency: z.number().optional(),
      dr: z.number().optional(),
      loRaModulationInfo: z.looseObject({ bandwidth: z.number().optional(), spreadingFactor: z.number().optional() }).optional(),
    })
    .optional(),
  dr: z.number().int().min(0).default(0),
  fCnt: z.number().int().min(0).default(0),
  fPort: z.number().int().min(0).max(255).default(0),
  confirmedUplink: z.boolean().default(false),
  data: z.string().default(''),
  objectJSON: z.string().optional(),
  object: z.record(z.string(), z.unknown()).optional(),
  publishedAt: rfc3339.optional(),
});

const status = z.looseObject({
  ...identityFields,
  margin: z.number().optional(),
  externalPowerSource: z.boolean().default(false),
  batteryLevelUnavailable: z.boolean().default(false),
  batteryLevel: z.number().optional(),
  publishedAt: rfc3339.optional(),
});

const join = z.looseObject({ ...identityFields, devAddr: z.string().optional(), rxInfo, publishedAt: rfc3339.optional() });

const locationEvent = z.looseObject({ ...identityFields, location, publishedAt: rfc3339.optional() });

/** v3 events Veilleur counts but does not store (`error` is v3's name for v4's `log`). */
const IGNORED_EVENTS = ['ack', 'txack', 'error', 'integration'] as const;

/** `json` gives the gateway id as base64, `json_v3` as hex. */
function gatewayIdOf(field: string | undefined): string | undefined {
  if (!field) return undefined;
  if (/^[0-9a-fA-F]{16}$/.test(field)) return field.toLowerCase();
  const bytes = decodeBase64Strict(field);
  return bytes?.length === 8 ? bytes.toString('hex') : undefined;
}

/** `json` gives base64 bytes, `json_v3` hex: accept both, and fall back on the topic's hex DevEUI. */
function devEuiOf(field: string | undefined, topicDevEui: string): string | undefined {
  if (field && /^[0-9a-fA-F]{16}$/.test(field)) return field.toLowerCase();
  if (field) {
    const bytes = decodeBase64Strict(field);
    if (bytes?.length === 8) return bytes.toString('hex');
    return undefined;
  }
  return /^[0-9a-fA-F]{16}$/.test(topicDevEui) ? topicDevEui.toLowerCase() : undefined;
}

type IdentityInput = { applicationID: string; applicationName: string; deviceName: string; tags: Record<string, string> };

function identity(x: IdentityInput, devEui: string, topicApplication: string): DeviceIdentity {
  return {
    topicApplication,
    lns: 'chirpstack-v3',
    lnsTenant: '',
    applicationId: x.applicationID,
    applicationName: x.applicationName || x.applicationID,
    devEui,
    deviceName: x.deviceName,
    deviceProfile: '',
    tags: x.tags,
  };
}

export function parseChirpstackV3(topic: string, topicApp: string, topicDevEui: string, event: string, json: unknown, now: Date): ParseOutcome {
  if (event !== 'up' && event !== 'status' && event !== 'join' && event !== 'location') {
    return ignored('chirpstack-v3', event, IGNORED_EVENTS, `ChirpStack v3 '${event}' event is not stored`);
  }
  const schema = event === 'up' ? up : event === 'status' ? status : event === 'join' ? join : locationEvent;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { kind: 'rejected', reason: 'invalid_envelope', lns: 'chirpstack-v3', detail: `ChirpStack v3 ${event}: ${zodDetail(parsed.error)}` };
  }
  const devEui = devEuiOf(parsed.data.devEUI, topicDevEui);
  if (!devEui) {
    return {
      kind: 'rejected',
      reason: 'invalid_envelope',
      lns: 'chirpstack-v3',
      detail: `ChirpStack v3 ${event}: devEUI: expected 8 bytes as base64 or 16 hexadecimal characters, got '${parsed.data.devEUI ?? topicDevEui}'`,
    };
  }
  if (event === 'status') {
    const s = parsed.data as z.infer<typeof status>;
    return statusEvent(topic, identity(s, devEui, topicApp), pickTime([['network_server', s.publishedAt]], now), s);
  }
  if (event === 'join') {
    const j = parsed.data as z.infer<typeof join>;
    return {
      kind: 'join',
      topic,
      ...identity(j, devEui, topicApp),
      ...frameTime(j.rxInfo, j.publishedAt, now),
      ...(j.devAddr ? { devAddr: j.devAddr } : {}),
    };
  }
  if (event === 'location') {
    const l = parsed.data as z.infer<typeof locationEvent>;
    const at = position(l.location.latitude, l.location.longitude);
    if (!at) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'chirpstack-v3', devEui, detail: 'ChirpStack v3 location: location.latitude/longitude: expected a position' };
    return {
      kind: 'location',
      topic,
      ...identity(l, devEui, topicApp),
      ...pickTime([['network_server', l.publishedAt]], now),
      ...at,
      ...(l.location.altitude !== undefined ? { altitudeM: l.location.altitude } : {}),
      ...(l.location.accuracy ? { accuracyM: l.location.accuracy } : {}),
      source: (l.location.source ?? '').toLowerCase(),
    };
  }
  const u = parsed.data as z.infer<typeof up>;
  const payload = decodeBase64Strict(u.data);
  if (!payload) {
    return { kind: 'rejected', reason: 'bad_base64', lns: 'chirpstack-v3', devEui, detail: `ChirpStack v3 up from ${devEui}: field 'data' is not valid base64` };
  }
  let lnsObject = u.object;
  if (!lnsObject && u.objectJSON) {
    try {
      const o: unknown = JSON.parse(u.objectJSON);
      if (o && typeof o === 'object' && !Array.isArray(o)) lnsObject = o as Record<string, unknown>;
    } catch {
      // A broken objectJSON only loses the LNS's own decoding; the payload itself is still stored.
    }
  }
  const lora = u.txInfo?.loRaModulationInfo;
  const gatewayInfo: GatewayInfo[] = [];
  for (const r of u.rxInfo) {
    const id = gatewayIdOf(r.gatewayID);
    if (!id) continue;
    const at = position(r.location?.latitude, r.location?.longitude);
    gatewayInfo.push({ gatewayId: id, rssi: r.rssi, snr: r.loRaSNR, ...at, ...(at && r.location?.altitude !== undefined ? { altitudeM: r.location.altitude } : {}) });
  }
  return {
    kind: 'uplink',
    topic,
    ...identity(u, devEui, topicApp),
    fPort: u.fPort,
    fCnt: u.fCnt,
    payload,
    ...frameTime(u.rxInfo, u.publishedAt, now),
    confirmed: u.confirmedUplink,
    radio: {
      gateways: u.rxInfo.length,
      rssi: best(u.rxInfo.map((r) => r.rssi)),
      snr: best(u.rxInfo.map((r) => r.loRaSNR)),
      spreadingFactor: lora?.spreadingFactor,
      bandwidthHz: lora?.bandwidth !== undefined ? lora.bandwidth * 1000 : undefined,
      frequencyHz: u.txInfo?.frequency,
      dataRate: u.dr,
    },
    ...(lnsObject ? { lnsObject } : {}),
    ...(gatewayInfo.length ? { gatewayInfo } : {}),
  };
}

/**
 * v3 has no network-server reception time in its events: the gateways' GPS time of the frame comes first (the same
 * on every publication of the event), then `publishedAt` (the application server's, a little later), then reception.
 */
function frameTime(rx: { time?: Date | undefined }[], publishedAt: Date | undefined, now: Date) {
  return pickTime(
    [
      ['gateway', earliest(rx.map((r) => r.time))],
      ['network_server', publishedAt],
    ],
    now,
  );
}
