/**
 * The Things Stack v3 MQTT (also TTN): topic v3/{application}@{tenant}/devices/{device}/{event}, where event is `up`,
 * `join`, `location/solved` (stored) or `down/{queued|sent|ack|nack|failed|invalidated|push|replace}`, `service/data`
 * (counted, not stored). Empty, 0 and
 * false fields are omitted (no `f_port` means 0, no `f_cnt` means 0); its broker offers QoS 0 only.
 * Reference: thethingsindustries.com/docs/integrations/data-formats; shared/reference/lns-and-decoders.md §b.
 */
import { z } from 'zod';
import { best, devEuiHex, earliest, ignored, lenientTime, pickTime, position, rfc3339, stringMap } from './common.ts';
import { decodeBase64Strict } from './base64.ts';
import type { DeviceIdentity, GatewayInfo, ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';

const ids = z.looseObject({
  device_id: z.string(),
  application_ids: z.looseObject({ application_id: z.string() }),
  dev_eui: devEuiHex,
});

const uplinkMessage = z.looseObject({
  f_port: z.number().int().min(0).max(255).default(0),
  f_cnt: z.number().int().min(0).default(0),
  frm_payload: z.string().default(''),
  decoded_payload: z.record(z.string(), z.unknown()).optional(),
  rx_metadata: z
    .array(
      z.looseObject({
        gateway_ids: z.looseObject({ gateway_id: z.string().optional(), eui: z.string().optional() }).optional(),
        rssi: z.number().default(0),
        snr: z.number().default(0),
        time: lenientTime.optional(),
        received_at: lenientTime.optional(),
        location: z.looseObject({ latitude: z.number().optional(), longitude: z.number().optional(), altitude: z.number().optional() }).optional(),
      }),
    )
    .default([]),
  settings: z
    .looseObject({
      data_rate: z.looseObject({ lora: z.looseObject({ bandwidth: z.number().optional(), spreading_factor: z.number().optional() }).optional() }).optional(),
      frequency: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
  received_at: rfc3339.optional(),
  consumed_airtime: z.string().optional(),
  confirmed: z.boolean().default(false),
  version_ids: z.looseObject({ brand_id: z.string().optional(), model_id: z.string().optional() }).optional(),
  attributes: stringMap.optional(),
});

const up = z.looseObject({
  end_device_ids: ids,
  correlation_ids: z.array(z.string()).default([]),
  received_at: rfc3339.optional(),
  uplink_message: uplinkMessage,
  attributes: stringMap.optional(),
  simulated: z.boolean().optional(),
});

const join = z.looseObject({
  end_device_ids: ids.extend({ dev_addr: z.string().optional() }),
  received_at: rfc3339.optional(),
  join_accept: z.looseObject({ received_at: rfc3339.optional() }).optional(),
});

const locationSolved = z.looseObject({
  end_device_ids: ids,
  received_at: rfc3339.optional(),
  location_solved: z.looseObject({
    service: z.string().optional(),
    location: z.looseObject({
      latitude: z.number(),
      longitude: z.number(),
      altitude: z.number().optional(),
      accuracy: z.number().optional(),
      source: z.string().optional(),
    }),
  }),
});

/** Topic suffixes TTS publishes that Veilleur counts but does not store, as metric labels ('down/ack' → 'down_ack'). */
const IGNORED_EVENTS = [
  'down_queued',
  'down_sent',
  'down_ack',
  'down_nack',
  'down_failed',
  'down_invalidated',
  'down_push',
  'down_replace',
  'service_data',
  'up_simulated',
] as const;

function identity(e: z.infer<typeof ids>, app: string, tenant: string, tags: Record<string, string>, profile: string): DeviceIdentity {
  return {
    topicApplication: app,
    ...(tenant ? { topicTenant: tenant } : {}),
    lns: 'tts-v3',
    lnsTenant: tenant,
    applicationId: e.application_ids.application_id,
    applicationName: e.application_ids.application_id,
    devEui: e.dev_eui,
    deviceName: e.device_id,
    deviceProfile: profile,
    tags,
  };
}

/** "0.061696s" → 61.696 */
function durationMs(text: string | undefined): number | undefined {
  const m = text ? /^(\d+(?:\.\d+)?)s$/.exec(text) : null;
  return m ? Number(m[1]) * 1000 : undefined;
}

export function parseTtsV3(topic: string, app: string, tenant: string, event: string, json: unknown, now: Date): ParseOutcome {
  if (event === 'join') {
    const parsed = join.safeParse(json);
    if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', detail: `The Things Stack join: ${zodDetail(parsed.error)}` };
    const j = parsed.data;
    return {
      kind: 'join',
      topic,
      ...identity(j.end_device_ids, app, tenant, {}, ''),
      ...pickTime(
        [
          ['network_server', j.join_accept?.received_at],
          ['network_server', j.received_at],
        ],
        now,
      ),
      ...(j.end_device_ids.dev_addr ? { devAddr: j.end_device_ids.dev_addr } : {}),
    };
  }
  if (event === 'location/solved') {
    const parsed = locationSolved.safeParse(json);
    if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', detail: `The Things Stack location/solved: ${zodDetail(parsed.error)}` };
    const l = parsed.data;
    const loc = l.location_solved.location;
    const at = position(loc.latitude, loc.longitude);
    if (!at) {
      return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', devEui: l.end_device_ids.dev_eui, detail: 'The Things Stack location/solved: location_solved.location: expected a position' };
    }
    return {
      kind: 'location',
      topic,
      ...identity(l.end_device_ids, app, tenant, {}, ''),
      ...pickTime([['network_server', l.received_at]], now),
      ...at,
      ...(loc.altitude !== undefined ? { altitudeM: loc.altitude } : {}),
      ...(loc.accuracy ? { accuracyM: loc.accuracy } : {}),
      // "SOURCE_WIFI_RSSI_GEOLOCATION" → "wifi_rssi_geolocation"
      source: (loc.source ?? '').replace(/^SOURCE_/, '').toLowerCase(),
    };
  }
  if (event !== 'up') return ignored('tts-v3', event.replaceAll('/', '_'), IGNORED_EVENTS, `The Things Stack '${event}' message is not stored`);
  const parsed = up.safeParse(json);
  if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', detail: `The Things Stack up: ${zodDetail(parsed.error)}` };
  const u = parsed.data;
  // "Simulate uplink" in the TTS console: no device sent it; storing it would put made-up readings in a meter's series.
  if (u.simulated === true) return ignored('tts-v3', 'up_simulated', IGNORED_EVENTS, `The Things Stack simulated uplink of ${u.end_device_ids.dev_eui} is not stored`);
  const m = u.uplink_message;
  const payload = decodeBase64Strict(m.frm_payload);
  if (!payload) {
    return {
      kind: 'rejected',
      reason: 'bad_base64',
      lns: 'tts-v3',
      devEui: u.end_device_ids.dev_eui,
      detail: `The Things Stack up from ${u.end_device_ids.dev_eui}: field 'uplink_message.frm_payload' is not valid base64`,
    };
  }
  const version = m.version_ids;
  const profile = version?.brand_id && version.model_id ? `${version.brand_id}/${version.model_id}` : '';
  const lora = m.settings?.data_rate?.lora;
  const frequency = m.settings?.frequency !== undefined ? Number(m.settings.frequency) : undefined;
  const airtimeMs = durationMs(m.consumed_airtime);
  const gatewayInfo: GatewayInfo[] = [];
  for (const r of m.rx_metadata) {
    const id = r.gateway_ids?.eui?.toLowerCase() ?? r.gateway_ids?.gateway_id;
    if (!id) continue;
    const at = position(r.location?.latitude, r.location?.longitude);
    gatewayInfo.push({ gatewayId: id, rssi: r.rssi, snr: r.snr, ...at, ...(at && r.location?.altitude !== undefined ? { altitudeM: r.location.altitude } : {}) });
  }
  return {
    kind: 'uplink',
    topic,
    ...identity(u.end_device_ids, app, tenant, { ...(u.attributes ?? {}), ...(m.attributes ?? {}) }, profile),
    fPort: m.f_port,
    fCnt: m.f_cnt,
    payload,
    // The network server's reception time survives a re-publication; the AS time, then the gateways' are fallbacks.
    ...pickTime(
      [
        ['network_server', m.received_at],
        ['network_server', u.received_at],
        ['gateway', earliest(m.rx_metadata.map((r) => r.time))],
        ['gateway', earliest(m.rx_metadata.map((r) => r.received_at))],
      ],
      now,
    ),
    ...(u.correlation_ids[0] ? { messageId: u.correlation_ids[0] } : {}),
    confirmed: m.confirmed,
    radio: {
      gateways: m.rx_metadata.length,
      rssi: best(m.rx_metadata.map((r) => r.rssi)),
      snr: best(m.rx_metadata.map((r) => r.snr)),
      spreadingFactor: lora?.spreading_factor,
      bandwidthHz: lora?.bandwidth,
      frequencyHz: Number.isFinite(frequency) ? frequency : undefined,
      ...(airtimeMs !== undefined ? { airtimeMs } : {}),
    },
    ...(m.decoded_payload ? { lnsObject: m.decoded_payload } : {}),
    ...(gatewayInfo.length ? { gatewayInfo } : {}),
  };
}
