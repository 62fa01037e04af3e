/**
 * Roles of devices (the registry's `role`, stored as the `role` tag): what a meter or sensor measures in its site.
 * Rules, reports and dashboards select devices by these; a device without a role still has its readings stored.
 */
export const ROLES = {
  /** The main electricity meter of a building (its sub-meters have other roles and are not added to it). */
  buildingMain: 'building-main',
  /** Server room: energy of the IT equipment (PUE denominator). */
  itLoad: 'it-load',
  /** Server room: total energy of the room, IT plus cooling and losses (PUE numerator). */
  facilityTotal: 'facility-total',
  /** Server room: energy of the cooling, when metered apart. */
  cooling: 'cooling',
  /** Server room: other metered loads (lighting, UPS losses…). */
  other: 'other',
  /** Server room: cold-aisle / rack inlet temperature sensor. */
  itInlet: 'it-inlet',
  /** The water meter of a building. */
  waterMain: 'water-main',
  /** A network meter feeding a district (DMA): water always flows through it. */
  districtInflow: 'district-inflow',
  leakSensor: 'leak-sensor',
  room: 'room',
  /** Outdoor air temperature of a site: heating degree-days (DJU, base 18 °C) for E5 and the energy dashboards. */
  outdoor: 'outdoor',
} as const;
