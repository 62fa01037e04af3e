/**
 * A small simulated town, "Saint-Veilleur", and a water syndicate of its agglomeration, with the devices a commune
 * actually deploys. Each device has a behaviour: how its physical state moves with local time (Europe/Paris).
 * Three devices misbehave on purpose, because the alert rules must find them:
 * - the gymnasium water meter sees a continuous leak after the meter (≈ 18 L/h, never zero);
 * - the Jaurès school's electricity meter keeps a high base load at night and at weekends;
 * - the town hall's server room is over-cooled (rack inlets at ≈ 19.5 °C: within the 18–27 °C band, far below
 *   the set point a sober room would run at).
 * Everything else behaves: rooms at 19 °C when occupied, CO₂ below 800 ppm, no leak, batteries fine.
 * The town hall and the Jaurès school also have an outdoor sensor (role `outdoor`) for heating degree-days:
 * a winter day, ≈ 2 °C before dawn to ≈ 12 °C mid-afternoon.
 */
import { fileSchema, type FileConfig } from '../config/schema.ts';
import { topicApplication, type BehaviourFactory, type LocalTime, type SimDevice } from './device.ts';

// The device's shape lives in device.ts (shared with envelopes.ts); re-exported for the town's many importers.
export type { Behaviour, BehaviourFactory, LocalTime, SimDevice } from './device.ts';

const parisParts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', weekday: 'short', hourCycle: 'h23' });
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function parisLocalTime(t: Date): LocalTime {
  let hour = 0;
  let weekday = 0;
  for (const p of parisParts.formatToParts(t)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'weekday') weekday = WEEKDAYS[p.value] ?? 0;
  }
  return { hour, weekday };
}

const occupied = (l: LocalTime, from = 8, to = 18) => l.weekday >= 1 && l.weekday <= 5 && l.hour >= from && l.hour < to;
const jitter = (rand: () => number, spread: number) => (rand() - 0.5) * 2 * spread;
const round = (x: number, step: number) => Math.round(x / step) * step;

/** A meter counting whole units (litres, pulses, Wh): the fraction left over is carried to the next uplink. */
function counter(): (amount: number, unit: number) => number {
  let carry = 0;
  return (amount, unit) => {
    const total = Math.max(0, amount) + carry;
    const units = Math.floor(total / unit);
    carry = total - units * unit;
    return units;
  };
}

/**
 * Water use of a building: daytime draws when occupied, rare night flushes (which must not look like a leak),
 * plus `leakLh` that never stops. `counter` is what the meter reports: litres, or pulses of `perPulse` litres.
 */
function buildingWater(dayLh: number, opts: { counter: 'volumeL' | 'pulsesA'; perPulse?: number; leakLh?: number }): BehaviourFactory {
  return () => {
    const count = counter();
    const unit = opts.counter === 'volumeL' ? 1 : (opts.perPulse ?? 1);
    return (s, { dtS, rand, local }) => {
      const lh = (occupied(local, 7, 19) ? dayLh * (0.5 + rand()) : rand() < 0.08 ? 12 : 0) + (opts.leakLh ?? 0);
      s[opts.counter] = (s[opts.counter] ?? 0) + count((lh * dtS) / 3600, unit);
    };
  };
}

function electricity(dayW: number, nightW: number): BehaviourFactory {
  return () => {
    const count = counter();
    return (s, { dtS, rand, local }) => {
      const w = (occupied(local, 7, 19) ? dayW : nightW) * (1 + jitter(rand, 0.08));
      s.powerW = Math.round(w);
      s.energyWh = (s.energyWh ?? 0) + count((w * dtS) / 3600, 1);
    };
  };
}

/** Electricity as counted by a pulse output (1 pulse = `whPerPulse` Wh). */
function electricityPulses(w: number, whPerPulse: number): BehaviourFactory {
  return () => {
    const count = counter();
    return (s, { dtS, rand }) => {
      s.pulsesA = (s.pulsesA ?? 0) + count(w * (1 + jitter(rand, 0.05)) * (dtS / 3600), whPerPulse);
    };
  };
}

