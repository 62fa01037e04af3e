/**
 * Electricity emission factors for the datacenter reports, versioned.
 *
 * Why: a carbon figure is only meaningful with the factor, its vintage and its source next to it, and the
 * factor changes every year. For a greenhouse-gas inventory ADEME asks for the "mix de consommation – moyen"
 * of Base Empreinte (France, life-cycle, per kWh consumed); the per-use factors (chauffage, éclairage…) are
 * indicative only and are no longer computed after the 2023 vintage. RTE's direct-emission figures
 * (≈ 20–30 g/kWh) are a grid signal, not an inventory factor, and are deliberately not offered here.
 *
 * The values below are the ones quoted in public material, not read from Base Empreinte by us: before an
 * official publication, check them against https://base-empreinte.ademe.fr and pass the checked factor as an
 * override (`resolveEmissionFactor({ id, kgCo2ePerKwh, vintage, source })`).
 */

export interface EmissionFactor {
  /** Stable id, stored with every report: change the id when the value changes. */
  id: string;
  /** kg CO₂e per kWh of electricity consumed. */
  kgCo2ePerKwh: number;
  /** Vintage of the factor (the year the data describe, as the source names it). */
  vintage: string;
  /** Where the value comes from, and how sure we are of it. */
  source: string;
}

export const EMISSION_FACTORS = {
  'ademe-mix-moyen-2024': {
    id: 'ademe-mix-moyen-2024',
    kgCo2ePerKwh: 0.0519,
    vintage: '2024',
    source:
      'ADEME Base Empreinte, "Électricité – mix moyen – consommation", France continentale, ACV (0.0519 kgCO2e/kWh as quoted ' +
      'for 2024 in public material; to be checked against Base Empreinte before an official publication)',
  },
  'ademe-mix-moyen-2022': {
    id: 'ademe-mix-moyen-2022',
    kgCo2ePerKwh: 0.057,
    vintage: '2022',
    source:
      'ADEME Base Carbone / Base Empreinte, "Électricité – mix moyen – consommation", France continentale, earlier vintage: ' +
      'approximate value (≈ 0.057 kgCO2e/kWh), unverified: must be checked against Base Empreinte before use',
  },
} as const satisfies Record<string, EmissionFactor>;

export type EmissionFactorId = keyof typeof EMISSION_FACTORS;

export const DEFAULT_EMISSION_FACTOR_ID: EmissionFactorId = 'ademe-mix-moyen-2024';

export function isEmissionFactorId(id: string): id is EmissionFactorId {
  return Object.hasOwn(EMISSION_FACTORS, id);
}

/**
 * The factor to use: the default, a known id, or the caller's own factor object (e.g. a newer vintage read
 * from Base Empreinte, or a supplier's contractual factor). Throws a RangeError on an unknown id or an invalid
 * factor, never returns a factor that would turn energy into NaN.
 */
export function resolveEmissionFactor(factor?: EmissionFactorId | string | EmissionFactor): EmissionFactor {
  if (factor === undefined) return EMISSION_FACTORS[DEFAULT_EMISSION_FACTOR_ID];
  if (typeof factor === 'string') {
    if (!isEmissionFactorId(factor)) {
      throw new RangeError(`unknown emission factor '${factor}'; known: ${Object.keys(EMISSION_FACTORS).join(', ')}`);
    }
    return EMISSION_FACTORS[factor];
  }
  if (!factor.id || !Number.isFinite(factor.kgCo2ePerKwh) || factor.kgCo2ePerKwh < 0 || !factor.vintage || !factor.source) {
    throw new RangeError('an emission factor needs an id, a finite non-negative kgCo2ePerKwh, a vintage and a source');
  }
  return { id: factor.id, kgCo2ePerKwh: factor.kgCo2ePerKwh, vintage: factor.vintage, source: factor.source };
}
