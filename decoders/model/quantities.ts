/**
 * The canonical, unit-bearing vocabulary every decoder produces and every rule and dashboard reads.
 *
 * Ids follow The Things Network's normalized payload vocabulary where it covers a quantity
 * (`air.temperature`, `water.leak`, `metering.water.total`, `battery`), and extend it in the same
 * dotted style where it does not. Each quantity has exactly one storage place (measurement + field)
 * and one field type, so InfluxDB never sees an int/float conflict. Units are SI-ish and chosen so
 * that meter indexes stay exact integers in a float64 (litres, Wh).
 *
 * Channels: a reading without `channel` is the whole device's value (for a meter, its total index). Multi-input
 * devices put the input in `channel`; a meter that also reports per-tariff registers (TIC HCHC/HCHP, EASF01…)
 * puts the period label there, next to its channel-less total when the meter has one (Linky EAST, BASE).
 */

export type FieldType = 'float' | 'boolean';

export interface QuantitySpec {
  /** InfluxDB measurement (a few wide ones, by domain). */
  measurement: Measurement;
  /** InfluxDB field name; the unit is in the name. */
  field: string;
  /** Unit symbol of the canonical value ('' for booleans and dimensionless numbers). */
  unit: string;
  type: FieldType;
  /** A monotonic index (meter register): totals come from non-negative differences. */
  cumulative?: boolean;
  description: { fr: string; en: string };
}