/** A heated room: 19 °C when occupied (the legal mean), 16 °C set-back otherwise; CO₂ kept under 800 ppm. */
function room(opts: { co2?: boolean } = {}): BehaviourFactory {
  return () => (s, { rand, local }) => {
    const occ = occupied(local);
    s.temperatureC = round((occ ? 19 : 16.2) + jitter(rand, 0.4), 0.1);
    s.humidityPct = round(45 + jitter(rand, 6), 0.5);
    if (opts.co2) s.co2Ppm = Math.round(occ ? 560 + rand() * 180 : 420 + rand() * 30);
    s.batteryV = 3.6;
    s.batteryPct = 92;
  };
}

function serverInlet(meanC: number): BehaviourFactory {
  return () => (s, { rand }) => {
    s.temperatureC = round(meanC + jitter(rand, 0.3), 0.01);
    s.humidityPct = round(42 + jitter(rand, 3), 0.1);
    s.batteryV = 3.05;
  };
}

/**
 * Outdoor air in a French winter: coldest around 05:00, warmest around 15:00 (a skewed daily cycle, as the
 * ground radiates all night and the sun warms it through the afternoon), the day's mean drifting slowly from one
 * day to the next so degree-days differ between days. Deterministic in time: two sensors of the town agree.
 */
export function winterOutdoorC(t: Date, local: LocalTime): number {
  const hour = local.hour + t.getUTCMinutes() / 60;
  // Rises over the 10 h from 05:00 to 15:00, falls over the other 14: a cosine on each part.
  const rising = hour >= 5 && hour < 15;
  const phase = rising ? (hour - 5) / 10 : ((hour - 15 + 24) % 24) / 14;
  const shape = rising ? (1 - Math.cos(Math.PI * phase)) / 2 : (1 + Math.cos(Math.PI * phase)) / 2;
  const day = Math.floor(t.getTime() / 86_400_000);
  const drift = Math.sin(day / 3);
  return 3 + drift + 8 * shape;
}

function outdoorSensor(): BehaviourFactory {
  return () => (s, { t, rand, local }) => {
    s.temperatureC = round(winterOutdoorC(t, local) + jitter(rand, 0.3), 0.01);
    s.humidityPct = round(85 - 3 * (s.temperatureC - 2) + jitter(rand, 3), 0.1);
    s.batteryV = 3.1;
  };
}

function leakSensor(): BehaviourFactory {
  return () => (s, { rand }) => {
    s.leak = false;
    s.temperatureC = round(17 + jitter(rand, 1), 0.1);
    s.humidityPct = round(50 + jitter(rand, 5), 0.5);
    s.batteryPct = 88;
    s.batteryV = 3.6;
  };
}

const SV = 'Commune de Saint-Veilleur';
const AGGLO = 'agglo-sud';

