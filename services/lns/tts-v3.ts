/**
 * The Things Stack v3 MQTT (also TTN): topic v3/{application}@{tenant}/devices/{device}/{up|join}. Empty, 0 and
 * false fields are omitted (no `f_port` means 0, no `f_cnt` means 0); its broker offers QoS 0 only.
 * Reference: thethingsindustries.com/docs/integrations/data-formats; shared/reference/lns-and-decoders.md §b.
 */
import { z } from 'zod';
import { best, devEuiHex, rfc3339, stringMap } from './common.ts';
import { decodeBase64Strict } from './base64.ts';
import type { DeviceIdentity, ParseOutcome } from './uplink.ts';
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
  rx_metadata: z.array(z.looseObject({ rssi: z.number().default(0), snr: z.number().default(0) })).default([]),
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
});

const join = z.looseObject({ end_device_ids: ids.extend({ dev_addr: z.string().optional() }), received_at: rfc3339.optional() });

function identity(e: z.infer<typeof ids>, tenant: string, tags: Record<string, string>, profile: string): DeviceIdentity {
  return {
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

export function parseTtsV3(topic: string, tenant: string, event: string, json: unknown, now: Date): ParseOutcome {
  if (event !== 'up' && event !== 'join') return { kind: 'ignored', detail: `The Things Stack '${event}' message is not stored` };
  if (event === 'join') {
    const parsed = join.safeParse(json);
    if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', detail: `The Things Stack join: ${zodDetail(parsed.error)}` };
    const j = parsed.data;
    return {
      kind: 'join',
      topic,
      ...identity(j.end_device_ids, tenant, {}, ''),
      receivedAt: j.received_at ?? now,
      ...(j.end_device_ids.dev_addr ? { devAddr: j.end_device_ids.dev_addr } : {}),
    };
  }
  const parsed = up.safeParse(json);
  if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'tts-v3', detail: `The Things Stack up: ${zodDetail(parsed.error)}` };
  const u = parsed.data;
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
  return {
    kind: 'uplink',
    topic,
    ...identity(u.end_device_ids, tenant, { ...(u.attributes ?? {}), ...(m.attributes ?? {}) }, profile),
    fPort: m.f_port,
    fCnt: m.f_cnt,
    payload,
    // The network server's reception time survives a re-publication; the AS time is the fallback.
    receivedAt: m.received_at ?? u.received_at ?? now,
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
  };
}
