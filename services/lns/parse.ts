/**
 * Turns one MQTT message into a network-server event, whatever the LNS: the format is detected from the topic
 * (ChirpStack `application/…/device/…/event/…`, The Things Stack `v3/…/devices/…/…`) and then from the shape
 * (ChirpStack v4 carries `deviceInfo`, v3 `applicationID`). Pure: no I/O, never throws.
 */
import { parseChirpstackV3 } from './chirpstack-v3.ts';
import { parseChirpstackV4 } from './chirpstack-v4.ts';
import { parseTtsV3 } from './tts-v3.ts';
import type { ParseOutcome } from './uplink.ts';

const CHIRPSTACK_TOPIC = /^(?:.*\/)?application\/([^/]+)\/device\/([^/]+)\/event\/([^/]+)$/;
const CHIRPSTACK_V3_OLD_TOPIC = /^(?:.*\/)?application\/([^/]+)\/device\/([^/]+)\/(rx|up|status|join)$/;
const TTS_TOPIC = /^(?:.*\/)?v3\/([^/]+)\/devices\/([^/]+)\/([^/]+)$/;

export function parseLnsMessage(topic: string, message: Buffer, now: Date = new Date()): ParseOutcome {
  const first = firstNonSpace(message);
  const cs = CHIRPSTACK_TOPIC.exec(topic) ?? CHIRPSTACK_V3_OLD_TOPIC.exec(topic);
  const tts = cs ? null : TTS_TOPIC.exec(topic);
  if (!cs && !tts) {
    return { kind: 'rejected', reason: 'unknown_topic', detail: `topic '${topic}' matches neither ChirpStack (application/{id}/device/{devEui}/event/{event}) nor The Things Stack (v3/{app}@{tenant}/devices/{id}/{event})` };
  }
  if (first !== 0x7b /* { */) {
    if (cs && message.length > 0) {
      return {
        kind: 'rejected',
        reason: 'protobuf_payload',
        detail: `ChirpStack event on '${topic}' is not JSON (first byte 0x${(first ?? 0).toString(16).padStart(2, '0')}): it looks protobuf-encoded; set json=true in [integration.mqtt] of chirpstack.toml`,
      };
    }
    return { kind: 'rejected', reason: 'invalid_json', detail: `message on '${topic}' is not a JSON object (${message.length} bytes)` };
  }
  let json: unknown;
  try {
    json = JSON.parse(message.toString('utf8'));
  } catch (err) {
    return { kind: 'rejected', reason: 'invalid_json', detail: `message on '${topic}' is not valid JSON: ${(err as Error).message}` };
  }
  if (cs) {
    const [, , topicDevEui = '', event = ''] = cs;
    const ev = event === 'rx' ? 'up' : event;
    if (isObject(json) && 'deviceInfo' in json) return parseChirpstackV4(topic, ev, json, now);
    if (isObject(json) && ('applicationID' in json || 'devEUI' in json)) return parseChirpstackV3(topic, topicDevEui, ev, json, now);
    return {
      kind: 'rejected',
      reason: 'unknown_envelope',
      detail: `ChirpStack topic '${topic}' but the JSON has neither 'deviceInfo' (v4) nor 'applicationID'/'devEUI' (v3)`,
    };
  }
  const [, appAtTenant = '', , event = ''] = tts!;
  const at = appAtTenant.indexOf('@');
  const tenant = at >= 0 ? appAtTenant.slice(at + 1) : '';
  if (isObject(json) && 'end_device_ids' in json) return parseTtsV3(topic, tenant, event, json, now);
  return { kind: 'rejected', reason: 'unknown_envelope', detail: `The Things Stack topic '${topic}' but the JSON has no 'end_device_ids'` };
}

/**
 * What the topic itself says about who published: ChirpStack's application id (`application/{id}/…`), The Things
 * Stack's application and tenant (`v3/{app}@{tenant}/…`). Unlike the body, the broker's ACLs can bind a topic to the
 * network server allowed to publish it, so this is what places an event in a commune (services/registry).
 */
export interface TopicIds {
  application: string;
  /** The Things Stack tenant after '@'; absent on ChirpStack topics and on TTS topics without one (open source). */
  tenant?: string;
}

export function topicIds(topic: string): TopicIds | undefined {
  const cs = CHIRPSTACK_TOPIC.exec(topic) ?? CHIRPSTACK_V3_OLD_TOPIC.exec(topic);
  if (cs) return { application: cs[1]! };
  const tts = TTS_TOPIC.exec(topic);
  if (!tts) return undefined;
  const appAtTenant = tts[1]!;
  const at = appAtTenant.indexOf('@');
  return at >= 0 ? { application: appAtTenant.slice(0, at), tenant: appAtTenant.slice(at + 1) } : { application: appAtTenant };
}

function firstNonSpace(b: Buffer): number | undefined {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