export const TOWN: readonly SimDevice[] = [
  // Water
  {
    devEui: '24e124136d490001', name: 'compteur-eau-mairie', label: 'Compteur d’eau de la mairie', lns: 'chirpstack-v4', lnsTenant: SV, application: 'eau-batiments',
    profile: 'Milesight EM300-DI', decoder: 'milesight/em300-di', site: 'mairie', building: 'mairie', role: 'water-main',
    pulse: { quantity: 'metering.water.total', perPulse: 10 }, intervalS: 900,
    initial: { pulsesA: 41_250, batteryPct: 95, temperatureC: 18, humidityPct: 55 }, behaviour: buildingWater(90, { counter: 'pulsesA', perPulse: 10 }),
  },
  {
    devEui: '0018b2200000a001', name: 'compteur-eau-gymnase', label: 'Compteur d’eau du gymnase', lns: 'chirpstack-v4', lnsTenant: SV, application: 'eau-batiments',
    profile: 'Adeunis PULSE 4', decoder: 'adeunis/pulse 4', site: 'gymnase', building: 'gymnase', role: 'water-main',
    pulse: { input: 'A', quantity: 'metering.water.total', perPulse: 1 }, intervalS: 900,
    initial: { pulsesA: 812_400, pulsesB: 0 }, behaviour: buildingWater(60, { counter: 'pulsesA', leakLh: 18 }),
  },
  {
    devEui: '70b3d59ba0001f01', name: 'compteur-eau-ecole-jaures', label: 'Compteur d’eau de l’école Jean-Jaurès', lns: 'chirpstack-v4', lnsTenant: SV, application: 'eau-batiments',
    profile: 'Axioma Qalcosonic W1', decoder: 'axioma/qalcosonic w1', site: 'ecole-jaures', building: 'ecole-jaures', role: 'water-main', intervalS: 900,
    initial: { volumeL: 1_204_330 }, behaviour: buildingWater(120, { counter: 'volumeL' }),
  },
  // Leak sensors
  {
    devEui: '24e124126c140001', name: 'fuite-chaufferie-mairie', label: 'Détecteur de fuite – chaufferie', lns: 'chirpstack-v4', lnsTenant: SV, application: 'fuites',
    profile: 'Milesight EM300-ZLD', decoder: 'milesight/em300-zld', site: 'mairie', building: 'mairie', zone: 'chaufferie', role: 'leak-sensor',
    intervalS: 3600, initial: {}, behaviour: leakSensor(),
  },
  {
    devEui: '00137a1000010001', name: 'fuite-salle-serveur', label: 'Détecteur de fuite – salle serveur', lns: 'chirpstack-v4', lnsTenant: SV, application: 'fuites',
    profile: 'Netvox R718WA', decoder: 'netvox/r718wa', site: 'mairie', building: 'mairie', zone: 'salle-serveur', role: 'leak-sensor',
    intervalS: 3600, initial: {}, behaviour: leakSensor(),
  },
  // Building electricity (Linky TIC)
  {
    devEui: '0018b2400000b001', name: 'linky-mairie', label: 'Compteur électrique de la mairie', lns: 'chirpstack-v4', lnsTenant: SV, application: 'energie',
    profile: 'Adeunis TIC CBE/LINKY MONO', decoder: 'adeunis/tic cbe/linky mono', site: 'mairie', building: 'mairie', role: 'building-main',
    intervalS: 900, initial: { energyWh: 58_310_000 }, behaviour: electricity(9000, 1400),
  },
  {
    devEui: '0018b2400000b002', name: 'linky-ecole-jaures', label: 'Compteur électrique de l’école Jean-Jaurès', lns: 'chirpstack-v4', lnsTenant: SV, application: 'energie',
    profile: 'Adeunis TIC CBE/LINKY MONO', decoder: 'adeunis/tic cbe/linky mono', site: 'ecole-jaures', building: 'ecole-jaures', role: 'building-main',
    intervalS: 900, initial: { energyWh: 91_775_000 }, behaviour: electricity(10_000, 6500),
  },
  // Rooms
  {
    devEui: '24e124710c400001', name: 'classe-cp', label: 'Sonde – classe de CP', lns: 'chirpstack-v4', lnsTenant: SV, application: 'confort',
    profile: 'Milesight AM319', decoder: 'milesight/am319', site: 'ecole-jaures', building: 'ecole-jaures', zone: 'classe-cp', role: 'room',
    intervalS: 600, initial: {}, behaviour: room({ co2: true }),
  },
  {
    devEui: '0018b2000000c001', name: 'accueil-mairie', label: 'Sonde – accueil de la mairie', lns: 'chirpstack-v4', lnsTenant: SV, application: 'confort',
    profile: 'Adeunis COMFORT CO2', decoder: 'adeunis/comfort co2', site: 'mairie', building: 'mairie', zone: 'accueil', role: 'room',
    intervalS: 600, initial: {}, behaviour: room({ co2: true }),
  },
  {
    devEui: 'a81758fffe050001', name: 'bureau-urbanisme', label: 'Sonde – bureau de l’urbanisme', lns: 'chirpstack-v4', lnsTenant: SV, application: 'confort',
    profile: 'Elsys ERS CO2', decoder: 'elsys/ers co2', site: 'mairie', building: 'mairie', zone: 'urbanisme', role: 'room',
    intervalS: 600, initial: {}, behaviour: room({ co2: true }),
  },
  // Server room
  {
    devEui: 'a840410000010001', name: 'salle-serveur-baie-1', label: 'Baie 1 – entrée d’air', lns: 'chirpstack-v4', lnsTenant: SV, application: 'salle-serveur',
    profile: 'Dragino LHT65', decoder: 'dragino/lht65', site: 'mairie', building: 'mairie', zone: 'salle-serveur', role: 'it-inlet',
    intervalS: 600, initial: {}, behaviour: serverInlet(19.4),
  },
  {
    devEui: 'a840410000010002', name: 'salle-serveur-baie-2', label: 'Baie 2 – entrée d’air', lns: 'chirpstack-v4', lnsTenant: SV, application: 'salle-serveur',
    profile: 'Dragino LHT65', decoder: 'dragino/lht65', site: 'mairie', building: 'mairie', zone: 'salle-serveur', role: 'it-inlet',
    intervalS: 600, initial: {}, behaviour: serverInlet(19.7),
  },
  {
    devEui: '24e124136d490002', name: 'compteur-it-salle-serveur', label: 'Compteur informatique – salle serveur', lns: 'chirpstack-v4', lnsTenant: SV, application: 'salle-serveur',
    profile: 'Milesight EM300-DI', decoder: 'milesight/em300-di', site: 'mairie', building: 'mairie', zone: 'salle-serveur', role: 'it-load',
    pulse: { quantity: 'metering.electricity.activeEnergy', perPulse: 1 }, intervalS: 900,
    initial: { pulsesA: 15_000_000, batteryPct: 90, temperatureC: 21, humidityPct: 40 }, behaviour: electricityPulses(2100, 1),
  },
  {
    devEui: '0018b2400000b003', name: 'compteur-general-salle-serveur', label: 'Compteur général – salle serveur', lns: 'chirpstack-v4', lnsTenant: SV, application: 'salle-serveur',
    profile: 'Adeunis TIC CBE/LINKY MONO', decoder: 'adeunis/tic cbe/linky mono', site: 'mairie', building: 'mairie', zone: 'salle-serveur',
    role: 'facility-total', intervalS: 900, initial: { energyWh: 26_400_000 }, behaviour: electricity(3700, 3700),
  },
  // Outdoor air, under a radiation shield on the north wall: heating degree-days (DJU) of each heated site
  {
    devEui: 'a840410000020001', name: 'exterieur-mairie', label: 'Sonde extérieure – mairie', lns: 'chirpstack-v4', lnsTenant: SV, application: 'meteo',
    profile: 'Dragino LHT65', decoder: 'dragino/lht65', site: 'mairie', building: 'mairie', role: 'outdoor',
    intervalS: 900, initial: {}, behaviour: outdoorSensor(),
  },
  {
    devEui: 'a840410000020002', name: 'exterieur-ecole-jaures', label: 'Sonde extérieure – école Jean-Jaurès', lns: 'chirpstack-v4', lnsTenant: SV, application: 'meteo',
    profile: 'Dragino LHT65', decoder: 'dragino/lht65', site: 'ecole-jaures', building: 'ecole-jaures', role: 'outdoor',
    intervalS: 900, initial: {}, behaviour: outdoorSensor(),
  },
  // The agglomeration's water syndicate, on The Things Stack
  {
    devEui: '70b3d59ba0002f01', name: 'compteur-reservoir-nord', label: 'Compteur d’entrée – réservoir nord', lns: 'tts-v3', lnsTenant: AGGLO, application: 'eau-potable',
    profile: 'axioma/qalcosonic-w1', decoder: 'axioma/qalcosonic w1', site: 'reservoir-nord', role: 'district-inflow', intervalS: 900,
    initial: { volumeL: 98_500_000 },
    behaviour: () => {
      const count = counter();
      return (s, { dtS, rand, local }) => {
        const lh = (local.hour >= 6 && local.hour < 23 ? 9000 : 2500) * (0.8 + rand() * 0.4);
        s.volumeL = (s.volumeL ?? 0) + count((lh * dtS) / 3600, 1);
      };
    },
  },
  {
    devEui: '70b3d5e75e000001', name: 'local-pompage', label: 'Sonde – local de pompage', lns: 'tts-v3', lnsTenant: AGGLO, application: 'eau-potable',
    profile: 'watteco/th', decoder: 'watteco/th', site: 'station-pompage', role: 'room', intervalS: 600,
    initial: {},
    behaviour: () => (s, { rand }) => {
      s.temperatureC = round(12 + jitter(rand, 1), 0.01);
      s.humidityPct = round(70 + jitter(rand, 5), 0.01);
    },
  },
];

