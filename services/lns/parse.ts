/**
 * Turns one MQTT message into a network-server event, whatever the LNS: the format is detected from the topic
 * (ChirpStack `application/…/device/…/event|state/…`, The Things Stack `v3/…/devices/…/…`, Live Objects `fifo/…` or
 * `router/~event/v1/data/new/…`) and then from the shape (ChirpStack v4 carries `deviceInfo`, v3 `applicationID`).
 * ThingPark's topic is whatever its connection was configured with, so it is recognised by its body alone
 * (`{"DevEUI_uplink": {…}}`). Pure: no I/O, never throws.
 */
import { parseChirpstackV3 } from './chirpstack-v3.ts';
import { parseChirpstackV4 } from './chirpstack-v4.ts';
import { parseLiveObjects } from './liveobjects.ts';
import { isThingPark, parseThingPark } from './thingpark.ts';
import { parseTtsV3 } from './tts-v3.ts';
import type { ParseOutcome } from './uplink.ts';

// `state` topics: ChirpStack v4 builds before 4.0.0 published join, status and location there, retained (removed in
// chirpstack/chirpstack 83504948, "Remove mqtt state topic"); a broker keeps retained messages until they are cleared.
const CHIRPSTACK_TOPIC = /^(?:.*\/)?application\/([^/]+)\/device\/([^/]+)\/(?:event|state)\/([^/]+)$/;
const CHIRPSTACK_V3_OLD_TOPIC = /^(?:.*\/)?application\/([^/]+)\/device\/([^/]+)\/(rx|up|status|join|ack|error|location)$/;
const TTS_TOPIC = /^(?:.*\/)?v3\/([^/]+)\/devices\/([^/]+)\/(.+)$/;
const LIVEOBJECTS_TOPIC = /^(?:fifo\/[^/]+|router\/~event\/v1\/data\/new(?:\/.*)?)$/;

const NULL_TOKEN = Buffer.from('null');

export function parseLnsMessage(topic: string, message: Buffer, now: Date = new Date()): ParseOutcome {
  const first = firstNonSpace(message);
  const cs = CHIRPSTACK_TOPIC.exec(topic) ?? CHIRPSTACK_V3_OLD_TOPIC.exec(topic);
  const tts = cs ? null : TTS_TOPIC.exec(topic);
  const lo = cs || tts ? null : LIVEOBJECTS_TOPIC.exec(topic);
  if (first !== 0x7b /* { */) {
    if (!cs && !tts && !lo) return unknownTopic(topic);
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
    if (!cs && !tts && !lo) return unknownTopic(topic);
    return { kind: 'rejected', reason: 'invalid_json', detail: `message on '${topic}' is not valid JSON: ${(err as Error).message}` };
  }
  // ChirpStack v3's `json` marshaler (and ChirpStack v4 in some versions, ThingPark's CustomerData.loc) print `null`
  // for unset fields: null means absent, everywhere, so no optional field can turn a good uplink into a reject.
  // The walk is skipped when the text holds no `null` at all (most messages): a byte search costs far less.
  if (message.includes(NULL_TOKEN)) json = withoutNulls(json);
  if (cs) {
    const [, topicApp = '', topicDevEui = '', event = ''] = cs;
    const ev = event === 'rx' ? 'up' : event;
    if (isObject(json) && 'deviceInfo' in json) return parseChirpstackV4(topic, topicApp, ev, json, now);
    if (isObject(json) && ('applicationID' in json || 'devEUI' in json)) return parseChirpstackV3(topic, topicApp, topicDevEui, ev, json, now);
    return {
      kind: 'rejected',
      reason: 'unknown_envelope',
      detail: `ChirpStack topic '${topic}' but the JSON has neither 'deviceInfo' (v4) nor 'applicationID'/'devEUI' (v3)`,
    };
  }
  if (tts) {
    const [, appAtTenant = '', , event = ''] = tts;
    const at = appAtTenant.indexOf('@');
    const app = at >= 0 ? appAtTenant.slice(0, at) : appAtTenant;
    const tenant = at >= 0 ? appAtTenant.slice(at + 1) : '';
    if (isObject(json) && 'end_device_ids' in json) return parseTtsV3(topic, app, tenant, event, json, now);
    return { kind: 'rejected', reason: 'unknown_envelope', detail: `The Things Stack topic '${topic}' but the JSON has no 'end_device_ids'` };
  }
  if (isObject(json) && isThingPark(json)) return parseThingPark(topic, json, now);
  if (lo) {
    if (isObject(json) && ('streamId' in json || 'metadata' in json)) return parseLiveObjects(topic, json, now);
    return { kind: 'rejected', reason: 'unknown_envelope', detail: `Live Objects topic '${topic}' but the JSON has neither 'streamId' nor 'metadata'` };
  }
  return unknownTopic(topic);
}

function unknownTopic(topic: string): ParseOutcome {
  return {
    kind: 'rejected',
    reason: 'unknown_topic',
    detail:
      `topic '${topic}' matches no network server: ChirpStack (application/{id}/device/{devEui}/event/{event}), The Things Stack ` +
      `(v3/{app}@{tenant}/devices/{id}/{event}), Live Objects (fifo/{name}, router/~event/v1/data/new/…), and the body is not ThingPark's ({"DevEUI_uplink": …})`,
  };
}

/**
 * Without the object keys whose value is null (array items are kept: a null there is not "unset"). Returns the same
 * value when it holds no null key, so the common message costs a walk and no copy.
 */
export function withoutNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = withoutNulls(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === null) {
      out ??= { ...v };
      delete out[k];
      continue;
    }
    const y = withoutNulls(x);
    if (y !== x) (out ??= { ...v })[k] = y;
  }
  return out ?? v;
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
