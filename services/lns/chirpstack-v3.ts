/**
 * ChirpStack Application Server v3 MQTT integration, `json` marshaler (and the legacy `json_v3` one):
 * topic application/{applicationID}/device/{devEUI}/event/{up|status|join}. Byte fields (devEUI) are base64 in `json`
 * and hex in `json_v3`; `txInfo.loRaModulationInfo.bandwidth` is in kHz; the decoded object is `objectJSON`
 * (a JSON string) or `object`. Reference: chirpstack-api v3 as/integration/integration.proto; shared/reference §a.
 */
import { z } from 'zod';
import { best, statusEvent, rfc3339, stringMap } from './common.ts';
import { decodeBase64Strict } from './base64.ts';
import type { DeviceIdentity, ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';

const identityFields = {
  applicationID: z.union([z.string(), z.number()]).transform(String),
  applicationName: z.string().default(''),
  deviceName: z.string().default(''),
  devEUI: z.string().optional(),
  tags: stringMap.default({}),
};

const up = z.looseObject({
  ...identityFields,
  rxInfo: z.array(z.looseObject({ rssi: z.number().default(0), loRaSNR: z.number().default(0), time: rfc3339.optional() })).default([]),
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

const join = z.looseObject({ ...identityFields, devAddr: z.string().optional(), publishedAt: rfc3339.optional() });

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

function identity(x: IdentityInput, devEui: string): DeviceIdentity {
  return {
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

export function parseChirpstackV3(topic: string, topicDevEui: string, event: string, json: unknown, now: Date): ParseOutcome {
  if (event !== 'up' && event !== 'status' && event !== 'join') {
    return { kind: 'ignored', detail: `ChirpStack v3 '${event}' event is not stored` };
  }
  const schema = event === 'up' ? up : event === 'status' ? status : join;
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
    return statusEvent(topic, identity(s, devEui), s.publishedAt ?? now, s);
  }
  if (event === 'join') {
    const j = parsed.data as z.infer<typeof join>;
    return { kind: 'join', topic, ...identity(j, devEui), receivedAt: j.publishedAt ?? now, ...(j.devAddr ? { devAddr: j.devAddr } : {}) };
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
  // The gateway time is the NS's view of the frame (stable when the event is re-published); publishedAt is not.
  const gatewayTimes = u.rxInfo.map((r) => r.time?.getTime()).filter((t): t is number => t !== undefined);
  const receivedAt = gatewayTimes.length ? new Date(Math.min(...gatewayTimes)) : (u.publishedAt ?? now);
  const lora = u.txInfo?.loRaModulationInfo;
  return {
    kind: 'uplink',
    topic,
    ...identity(u, devEui),
    fPort: u.fPort,
    fCnt: u.fCnt,
    payload,
    receivedAt,
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
  };
}