/** Display names of the town's sites, as its staff call them. */
const SITE_NAMES = [
  { site: 'mairie', name: 'Mairie' },
  { site: 'gymnase', name: 'Gymnase municipal' },
  { site: 'ecole-jaures', name: 'École Jean-Jaurès' },
  { site: 'reservoir-nord', name: 'Réservoir nord' },
  { site: 'station-pompage', name: 'Station de pompage' },
];

/** The registry entries (YAML `devices:` and `tenants:`) that describe the town to the service. */
export function townRegistry(devices: readonly SimDevice[] = TOWN): FileConfig {
  // Parsed, so that sections the town does not use get their defaults.
  return fileSchema.parse({
    // Applications mapped, as README ("Communes and network servers") recommends when communes share a broker: the
    // topic then says which commune an event belongs to, and a body claiming the other commune's tenant is refused.
    tenants: [
      { id: 'saint-veilleur', name: 'Commune de Saint-Veilleur', lnsTenants: [SV], applications: topicApplications(devices, SV) },
      { id: 'agglo-sud', name: 'Agglomération Sud – service de l’eau', lnsTenants: [AGGLO], applications: topicApplications(devices, AGGLO) },
    ],
    devices: devices.map((d) => ({
      devEui: d.devEui,
      name: d.label ?? d.name,
      // Two communes share the broker: each device registered to its own, so an uplink claiming the other one's
      // tenant is a tenant_mismatch (README, "Communes and network servers"), not a device in the other's list.
      ...(d.lnsTenant === SV ? { tenant: 'saint-veilleur' } : d.lnsTenant === AGGLO ? { tenant: 'agglo-sud' } : {}),
      decoder: d.decoder,
      site: d.site,
      ...(d.building ? { building: d.building } : {}),
      ...(d.zone ? { zone: d.zone } : {}),
      ...(d.role ? { role: d.role } : {}),
      ...(d.pulse ? { pulse: d.pulse } : {}),
    })),
    profiles: [],
    codecs: [],
    // The schools and the town hall open on weekdays 08:00-18:00 (the default calendar); the server room never closes.
    sites: SITE_NAMES.filter((s) => devices.some((d) => d.site === s.site)),
  });
}

/**
 * The network-server applications of one LNS tenant as their topics carry them (envelopes.ts): ChirpStack's
 * application id, The Things Stack's `app@tenant`.
 */
export function topicApplications(devices: readonly SimDevice[], lnsTenant: string): string[] {
  return [...new Set(devices.filter((d) => d.lnsTenant === lnsTenant).map(topicApplication))];
}

/**
 * The town cloned `copies` times with distinct DevEUIs and names (copy 0 is the town itself), for benchmarks
 * that need a realistic number of devices and series.
 */
export function scaledTown(copies: number): SimDevice[] {
  const out: SimDevice[] = [];
  for (let c = 0; c < copies; c++) {
    for (const d of TOWN) {
      if (c === 0) {
        out.push(d);
        continue;
      }
      // The copy number goes into the first two bytes: the last ones already tell the town's devices apart.
      const head = (parseInt(d.devEui.slice(0, 4), 16) ^ c).toString(16).padStart(4, '0');
      out.push({ ...d, devEui: `${head}${d.devEui.slice(4)}`, name: `${d.name}-${c}`, ...(d.label ? { label: `${d.label} (${c})` } : {}) });
    }
  }
  return out;
}
