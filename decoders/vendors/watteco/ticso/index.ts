/**
 * Watteco TICS'O (family 50-70-045) — LoRaWAN reader of the French electricity meters' customer tele-information
 * output (TIC: CBE "historique" meters and Linky in historic or standard mode).
 *
 * Follows Watteco's support page "TIC" (https://support.watteco.com/tic/): TIC clusters 0x0053 (ICE),
 * 0x0054 (CBE / historic), 0x0055 (CJE), 0x0056 (Linky standard), 0x0057 (PME-PMI); attribute
 * <instance><0x00> carries a descriptor and the selected TIC fields (see ../tic.ts). Energy indexes are
 * Wh and are exposed with the TIC label as channel (BASE, HCHC, HCHP, EAST, EASF01…); only the CBE and
 * standard field lists are implemented. Also decodes the Configuration cluster (battery voltage) and the
 * Simple Metering Like cluster. Frames are Watteco standard reports on fPort 125; batch reports are
 * not decoded yet.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeWatteco } from '../clusters.ts';

export const wattecoTicso: DeviceDefinition = {
  vendor: 'Watteco',
  model: "TICS'O",
  description: 'TIC (télé-information client) reader for Linky meters in standard or historic mode and CBE meters',
  category: 'energy-meter',
  fPorts: [125],
  exposes: [
    'metering.electricity.activeEnergy',
    'metering.electricity.activeEnergyExport',
    'metering.electricity.reactiveEnergy',
    'electricity.activePower',
    'electricity.reactivePower',
    'electricity.apparentPower',
    'electricity.current',
    'electricity.voltage',
    'battery',
  ],
  documentation: [
    { title: 'Watteco support — TIC sensors and TIC clusters', url: 'https://support.watteco.com/tic/' },
    { title: "Watteco — TICS'O product page", url: 'https://www.watteco.fr/produit/capteur-ticso-lorawan/' },
    { title: 'Watteco support — Configuration Cluster (0x0050, node power descriptor)', url: 'https://support.watteco.com/configuration-cluster' },
  ],
  decode: (input) =>
    decodeWatteco(input, { model: "TICS'O", clusters: [0x0000, 0x0050, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x8004] }),
};
