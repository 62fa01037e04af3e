/**
 * Registry roles the dashboards read (the `role` tag, set per device in VEILLEUR_CONFIG). A convention, not an
 * enum of the service: a device without one of these roles still appears in the per-device panels.
 */
export const ROLES = {
  /** The main electricity meter of a building (its sub-meters have other roles and are not added to it). */
  buildingMain: 'building-main',
  /** Server room: energy of the IT equipment (PUE denominator). */
  itLoad: 'it-load',
  /** Server room: total energy of the room, IT plus cooling and losses (PUE numerator). */
  facilityTotal: 'facility-total',
  /** Server room: cold-aisle / rack inlet temperature sensor. */
  itInlet: 'it-inlet',
} as const;
