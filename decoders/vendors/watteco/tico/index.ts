/**
 * Watteco TIC'O — LoRaWAN reader of the French electricity meters' customer tele-information (TIC) in historic
 * mode: CBE ("compteur bleu électronique") meters and Linky meters left in their default historic mode, plus the
 * industrial meters' historic outputs (ICE, CJE, PME-PMI clusters, whose field lists are not published, see
 * docs/decoders.md). TICS'O (../ticso) is the reader that also follows Linky meters switched to standard mode.
 *
 * Same frame format as every Watteco sensor (ZCL standard reports, ../zcl.ts) and the same TIC clusters as
 * TICS'O (Watteco support page "TIC", https://support.watteco.com/tic/): attribute <instance><0x00> of cluster
 * 0x0054 carries a descriptor (bitfield or index list) and the selected historic-mode fields (ADCO, OPTARIF,
 * ISOUSC, BASE, HCHC, HCHP, EJP…, BBR…, PTEC, IINST1-3, IMAX1-3, PMAX, PAPP…, see ../tic.ts). Energy indexes
 * are Wh, with the TIC label as channel (BASE, the whole-meter total, without one). A standard-mode cluster
 * (0x0056) is not something this reader sends: it is reported as not decoded for this model, with a warning.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeWatteco } from '../clusters.ts';
import { WATTECO_PORT } from '../zcl.ts';

export const wattecoTico: DeviceDefinition = {
  vendor: 'Watteco',
  model: "TIC'O",
  description: 'TIC (télé-information client) reader for CBE and Linky meters in historic mode',
  category: 'energy-meter',
  fPorts: [WATTECO_PORT],
  exposes: ['metering.electricity.activeEnergy', 'electricity.apparentPower', 'electricity.current', 'battery'],
  documentation: [
    { title: 'Watteco support — TIC sensors and TIC clusters (cluster 0x0054, CBE / historic mode field list)', url: 'https://support.watteco.com/tic/' },
    { title: 'Watteco support — Configuration Cluster (0x0050, node power descriptor)', url: 'https://support.watteco.com/configuration-cluster' },
    {
      title: "Watteco-contributed TIC codec examples (TTN Device Repository, ticso-codec.yaml; the historic-mode cluster frames are the same)",
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/watteco/ticso-codec.yaml',
    },
  ],
  decode: (input) => decodeWatteco(input, { model: "TIC'O", clusters: [0x0000, 0x0050, 0x0053, 0x0054, 0x0055, 0x0057, 0x8004] }),
};
