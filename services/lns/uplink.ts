/** What every network-server envelope is normalised into: the only shape the pipeline sees. */

export type LnsFormat = 'chirpstack-v4' | 'chirpstack-v3' | 'tts-v3' | 'thingpark' | 'liveobjects';

/**
 * Where an event's time comes from, best first: the network server's own reception time, else a gateway's time of the
 * frame, else the moment Veilleur received the MQTT message (stored as `time_source` so a fallback can be audited).
 */
export type TimeSource = 'network_server' | 'gateway' | 'reception';

export interface Radio {
  /** Gateways that received the frame (after the network server's own deduplication). */
  gateways: number;
  /** Best RSSI over gateways, dBm. */
  rssi?: number;
  /** Best SNR over gateways, dB. */
  snr?: number;
  spreadingFactor?: number;
  bandwidthHz?: number;
  frequencyHz?: number;
  dataRate?: number;
  /** Time on air as the LNS reports it (TTS), else computed from SF/BW/size. */
  airtimeMs?: number;
}

export interface DeviceIdentity {
  lns: LnsFormat;
  /** Network-server tenant (ChirpStack tenant name or id, TTS tenant from the topic); '' when the LNS has none. */
  lnsTenant: string;
  applicationId: string;
  applicationName: string;
  /** Lower-case, 16 hex characters. */
  devEui: string;
  deviceName: string;
  deviceProfile: string;
  /** LNS device tags / attributes. */
  tags: Record<string, string>;
  /**
   * What the MQTT topic says, which broker ACLs can enforce (the body cannot be trusted for that): ChirpStack's
   * `application/{id}`, TTS's `v3/{app}@{tenant}`, Live Objects' group path. Unset when the topic carries none.
   */
  topicApplication?: string;
  /** TTS tenant from the topic (`{app}@{tenant}`); unset when the topic carries none. */
  topicTenant?: string;
}

export interface Uplink extends DeviceIdentity {
  kind: 'uplink';
  topic: string;
  fPort: number;
  fCnt: number;
  payload: Buffer;
  /** Network-server reception time: the point identity of everything this uplink produces. */
  receivedAt: Date;
  /** Where `receivedAt` came from; unset for uplinks rebuilt from storage. */
  timeSource?: TimeSource;
  /** LNS message id (ChirpStack deduplicationId, TTS correlation) when present. */
  messageId?: string;
  confirmed: boolean;
  radio: Radio;
  /** Object decoded by the LNS's own codec, when it ran one. */
  lnsObject?: Record<string, unknown>;
  /** Gateways that received it, as the LNS reports them (id always, position when known). */
  gatewayInfo?: GatewayInfo[];
}

export interface StatusEvent extends DeviceIdentity {
  kind: 'status';
  topic: string;
  receivedAt: Date;
  timeSource?: TimeSource;
  batteryLevel?: number;
  batteryLevelUnavailable: boolean;
  externalPowerSource: boolean;
  marginDb?: number;
}

export interface JoinEvent extends DeviceIdentity {
  kind: 'join';
  topic: string;
  receivedAt: Date;
  timeSource?: TimeSource;
  devAddr?: string;
}

/** A device position the network server reports (ChirpStack `location`, TTS `location/solved`): kept for maps. */
export interface LocationEvent extends DeviceIdentity {
  kind: 'location';
  topic: string;
  receivedAt: Date;
  timeSource: TimeSource;
  latitude: number;
  longitude: number;
  altitudeM?: number;
  accuracyM?: number;
  /** Who computed it, a bounded code ('gps', 'geolocation', 'config', …), or '' when the LNS does not say. */
  source: string;
}

/** What a gateway that received an uplink says about itself (id and position), kept for coverage maps. */
export interface GatewayInfo {
  gatewayId: string;
  latitude?: number;
  longitude?: number;
  altitudeM?: number;
  rssi?: number;
  snr?: number;
}

export type LnsEvent = Uplink | StatusEvent | JoinEvent | LocationEvent;

/** A message that could not become an event; `reason` is a bounded code (a tag), `detail` says what was expected. */
export interface Rejection {
  kind: 'rejected';
  reason: RejectReason;
  detail: string;
  lns?: LnsFormat;
  devEui?: string;
}

export type RejectReason =
  | 'invalid_json'
  | 'protobuf_payload'
  | 'unknown_topic'
  | 'unknown_envelope'
  | 'invalid_envelope'
  | 'bad_base64'
  /** A valid event whose body or registry entry places the device in another commune than its topic (services/registry/tenant-authority.ts). */
  | 'tenant_mismatch';

/** Events the LNS publishes that Veilleur deliberately does not store (e.g. ChirpStack `log`, `txack`). */
export interface Ignored {
  kind: 'ignored';
  lns: LnsFormat;
  /** Bounded event code (a metric label): 'txack', 'down_ack', 'service_data', …, 'other' for names not in the list. */
  event: string;
  detail: string;
}

export type ParseOutcome = LnsEvent | Rejection | Ignored;
