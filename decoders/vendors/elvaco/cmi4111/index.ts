/**
 * Elvaco CMi4111, M-Bus to LoRaWAN module for Landis+Gyr T230 and T330 heat and cooling meters.
 * Follows the CMi4111 User's Manual v1.4 (2021-05): uplinks on fPort 2, byte 0 the message format identifier, then
 * M-Bus records laid out as in the other CMi41xx manuals (decoder in ../module.ts). The manual's configuration table
 * gives 0x05 as the Standard format (the default); the identifiers of its other formats could not be read from the
 * published copy, so they decode generically on port 2, with a warning.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELVACO_FPORT, elvacoModuleDecoder, manualDocument } from '../module.ts';

export const cmi4111: DeviceDefinition = {
  vendor: 'Elvaco',
  model: 'CMi4111',
  description: 'M-Bus to LoRaWAN module for Landis+Gyr T230 and T330 heat and cooling meters (energy, volume, power, flow, temperatures)',
  category: 'heat-meter',
  fPorts: [ELVACO_FPORT],
  exposes: ['metering.heat.total', 'metering.heat.volume', 'heat.power', 'heat.flow', 'heat.flowTemperature', 'heat.returnTemperature'],
  documentation: [
    manualDocument('CMi4111', "https://manuzoid.com/manuals/MNomy-Elvaco%20CMi4111%20Owner's%20manual", 'v1.4 (2021-05)'),
    { title: 'Elvaco CMi4111 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elvaco/cmi4111-codec.yaml' },
  ],
  decode: elvacoModuleDecoder('CMi4111', {
    formats: { 0x05: 'Standard' },
  }),
};
