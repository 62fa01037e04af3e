/**
 * Elvaco CMi4130, M-Bus to LoRaWAN module for Itron CF 51, CF 55 and CF Echo II heat meters.
 * Follows the CMi4130 User's Manual v1.1 (2020-06), §6.7 "Message formats" (Table 4 and the payload tables of each
 * format): uplinks on fPort 2, byte 0 the message format identifier (0x0F..0x14, 0xFA clock message), then M-Bus
 * records (decoder in ../module.ts).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELVACO_FPORT, elvacoModuleDecoder, manualDocument } from '../module.ts';

export const cmi4130: DeviceDefinition = {
  vendor: 'Elvaco',
  model: 'CMi4130',
  description: 'M-Bus to LoRaWAN module for Itron CF 51, CF 55 and CF Echo II heat meters (energy, volume, power, flow, temperatures)',
  category: 'heat-meter',
  fPorts: [ELVACO_FPORT],
  exposes: ['metering.heat.total', 'metering.heat.volume', 'heat.power', 'heat.flow', 'heat.flowTemperature', 'heat.returnTemperature'],
  documentation: [
    manualDocument('CMi4130', 'https://manualshive.com/ru/manual/elvaco/cmi4130/2397665?page=13', 'v1.1 (2020-06)'),
    { title: 'Elvaco CMi4130 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elvaco/cmi4130-codec.yaml' },
  ],
  decode: elvacoModuleDecoder('CMi4130', {
    formats: { 0x0f: 'Standard', 0x10: 'Compact', 0x11: 'JSON', 0x12: 'Scheduled - daily redundant', 0x13: 'Scheduled - extended', 0x14: 'Combined heat/cooling' },
    json: 0x11,
  }),
};
