/**
 * The storage schema: a few wide measurements with fixed field types and bounded tags. Reading measurements
 * (water, electricity, heat, air, presence, pulse, device) come from decoders/model/quantities.ts; the ones
 * below describe uplinks themselves. docs/schema.md is the human version of this file; dashboards and rules
 * import names from here, never copies.
 */
export { MEASUREMENTS as READING_MEASUREMENTS, QUANTITIES } from '../../decoders/model/quantities.ts';

/** Tags on every reading point, all bounded by the size of the fleet and its configuration. */
export const READING_TAGS = ['tenant', 'site', 'building', 'zone', 'dev_eui', 'device', 'role', 'channel'] as const;

export const UPLINK = {
  measurement: 'uplink',
  tags: ['tenant', 'application', 'site', 'dev_eui', 'device', 'lns'] as const,
  fields: {
    f_cnt: 'integer: LoRaWAN uplink frame counter',
    f_port: 'integer: LoRaWAN port',
    size_bytes: 'integer: FRMPayload length',
    payload_b64: 'string: FRMPayload, base64 (kept so any uplink can be decoded again)',
    gateways: 'integer: gateways that received it',
    rssi_dbm: 'float: best RSSI over gateways, dBm',
    snr_db: 'float: best SNR over gateways, dB',
    sf: 'integer: spreading factor',
    bandwidth_hz: 'integer: channel bandwidth, Hz; absent when 125 kHz (UPLINK_DEFAULTS)',
    frequency_hz: 'integer: frequency, Hz',
    airtime_ms: 'float: time on air, ms (LNS value, else computed)',
    decoded_by: "string: 'decoder:<vendor>/<model>', 'lns-object' or '' when kept raw",
    time_source: "string: where the timestamp comes from: 'gateway' or 'reception' (Veilleur's clock); absent when 'network_server' (UPLINK_DEFAULTS)",
    decode_warnings: "string: what the decoder did not understand and where (byte offset), warnings joined with ' | '; absent when none",
    undecoded_bytes: 'integer: bytes at the end of the frame the decoder could not decode (unknown or cut-short record); absent when none',
  },
} as const;

/**
 * Values the `uplink` point leaves out (issue 15: InfluxDB's work grows with the field values per uplink, and these
 * are the values of nearly every uplink). An absent field means this value; points written before the change carry
 * it explicitly, which reads the same. Readers: `uplinkField`.
 */
export const UPLINK_DEFAULTS = { bandwidth_hz: 125_000, time_source: 'network_server' } as const;

/** A stored `uplink` row's field, with the default of UPLINK_DEFAULTS when the point leaves it out. */
export function uplinkField<K extends keyof typeof UPLINK_DEFAULTS>(row: Record<string, unknown>, field: K): string | number {
  const v = row[field];
  return v === undefined || v === null ? UPLINK_DEFAULTS[field] : (v as string | number);
}

export const UPLINK_UNDECODED = {
  measurement: 'uplink_undecoded',
  tags: ['tenant', 'dev_eui', 'reason'] as const,
  reasons: ['no_decoder', 'decoder_error'] as const,
  fields: {
    topic: 'string: MQTT topic',
    payload_b64: 'string: FRMPayload, base64',
    f_port: 'integer',
    f_cnt: 'integer',
    device_profile: 'string: LNS device-profile name',
    detail: 'string: why it was not decoded',
    lns: 'string: network-server format',
    lns_tenant: 'string: network-server tenant',
    application_id: 'string: LNS application id',
    application_name: 'string: LNS application name',
    device_name: 'string: LNS device name',
    lns_tags: 'string: LNS device tags, JSON',
    redecoded_by: "string: set once decoded again ('decoder:…' or 'codec:…')",
  },
} as const;

export const UPLINK_REJECTED = {
  measurement: 'uplink_rejected',
  tags: ['reason', 'lns'] as const,
  fields: {
    topic: 'string: MQTT topic',
    message_b64: 'string: the whole MQTT message, base64 (truncated at 64 KiB)',
    message_bytes: 'integer: original message length',
    dev_eui: 'string: DevEUI when it could be read (a field: bad input must not create series)',
    detail: 'string: what was wrong and what was expected',
  },
} as const;

export const LNS_OBJECT = {
  measurement: 'lns_object',
  tags: ['tenant', 'site', 'dev_eui', 'device'] as const,
  fields: 'float: every numeric or boolean (1/0) value of the object the LNS decoded, nested keys joined with _',
} as const;

export const DEVICE_STATUS = {
  measurement: 'device_status',
  tags: ['tenant', 'site', 'dev_eui', 'device'] as const,
  fields: {
    battery_level_pct: 'float: DevStatusAns battery, %',
    margin_db: 'float: DevStatusAns demodulation margin, dB',
    external_power: 'boolean',
    time_source: "string: 'network_server' or 'reception'",
  },
} as const;

export const DEVICE_EVENT = {
  measurement: 'device_event',
  tags: ['tenant', 'site', 'dev_eui', 'device', 'type'] as const,
  fields: { count: 'integer: 1 per event', message: 'string', time_source: "string: joins only: 'network_server', 'gateway' or 'reception'" },
} as const;

/** Device positions the network server reports (ChirpStack `location`, TTS `location/solved`), for maps. */
export const DEVICE_LOCATION = {
  measurement: 'device_location',
  tags: ['tenant', 'site', 'dev_eui', 'device'] as const,
  fields: {
    latitude: 'float: WGS84 degrees',
    longitude: 'float: WGS84 degrees',
    altitude_m: 'float: metres',
    accuracy_m: 'float: metres, when the LNS gives one',
    source: "string: who computed it ('gps', 'wifi_rssi_geolocation', 'geo_resolver_tdoa', …), '' when not said",
    time_source: "string: 'network_server' or 'reception'",
  },
} as const;

/** Gateways that received a commune's uplinks, at most one point per gateway and tenant per hour (and on a move). */
export const GATEWAY = {
  measurement: 'gateway',
  tags: ['tenant', 'gateway_id', 'lns'] as const,
  fields: {
    latitude: 'float: WGS84 degrees, when the LNS gives the position',
    longitude: 'float: WGS84 degrees',
    altitude_m: 'float: metres',
    rssi_dbm: 'float: RSSI of the uplink that triggered the point',
    snr_db: 'float: SNR of that uplink',
  },
} as const;

/** Values of the `alert_event` tags `severity`, `category` and of its `state` field (alerts/model.ts types its alerts with them). */
export type AlertSeverity = 'info' | 'warning' | 'major' | 'critical';
export type AlertCategory = 'water' | 'energy' | 'air' | 'datacenter' | 'fleet';
export type AlertStateValue = 'open' | 'acknowledged' | 'resolved';

export const ALERT_EVENT = {
  measurement: 'alert_event',
  tags: ['tenant', 'site', 'rule', 'category', 'severity', 'event'] as const,
  events: ['opened', 'escalated', 'acknowledged', 'resolved'] as const,
  fields: {
    alert_id: 'string: the alert (one per rule and subject while open)',
    rule_version: 'integer',
    state: "string: 'open', 'acknowledged', 'resolved'",
    dev_eui: 'string: the device, when the subject is one',
    device: 'string: device name',
    zone: 'string',
    started_at_ms: 'integer: when the condition started (epoch ms)',
    message_fr: 'string: the explanation, in French',
    message_en: 'string: the explanation, in English',
    details: 'string: JSON with window, thresholds, measured values, rule source, suggested action, who acknowledged or resolved',
  },
} as const;
