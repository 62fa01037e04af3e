/** What every network-server envelope is normalised into: the only shape the pipeline sees. */

export type LnsFormat = 'chirpstack-v4' | 'chirpstack-v3' | 'tts-v3';

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
}

export interface Uplink extends DeviceIdentity {
  kind: 'uplink';
  topic: string;
  fPort: number;
  fCnt: number;
  payload: Buffer;
  /** Network-server reception time: the point identity of everything this uplink produces. */
  receivedAt: Date;
  /** LNS message id (ChirpStack deduplicationId, TTS correlation) when present. */
  messageId?: string;
  confirmed: boolean;
  radio: Radio;
  /** Object decoded by the LNS's own codec, when it ran one. */
  lnsObject?: Record<string, unknown>;
}

export interface StatusEvent extends DeviceIdentity {
  kind: 'status';
  topic: string;
  receivedAt: Date;
  batteryLevel?: number;
  batteryLevelUnavailable: boolean;
  externalPowerSource: boolean;
  marginDb?: number;
}

export interface JoinEvent extends DeviceIdentity {
  kind: 'join';
  topic: string;
  receivedAt: Date;
  devAddr?: string;
}

export type LnsEvent = Uplink | StatusEvent | JoinEvent;

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
  detail: string;
}

export type ParseOutcome = LnsEvent | Rejection | Ignored;
