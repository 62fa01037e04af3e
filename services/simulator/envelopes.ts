/** Network-server envelopes, as ChirpStack v4 (JSON marshaler) and The Things Stack v3 publish them. */
import { topicApplication, type SimDevice } from './device.ts';
import type { Frame } from './frames/types.ts';
import { uuidFrom } from './random.ts';

// Re-exported: callers that build envelopes also name the application their topics carry.
export { topicApplication } from './device.ts';

export interface RadioSim {
  rssi: number;
  snr: number;
  spreadingFactor: number;
  gateways: number;
}

export interface Message {
  topic: string;
  payload: string;
}

export function envelope(d: SimDevice, fCnt: number, frame: Frame, time: Date, radio: RadioSim): Message {
  return d.lns === 'tts-v3' ? ttsV3Up(d, fCnt, frame, time, radio) : chirpstackV4Up(d, fCnt, frame, time, radio);
}

/** Protobuf JSON mapping: zero values (fCnt 0, confirmed false) are left out, as ChirpStack does. */
export function chirpstackV4Up(d: SimDevice, fCnt: number, frame: Frame, time: Date, radio: RadioSim): Message {
  const applicationId = topicApplication(d);
  const event = {
    deduplicationId: uuidFrom(`${d.devEui}:${fCnt}:${time.getTime()}`),
    time: time.toISOString(),
    deviceInfo: {
      tenantId: uuidFrom(`tenant:${d.lnsTenant}`),
      tenantName: d.lnsTenant,
      applicationId,
      applicationName: d.application,
      deviceProfileId: uuidFrom(`profile:${d.profile}`),
      deviceProfileName: d.profile,
      deviceName: d.name,
      devEui: d.devEui,
      deviceClassEnabled: 'CLASS_A',
      tags: { site: d.site },
    },
    devAddr: d.devEui.slice(8),
    adr: true,
    ...(12 - radio.spreadingFactor > 0 ? { dr: 12 - radio.spreadingFactor } : {}),
    ...(fCnt > 0 ? { fCnt } : {}),
    fPort: frame.fPort,
    data: Buffer.from(frame.bytes).toString('base64'),
    rxInfo: Array.from({ length: radio.gateways }, (_, g) => ({
      gatewayId: `7276ff002e0${g}0000`,
      uplinkId: (fCnt * 7 + g) % 65536,
      nsTime: time.toISOString(),
      rssi: radio.rssi - g * 6,
      snr: Math.round((radio.snr - g * 2.5) * 10) / 10,
      channel: fCnt % 8,
      location: {},
      context: 'AAAAAA==',
      crcStatus: 'CRC_OK',
    })),
    txInfo: { frequency: 867_100_000 + (fCnt % 8) * 200_000, modulation: { lora: { bandwidth: 125_000, spreadingFactor: radio.spreadingFactor, codeRate: 'CR_4_5' } } },
  };
  return { topic: `application/${applicationId}/device/${d.devEui}/event/up`, payload: JSON.stringify(event) };
}

/** Empty fields are omitted (f_cnt 0 is absent), frequency is a string, the tenant is in the topic. */
export function ttsV3Up(d: SimDevice, fCnt: number, frame: Frame, time: Date, radio: RadioSim): Message {
  const at = time.toISOString();
  const event = {
    end_device_ids: { device_id: d.name, application_ids: { application_id: d.application }, dev_eui: d.devEui.toUpperCase(), dev_addr: d.devEui.slice(8).toUpperCase() },
    correlation_ids: [`as:up:${uuidFrom(`${d.devEui}:${fCnt}`)}`],
    received_at: at,
    uplink_message: {
      ...(frame.fPort ? { f_port: frame.fPort } : {}),
      ...(fCnt ? { f_cnt: fCnt } : {}),
      frm_payload: Buffer.from(frame.bytes).toString('base64'),
      rx_metadata: Array.from({ length: radio.gateways }, (_, g) => ({
        gateway_ids: { gateway_id: `gw-agglo-${g + 1}` },
        time: at,
        rssi: radio.rssi - g * 6,
        channel_rssi: radio.rssi - g * 6,
        snr: Math.round((radio.snr - g * 2.5) * 10) / 10,
      })),
      settings: { data_rate: { lora: { bandwidth: 125_000, spreading_factor: radio.spreadingFactor, coding_rate: '4/5' } }, frequency: String(868_100_000 + (fCnt % 3) * 200_000) },
      received_at: at,
      version_ids: { brand_id: d.decoder.split('/')[0], model_id: d.profile },
      network_ids: { net_id: '000013', tenant_id: d.lnsTenant },
    },
  };
  return { topic: `v3/${d.application}@${d.lnsTenant}/devices/${d.name}/up`, payload: JSON.stringify(event) };
}