export const MEASUREMENTS = ['water', 'electricity', 'heat', 'air', 'presence', 'pulse', 'device'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

const q = (
  measurement: Measurement,
  field: string,
  unit: string,
  type: FieldType,
  fr: string,
  en: string,
  cumulative = false,
): QuantitySpec => ({ measurement, field, unit, type, description: { fr, en }, ...(cumulative ? { cumulative } : {}) });

export const QUANTITIES = {
  // Water
  'metering.water.total': q('water', 'volume_index_l', 'L', 'float', "Index du compteur d'eau", 'Water meter index', true),
  'metering.water.reverse': q('water', 'reverse_volume_index_l', 'L', 'float', 'Index de retour d’eau', 'Reverse-flow volume index', true),
  'water.flow': q('water', 'flow_l_h', 'L/h', 'float', "Débit d'eau", 'Water flow'),
  'water.leak': q('water', 'leak', '', 'boolean', "Présence d'eau (détecteur de fuite)", 'Water detected (leak sensor)'),
  'water.temperature': q('water', 'temperature_c', '°C', 'float', "Température de l'eau", 'Water temperature'),
  'water.alarm.leak': q('water', 'alarm_leak', '', 'boolean', 'Alarme fuite du compteur', 'Meter leak alarm'),
  'water.alarm.burst': q('water', 'alarm_burst', '', 'boolean', 'Alarme rupture / surdébit', 'Burst / overflow alarm'),
  'water.alarm.backflow': q('water', 'alarm_backflow', '', 'boolean', 'Alarme retour d’eau', 'Backflow alarm'),
  'water.alarm.tamper': q('water', 'alarm_tamper', '', 'boolean', 'Alarme fraude / démontage', 'Tamper / removal alarm'),
  'water.alarm.dry': q('water', 'alarm_dry', '', 'boolean', 'Alarme tuyau vide / compteur sec', 'Dry pipe / empty meter alarm'),

  // Electricity
  'metering.electricity.activeEnergy': q('electricity', 'active_energy_index_wh', 'Wh', 'float', "Index d'énergie active consommée", 'Active energy import index', true),
  'metering.electricity.activeEnergyExport': q('electricity', 'active_energy_export_index_wh', 'Wh', 'float', "Index d'énergie active injectée", 'Active energy export index', true),
  'metering.electricity.reactiveEnergy': q('electricity', 'reactive_energy_index_varh', 'varh', 'float', "Index d'énergie réactive", 'Reactive energy index', true),
  'metering.electricity.apparentEnergy': q('electricity', 'apparent_energy_index_vah', 'VAh', 'float', "Index d'énergie apparente", 'Apparent energy index', true),
  'electricity.activePower': q('electricity', 'active_power_w', 'W', 'float', 'Puissance active', 'Active power'),
  'electricity.apparentPower': q('electricity', 'apparent_power_va', 'VA', 'float', 'Puissance apparente', 'Apparent power'),
  'electricity.reactivePower': q('electricity', 'reactive_power_var', 'var', 'float', 'Puissance réactive', 'Reactive power'),
  'electricity.current': q('electricity', 'current_a', 'A', 'float', 'Courant', 'Current'),
  'electricity.voltage': q('electricity', 'voltage_v', 'V', 'float', 'Tension', 'Voltage'),
  'electricity.powerFactor': q('electricity', 'power_factor', '', 'float', 'Facteur de puissance', 'Power factor'),
  'electricity.frequency': q('electricity', 'frequency_hz', 'Hz', 'float', 'Fréquence du réseau', 'Grid frequency'),

  // Heat (thermal energy meters)
  'metering.heat.total': q('heat', 'energy_index_wh', 'Wh', 'float', "Index d'énergie thermique", 'Heat energy index', true),
  'metering.heat.volume': q('heat', 'volume_index_l', 'L', 'float', 'Index de volume du compteur de chaleur', 'Heat meter volume index', true),
  'heat.power': q('heat', 'power_w', 'W', 'float', 'Puissance thermique', 'Heat power'),
  'heat.flow': q('heat', 'flow_l_h', 'L/h', 'float', 'Débit du circuit', 'Circuit flow'),
  'heat.flowTemperature': q('heat', 'flow_temperature_c', '°C', 'float', 'Température départ', 'Flow temperature'),
  'heat.returnTemperature': q('heat', 'return_temperature_c', '°C', 'float', 'Température retour', 'Return temperature'),

  // Indoor air / climate
  'air.temperature': q('air', 'temperature_c', '°C', 'float', "Température de l'air", 'Air temperature'),
  'air.relativeHumidity': q('air', 'humidity_pct', '%', 'float', 'Humidité relative', 'Relative humidity'),
  'air.co2': q('air', 'co2_ppm', 'ppm', 'float', 'CO₂', 'CO₂'),
  'air.tvoc': q('air', 'tvoc_ug_m3', 'µg/m³', 'float', 'COV totaux', 'Total VOC'),
  'air.tvocPpb': q('air', 'tvoc_ppb', 'ppb', 'float', 'COV totaux (ppb)', 'Total VOC (ppb)'),
  'air.tvocIndex': q('air', 'tvoc_index', '', 'float', 'Indice COV', 'VOC index'),
  'air.hcho': q('air', 'hcho_mg_m3', 'mg/m³', 'float', 'Formaldéhyde', 'Formaldehyde'),
  'air.pressure': q('air', 'pressure_hpa', 'hPa', 'float', 'Pression atmosphérique', 'Barometric pressure'),
  'air.lightIntensity': q('air', 'illuminance_lux', 'lx', 'float', 'Éclairement', 'Illuminance'),
  'air.pm2_5': q('air', 'pm2_5_ug_m3', 'µg/m³', 'float', 'Particules PM2,5', 'PM2.5'),
  'air.pm10': q('air', 'pm10_ug_m3', 'µg/m³', 'float', 'Particules PM10', 'PM10'),

  // Occupancy and openings
  'action.motion.detected': q('presence', 'motion', '', 'boolean', 'Mouvement détecté', 'Motion detected'),
  'action.motion.count': q('presence', 'motion_count', '', 'float', 'Compteur de mouvements', 'Motion counter', true),
  'action.contactState': q('presence', 'door_open', '', 'boolean', 'Ouvrant ouvert', 'Door / window open'),
  'presence.occupied': q('presence', 'occupied', '', 'boolean', 'Pièce occupée', 'Room occupied'),
  'presence.peopleCount': q('presence', 'people_count', '', 'float', 'Nombre de personnes', 'People count'),

  // Pulse counters whose medium and weight come from the registry
  'metering.pulse.total': q('pulse', 'count_index', '', 'float', "Index d'impulsions", 'Pulse count index', true),

  // Device health
  battery: q('device', 'battery_v', 'V', 'float', 'Tension de la pile', 'Battery voltage'),
  batteryLevel: q('device', 'battery_pct', '%', 'float', 'Niveau de pile', 'Battery level'),
  'device.temperature': q('device', 'internal_temperature_c', '°C', 'float', 'Température interne', 'Internal temperature'),
} as const satisfies Record<string, QuantitySpec>;

export type QuantityId = keyof typeof QUANTITIES;

export function isQuantityId(id: string): id is QuantityId {
  return Object.hasOwn(QUANTITIES, id);
}

export function quantity(id: QuantityId): QuantitySpec {
  return QUANTITIES[id];
}
