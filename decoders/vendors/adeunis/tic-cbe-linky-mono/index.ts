/**
 * Adeunis TIC CBE/LINKY MONO: TIC interface (hardware 8250AA, firmware 1.4.x) configured with the vendor's
 * "CbeLinkyMono" profile, for single-phase electronic (CBE) and Linky meters in historic TIC mode.
 *
 * Follows the Adeunis TIC datasheet / configuration profile and the vendor's 0x49 example in TTN
 * lorawan-devices vendor/adeunis/tic-cbe-linky-mono-codec.yaml. Frame layout in ../tic.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeTicFrame } from '../tic.ts';

export const ticCbeLinkyMono: DeviceDefinition = {
  vendor: 'Adeunis',
  model: 'TIC CBE/LINKY MONO',
  description: 'Electricity meter TIC interface, single-phase CBE/Linky (historic mode): BASE or HCHC/HCHP indexes, IINST, PAPP',
  category: 'energy-meter',
  fPorts: [1],
  exposes: ['metering.electricity.activeEnergy', 'electricity.current', 'electricity.apparentPower'],
  documentation: [
    { title: 'TIC electricity meter interface, product page', url: 'https://www.adeunis.com/produit/tic-compteur-electrique/' },
    { title: 'TIC datasheet', url: 'https://www.adeunis.com/wp-content/uploads/2019/09/Datasheet_TIC.pdf' },
    {
      title: 'TIC configuration profile CBE/Linky mono',
      url: 'https://www.adeunis.com/wp-content/uploads/2019/09/TIC_LoRa_appl_CbeLinkyMono.config.zip',
    },
    {
      title: 'Adeunis codec examples (TTN Device Repository, tic-cbe-linky-mono-codec.yaml)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/adeunis/tic-cbe-linky-mono-codec.yaml',
    },
  ],
  decode: (input) => decodeTicFrame(input, 'mono'),
};
