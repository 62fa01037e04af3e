/**
 * Watteco Smart Plug (family code 50-70-003), LoRaWAN class C mains plug with relay and metering.
 *
 * Follows Watteco's support pages: "Smart plug" (https://support.watteco.com/smartplug/), "ON/OFF Cluster"
 * (relay state, cluster 0x0006) and "Simple Metering Like Cluster" (cluster 0x0052: active energy Wh,
 * reactive energy varh, number of samples, active power W, reactive power var), plus the generic
 * Basic (firmware) and LoRaWAN (message type) clusters. Frames are Watteco standard reports on fPort 125
 * (see ../zcl.ts). The power quality cluster 0x8052 and batch reports are not decoded.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeWatteco } from '../clusters.ts';

export const wattecoSmartPlug: DeviceDefinition = {
  vendor: 'Watteco',
  model: 'Smart Plug',
  description: 'Smart plug with relay, active/reactive energy and power metering (LoRaWAN class C)',
  category: 'energy-meter',
  fPorts: [125],
  exposes: [
    'metering.electricity.activeEnergy',
    'metering.electricity.reactiveEnergy',
    'electricity.activePower',
    'electricity.reactivePower',
  ],
  documentation: [
    { title: 'Watteco support — Smart plug', url: 'https://support.watteco.com/smartplug/' },
    { title: 'Watteco support — Simple Metering Like Cluster (0x0052)', url: 'https://support.watteco.com/simple-metering-like-cluster' },
    { title: 'Watteco support — ON/OFF Cluster (0x0006)', url: 'https://support.watteco.com/onoff-cluster' },
  ],
  decode: (input) => decodeWatteco(input, { model: 'Smart Plug', clusters: [0x0000, 0x0006, 0x0050, 0x0052, 0x8004] }),
};
