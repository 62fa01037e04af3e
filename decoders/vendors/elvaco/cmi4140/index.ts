/**
 * Elvaco CMi4140, M-Bus to LoRaWAN module for Kamstrup MULTICAL 403, 603 and 803 heat and cooling meters.
 * Follows the CMi4140 User's Manual v1.1 (2020-06), §6.7 "Message formats" (Table 5 and the payload tables of each
 * format): uplinks on fPort 2, byte 0 the message format identifier (0x15..0x1B), then M-Bus records (decoder in
 * ../module.ts). The Things Network's example for this module is the CMi4110's frame (format byte 0x00, not in this
 * module's table): it decodes generically, with a warning.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELVACO_FPORT, elvacoModuleDecoder, manualDocument } from '../module.ts';

export const cmi4140: DeviceDefinition = {
  vendor: 'Elvaco',
  model: 'CMi4140',
  description: 'M-Bus to LoRaWAN module for Kamstrup MULTICAL 403, 603 and 803 heat and cooling meters (energy, volume, power, flow, temperatures)',
  category: 'heat-meter',
  fPorts: [ELVACO_FPORT],
  exposes: ['metering.heat.total', 'metering.heat.volume', 'heat.power', 'heat.flow', 'heat.flowTemperature', 'heat.returnTemperature'],
  documentation: [
    manualDocument('CMi4140', 'https://manualshive.com/en/manual/elvaco/cmi4140/cmi4140_user-manual_2397666-12.html', 'v1.1 (2020-06)'),
    { title: 'Elvaco CMi4140 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elvaco/cmi4140-codec.yaml' },
  ],
  decode: elvacoModuleDecoder('CMi4140', {
    formats: { 0x15: 'Standard', 0x16: 'Compact', 0x17: 'JSON', 0x18: 'Scheduled - daily redundant', 0x19: 'Scheduled - extended', 0x1a: 'Combined heat/cooling', 0x1b: 'Heat Intelligence' },
    json: 0x17,
  }),
};
