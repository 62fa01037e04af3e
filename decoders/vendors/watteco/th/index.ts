/**
 * Watteco TH — indoor temperature and humidity sensor (family codes 50-70-162 / 50-70-191).
 *
 * Follows Watteco's support pages: "Temperature and Humidity Indoor" (https://support.watteco.com/indoor_th),
 * "Temperature Measurement Cluster" (0x0402, MeasuredValue s16 in °C/100), "Relative Humidity Measurements
 * Cluster" (0x0405, MeasuredValue u16 in %/100), "Binary Input" (0x000F, case violation 0x0055, count 0x0402)
 * and "Configuration Cluster" (0x0050 node power descriptor: battery voltage in mV). Frames are Watteco
 * standard reports on fPort 125 (see ../zcl.ts); 0x8A alarm reports become an `alarm` event.
 * Batch reports are not decoded yet.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeWatteco } from '../clusters.ts';

export const wattecoTh: DeviceDefinition = {
  vendor: 'Watteco',
  model: 'TH',
  description: 'Indoor temperature and relative humidity sensor (battery)',
  category: 'indoor-climate',
  fPorts: [125],
  exposes: ['air.temperature', 'air.relativeHumidity', 'battery'],
  documentation: [
    { title: 'Watteco support — Temperature and Humidity Indoor', url: 'https://support.watteco.com/indoor_th' },
    { title: 'nke Watteco support — Relative Humidity Measurements Cluster (0x0405)', url: 'http://support.nke-watteco.com/relative-humidity-measurements-cluster/' },
    { title: 'Watteco support — Configuration Cluster (0x0050, node power descriptor)', url: 'https://support.watteco.com/configuration-cluster' },
  ],
  decode: (input) => decodeWatteco(input, { model: 'TH', clusters: [0x0000, 0x000f, 0x0050, 0x0402, 0x0405, 0x8004] }),
};
