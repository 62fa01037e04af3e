/**
 * Orange Live Objects, LoRa data messages over MQTT (`json+bridge` user, API key as password): a FIFO
 * (`fifo/{name}`, persisted: what a deployment should use) or the router (`router/~event/v1/data/new/typ/+/dev/+/con/lora/evt/+/grp/#`).
 * One data message per uplink: `streamId` `urn:lo:nsid:lora:{DevEUI}`, `timestamp` (the uplink's time), `created`
 * (Live Objects' storage time), `value.payload` (hex; plus the decoded fields when a decoder is set, named in
 * `metadata.encoding`), `metadata.group` and the radio data under `metadata.network.lora`.
 * References: Orange's Live Objects samples (BSD-3: LoraData.java, LoRaMqttSample.py); ../shared/reference/lns-and-decoders.md §c.
 * Live Objects is one account per connection and its topics name no application: the tenant comes from the
 * configuration (the group path as an application, or the device registry, else DEFAULT_TENANT).
 */
import { z } from 'zod';
import { ignored, looseNumber, pickTime, rfc3339 } from './common.ts';
import type { ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';

const lora = z.looseObject({
  devEUI: z.string().optional(),
  port: looseNumber.pipe(z.number().int().min(0).max(255)).default(0),
  fcnt: looseNumber.pipe(z.number().int().min(0)).default(0),
  rssi: looseNumber.optional(),
  snr: looseNumber.optional(),
  sf: looseNumber.optional(),
  gatewayCnt: looseNumber.optional(),
  messageType: z.string().optional(),
});

const message = z.looseObject({
  streamId: z.string().optional(),
  timestamp: rfc3339.optional(),
  created: rfc3339.optional(),
  value: z.looseObject({ payload: z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, 'expected hexadecimal bytes') }),
  metadata: z.looseObject({
    source: z.string().optional(),
    connector: z.literal('lora'),
    encoding: z.string().optional(),
    group: z.looseObject({ id: z.string().optional(), path: z.string().optional() }).optional(),
    network: z.looseObject({ lora }),
  }),
  tags: z.array(z.unknown()).optional(),
});

const URN = /^urn:lo:nsid:lora:([0-9a-fA-F]{16})$/;

export function parseLiveObjects(topic: string, json: Record<string, unknown>, now: Date): ParseOutcome {
  const meta = json.metadata as Record<string, unknown> | undefined;
  // Data messages from other connectors (MQTT devices, SMS, external connectors) are Live Objects events, not LoRa.
  if (!meta || typeof meta !== 'object' || meta.connector !== 'lora') {
    return ignored('liveobjects', 'non_lora', ['non_lora'], `Live Objects message from connector '${String(meta?.connector ?? '')}' is not a LoRa uplink`);
  }
  const parsed = message.safeParse(json);
  if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'liveobjects', detail: `Live Objects LoRa message: ${zodDetail(parsed.error)}` };
  const m = parsed.data;
  const l = m.metadata.network.lora;
  const eui = (l.devEUI ?? URN.exec(m.streamId ?? m.metadata.source ?? '')?.[1] ?? '').toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(eui)) {
    return {
      kind: 'rejected',
      reason: 'invalid_envelope',
      lns: 'liveobjects',
      detail: `Live Objects LoRa message: metadata.network.lora.devEUI: expected a DevEUI of 16 hexadecimal characters (or streamId urn:lo:nsid:lora:{DevEUI}), got '${l.devEUI ?? m.streamId ?? ''}'`,
    };
  }
  const { payload: hex, ...decoded } = m.value;
  const group = m.metadata.group;
  const tags: Record<string, string> = {};
  for (const t of m.tags ?? []) {
    const kv = typeof t === 'string' ? /^([^=:]+)[=:](.*)$/.exec(t) : null;
    if (kv) tags[kv[1]!.trim().toLowerCase()] = kv[2]!.trim();
  }
  return {
    kind: 'uplink',
    topic,
    lns: 'liveobjects',
    lnsTenant: '',
    applicationId: group?.id ?? '',
    applicationName: group?.path || '/',
    devEui: eui,
    deviceName: '',
    deviceProfile: m.metadata.encoding ?? '',
    tags,
    fPort: l.port,
    fCnt: l.fcnt,
    payload: Buffer.from(hex, 'hex'),
    ...pickTime(
      [
        ['network_server', m.timestamp],
        ['network_server', m.created],
      ],
      now,
    ),
    confirmed: l.messageType === 'CONFIRMED_DATA_UP',
    radio: { gateways: l.gatewayCnt ?? 1, rssi: l.rssi, snr: l.snr, spreadingFactor: l.sf },
    // With a decoder set in Live Objects, `value` holds its fields next to `payload`.
    ...(m.metadata.encoding && Object.keys(decoded).length ? { lnsObject: decoded } : {}),
  };
}
