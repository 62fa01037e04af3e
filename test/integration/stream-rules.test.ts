/**
 * Stream rules on real uplinks through the real service (Mosquitto → envelope parser → decoder → rules →
 * `alert_event` in InfluxDB): for each of W3, W4, W5, A1, D1 and S2, a sequence that must fire, with the expected
 * numbers and French sentence in the stored alert, and sequences that must not. Devices are the simulated town's,
 * their frames built by the simulator's builders. Stream rules run on the uplink's network-server time, so each
 * sequence is a past stretch (February 2026, Paris UTC+1, and one July afternoon) sent in a few milliseconds.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUplink, findDevice } from '../../decoders/index.ts';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { envelope } from '../../services/simulator/envelopes.ts';
import { qalcosonicW1AlarmFrame, qalcosonicW1Frame } from '../../services/simulator/frames/axioma.ts';
import { frameBuilders, type DeviceState, type Frame } from '../../services/simulator/frames/index.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { countPoints, queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

let stack: Stack;
let service: ServiceProcess;
let publisher: MqttClient;
beforeAll(async () => {
  stack = await startStack();
  // The Jaurès school's own calendar (README): no class on Wednesdays, winter holidays. Other sites: the default.
  const school = ['08:30-11:30', '13:30-16:30'];
  const calendar = siteCalendarSchema.parse({ openingHours: { mon: school, tue: school, thu: school, fri: school }, closedDates: ['2026-02-14..2026-03-01'] });
  // The town's display names stay: the stored sentences name sites as the staff do ("Mairie", not `mairie`).
  const town = townRegistry();
  service = new ServiceProcess(stack, {}, { ...town, sites: town.sites.map((x) => (x.site === 'ecole-jaures' ? { ...x, calendar } : x)) });
  await service.start();
  publisher = await mqtt.connectAsync(stack.mqtt.url);
});
afterAll(async () => {
  await publisher?.endAsync();
  await service?.stop();
  await stack?.close();
});

const MIN = 60_000;
const RADIO = { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 };

const device = (name: string): SimDevice => {
  const d = TOWN.find((x) => x.name === name);
  if (!d) throw new Error(`no town device '${name}'`);
  return d;
};

const fCnts = new Map<string, number>();
const sent = new Map<string, number>();

/** One uplink at LNS time `at`: the device's periodic frame for `state`, or `frame` when given. */
async function send(d: SimDevice, at: Date, state: DeviceState, frame?: Frame): Promise<void> {
  const fCnt = (fCnts.get(d.devEui) ?? 0) + 1;
  fCnts.set(d.devEui, fCnt);
  const m = envelope(d, fCnt, frame ?? frameBuilders[d.decoder]!.build(state, at), at, RADIO);
  // QoS 1 from one client, awaited: the service sees the sequence in order, as the duration rules need.
  await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
  sent.set(d.devEui, (sent.get(d.devEui) ?? 0) + 1);
}

/** `values` sent `stepMin` apart from `from`, each turned into a state by `state`. */
async function series<T>(d: SimDevice, from: string, stepMin: number, values: readonly T[], state: (v: T) => DeviceState): Promise<void> {
  for (const [i, v] of values.entries()) await send(d, new Date(Date.parse(from) + i * stepMin * MIN), state(v));
}

/** Waits until every uplink sent to `d` is stored: its alert events are written with it, in the same batch. */
async function stored(d: SimDevice): Promise<void> {
  const want = sent.get(d.devEui) ?? 0;
  await waitFor(async () => (await countPoints(stack.influx, stack.db, `SELECT count(f_cnt) FROM uplink WHERE dev_eui = '${d.devEui}'`)) >= want, 15_000, `${want} uplinks of ${d.name} stored`);
}

interface StoredEvent {
  time: string;
  event: string;
  rule: string;
  severity: string;
  tenant: string;
  site: string;
  startedAt: string;
  message: string;
  details: { window: { from: string; to: string }; thresholds: Record<string, unknown>; measured: Record<string, unknown>; source: { reference: string } };
}

/** The stored alert events of a device, oldest first (within [from, to) when given), once all its uplinks are stored. */
async function eventsOf(d: SimDevice, range?: { from: string; to: string }): Promise<StoredEvent[]> {
  await stored(d);
  const when = range ? ` AND time >= '${range.from}' AND time < '${range.to}'` : '';
  const rows = await queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE dev_eui = '${d.devEui}'${when} ORDER BY time ASC`);
  return rows.map((r) => ({
    time: new Date(Number(r.time)).toISOString(),
    event: String(r.event),
    rule: String(r.rule),
    severity: String(r.severity),
    tenant: String(r.tenant),
    site: String(r.site),
    startedAt: new Date(Number(r.started_at_ms)).toISOString(),
    message: String(r.message_fr),
    details: JSON.parse(String(r.details)) as StoredEvent['details'],
  }));
}

const summary = (events: StoredEvent[]) => events.map((e) => `${e.time} ${e.rule} ${e.event} ${e.severity}`);

describe('A1 CO₂ (800 ppm for 10 min when occupied, major above 1,500 ppm)', () => {
  const room = device('classe-cp'); // Milesight AM319, Jaurès school
  const am319 = (ppm: number): DeviceState => ({ co2Ppm: ppm, temperatureC: 19.5, humidityPct: 45, batteryPct: 92 });

  it('fires in class after 10 min above 800 ppm, escalates at 1,620 ppm, resolves after 10 min clear; not at 1,200 ppm in the empty school at night', async () => {
    // Tuesday 3 February, 02:00-04:00 Paris: the school is closed; the room reads 1,200 ppm all along.
    await series(room, '2026-02-03T01:00:00Z', 10, Array<number>(13).fill(1200), am319);
    // Same day, from 09:00 Paris: above 800 ppm from 09:05, for 10 min at 09:15, 1,620 ppm at 09:25, clear from 09:35.
    await series(room, '2026-02-03T08:00:00Z', 5, [780, 850, 900, 910, 1180, 1620, 1400, 700, 650, 640], am319);
    const events = await eventsOf(room);
    expect(summary(events)).toEqual([
      '2026-02-03T08:15:00.000Z A1 opened warning',
      '2026-02-03T08:25:00.000Z A1 escalated major',
      '2026-02-03T08:45:00.000Z A1 resolved major',
    ]);
    const [opened, escalated] = events;
    expect(opened).toMatchObject({ tenant: 'saint-veilleur', site: 'ecole-jaures', startedAt: '2026-02-03T08:05:00.000Z' });
    expect(opened!.details).toMatchObject({
      window: { from: '2026-02-03T08:05:00.000Z', to: '2026-02-03T08:15:00.000Z' },
      thresholds: { warn_ppm: 800, major_ppm: 1500, for_min: 10 },
      measured: { co2_ppm: 910, above_for_min: 10 },
      source: { reference: expect.stringContaining('Haut Conseil de la santé publique, avis du 28 avril 2021') },
    });
    expect(opened!.message).toBe('CO₂ à 910 ppm, au-dessus de 800 ppm depuis 10 min, relevé par Sonde – classe de CP (École Jean-Jaurès, classe cp) : aérer.');
    expect(escalated!.details).toMatchObject({ measured: { co2_ppm: 1620, above_for_min: 20 }, thresholds: { major_ppm: 1500 } });
    expect(escalated!.message).toBe('CO₂ à 1\u202f620 ppm, au-dessus de 800 ppm depuis 20 min, relevé par Sonde – classe de CP (École Jean-Jaurès, classe cp) : aérer.');
  });

  it("follows the school's configured calendar: not at 1,300 ppm on a Wednesday morning nor during the winter holidays", async () => {
    // Wednesday 4 February and Tuesday 17 February, 10:00-11:00 Paris: hours the default calendar calls occupied.
    await series(room, '2026-02-04T09:00:00Z', 10, Array<number>(7).fill(1300), am319);
    await series(room, '2026-02-17T09:00:00Z', 10, Array<number>(7).fill(1300), am319);
    expect(summary(await eventsOf(room, { from: '2026-02-04T00:00:00Z', to: '2026-03-02T00:00:00Z' }))).toEqual([]);
  });

  it('does not fire on 9 min above 800 ppm in occupied hours, nor on 795 ppm for an hour', async () => {
    const hall = device('accueil-mairie'); // Adeunis COMFORT CO2, town hall
    const comfort = (ppm: number): DeviceState => ({ co2Ppm: ppm, temperatureC: 19.2, humidityPct: 44 });
    // Tuesday 10:00 Paris: 1,150 then 1,190 ppm 9 min later, back to 760 at 10 min.
    await send(hall, new Date('2026-02-03T09:00:00Z'), comfort(1150));
    await send(hall, new Date('2026-02-03T09:09:00Z'), comfort(1190));
    await send(hall, new Date('2026-02-03T09:10:00Z'), comfort(760));
    // 11:00-12:00 Paris: just under the threshold.
    await series(hall, '2026-02-03T10:00:00Z', 10, [790, 795, 795, 792, 795, 788, 795], comfort);
    expect(summary(await eventsOf(hall))).toEqual([]);
  });

  it('does not fire at 1,200 ppm on a Saturday afternoon (town hall closed)', async () => {
    const office = device('bureau-urbanisme'); // Elsys ERS CO2
    await series(office, '2026-02-07T13:00:00Z', 10, Array<number>(9).fill(1200), (ppm) => ({ co2Ppm: ppm, temperatureC: 17, humidityPct: 40, batteryV: 3.6 }));
    expect(summary(await eventsOf(office))).toEqual([]);
  });
});

describe('D1 server inlet (18–27 °C for 15 min, critical above 32 °C at once)', () => {
  const lht65 = (c: number): DeviceState => ({ temperatureC: c, humidityPct: 42, batteryV: 3.05 });

  it('fires after 15 min above 27 °C, escalates to critical at 32.4 °C, resolves after 15 min back in band; not on a 14-min excursion', async () => {
    const rack = device('salle-serveur-baie-1'); // Dragino LHT65, role it-inlet
    // 10:00 Paris: above 27 °C from 10:00 to 10:14 only.
    await series(rack, '2026-02-03T09:00:00Z', 7, [27.5, 27.8, 28.0, 26.9, 26.4], lht65);
    // 15:00 Paris: out of band from 15:05, 15 min at 15:20, 32.4 °C at 15:25, back in band from 15:30.
    await series(rack, '2026-02-03T14:00:00Z', 5, [26.8, 27.4, 27.9, 28.3, 28.6, 32.4, 24.0, 23.8, 23.6, 23.5], lht65);
    const events = await eventsOf(rack);
    expect(summary(events)).toEqual([
      '2026-02-03T14:20:00.000Z D1 opened warning',
      '2026-02-03T14:25:00.000Z D1 escalated critical',
      '2026-02-03T14:45:00.000Z D1 resolved critical',
    ]);
    const [opened, escalated] = events;
    expect(opened).toMatchObject({ site: 'mairie', startedAt: '2026-02-03T14:05:00.000Z' });
    expect(opened!.details).toMatchObject({
      window: { from: '2026-02-03T14:05:00.000Z', to: '2026-02-03T14:20:00.000Z' },
      thresholds: { min_c: 18, max_c: 27, critical_c: 32, for_min: 15 },
      measured: { inlet_c: 28.6 },
    });
    expect(opened!.message).toBe("Entrée d'air à 28,6 °C, hors de la plage recommandée 18–27 °C : Baie 1 – entrée d’air (Mairie, salle serveur).");
    expect(escalated!.details.measured).toEqual({ inlet_c: 32.4 });
  });

  it('fires critical at once at 32.6 °C; not on an inlet at 26.5 °C for an hour', async () => {
    const rack = device('salle-serveur-baie-2');
    await series(rack, '2026-02-03T10:00:00Z', 10, Array<number>(7).fill(26.5), lht65);
    await series(rack, '2026-02-03T12:00:00Z', 10, [22.0, 32.6], lht65);
    const events = await eventsOf(rack);
    expect(summary(events)).toEqual(['2026-02-03T12:10:00.000Z D1 opened critical']);
    expect(events[0]!.details).toMatchObject({ window: { from: '2026-02-03T12:10:00.000Z', to: '2026-02-03T12:10:00.000Z' }, measured: { inlet_c: 32.6 }, thresholds: { critical_c: 32 } });
    expect(events[0]!.message).toBe("Entrée d'air à 32,6 °C, hors de la plage recommandée 18–27 °C : Baie 2 – entrée d’air (Mairie, salle serveur).");
  });

  it('leaves the same sensor model alone outside a server room (outdoor, 33.5 °C for an hour)', async () => {
    const outdoor = device('exterieur-mairie'); // LHT65, role outdoor: a summer afternoon
    await series(outdoor, '2026-07-15T13:00:00Z', 10, Array<number>(7).fill(33.5), (c) => ({ temperatureC: c, humidityPct: 30, batteryV: 3.1 }));
    expect(summary(await eventsOf(outdoor))).toEqual([]);
  });
});

describe('S2 low battery (below 10 %, or 2.9 V when only the voltage is known)', () => {
  it('fires on a level of 9 % and resolves when the battery is replaced', async () => {
    const sensor = device('fuite-chaufferie-mairie'); // Milesight EM300-ZLD: battery level in %
    await series(sensor, '2026-02-03T06:00:00Z', 60, [12, 9, 9, 100], (pct) => ({ leak: false, temperatureC: 17, humidityPct: 50, batteryPct: pct }));
    const events = await eventsOf(sensor);
    expect(summary(events)).toEqual(['2026-02-03T07:00:00.000Z S2 opened warning', '2026-02-03T09:00:00.000Z S2 resolved warning']);
    expect(events[0]!.details).toMatchObject({ thresholds: { min_pct: 10, min_v: 2.9 }, measured: { battery_pct: 9 } });
    expect(events[0]!.message).toBe('Pile à 9 % : Détecteur de fuite – chaufferie (Mairie, chaufferie).');
  });

  it('fires on 2.8 V from a sensor that reports only its voltage', async () => {
    const sensor = device('fuite-salle-serveur'); // Netvox R718WA: battery voltage, 0.1 V steps
    await series(sensor, '2026-02-03T06:00:00Z', 60, [3.0, 2.9, 2.8], (v) => ({ leak: false, batteryV: v }));
    const events = await eventsOf(sensor);
    expect(summary(events)).toEqual(['2026-02-03T08:00:00.000Z S2 opened warning']);
    expect(events[0]!.details).toMatchObject({ thresholds: { min_v: 2.9 }, measured: { battery_v: 2.8 } });
    expect(events[0]!.message).toBe('Pile à 2,8 V : Détecteur de fuite – salle serveur (Mairie, salle serveur).');
  });

  it('fires at 2.85 V from a sensor reporting millivolts, not at 2.95 V nor at 2.9 V', async () => {
    const outdoor = device('exterieur-ecole-jaures'); // Dragino LHT65: battery in mV
    await series(outdoor, '2026-02-03T06:00:00Z', 15, [2.95, 2.9, 2.9, 2.85], (v) => ({ temperatureC: 4, humidityPct: 80, batteryV: v }));
    const events = await eventsOf(outdoor);
    expect(summary(events)).toEqual(['2026-02-03T06:45:00.000Z S2 opened warning']);
    expect(events[0]!.details).toMatchObject({ thresholds: { min_v: 2.9 }, measured: { battery_v: 2.85 } });
    // The sentence shows the value that crossed the threshold, not one rounded back onto it.
    expect(events[0]!.message).toBe('Pile à 2,85 V : Sonde extérieure – école Jean-Jaurès (École Jean-Jaurès).');
  });

  it('does not fire at exactly 10 %', async () => {
    const meter = device('compteur-eau-mairie'); // Milesight EM300-DI
    await series(meter, '2026-02-03T06:00:00Z', 15, [11, 10, 10, 10], (pct) => ({ pulsesA: 41_250, batteryPct: pct, temperatureC: 18, humidityPct: 55 }));
    expect(summary(await eventsOf(meter))).toEqual([]);
  });
});

describe('W3, W4, W5 meter alarm flags (Axioma Qalcosonic W1)', () => {
  it('builds status codes the decoder reads back as the vendor examples do', () => {
    const w1 = findDevice('axioma', 'qalcosonic w1')!;
    const at = new Date(0x65a1f080 * 1000); // the examples' meter time
    const hex = (f: Frame) => Buffer.from(f.bytes).toString('hex');
    // Vectors of examples.json: basic frame with burst (0xB0), alarm frame with manipulation (0xD0).
    expect(hex(qalcosonicW1Frame({ volumeL: 1_212_039, meterAlarm: 'burst' }, at))).toBe('80f0a165b0877e1200');
    expect(hex(qalcosonicW1AlarmFrame({ meterAlarm: 'manipulation' }, at))).toBe('80f0a165d0');
    const flags = (state: DeviceState, f = qalcosonicW1Frame(state, at)) => {
      const r = decodeUplink(w1, { bytes: f.bytes, fPort: f.fPort, recvTime: at });
      expect(r.errors).toEqual([]);
      return Object.fromEntries(r.readings.filter((x) => x.quantity.startsWith('water.alarm.')).map((x) => [x.quantity.slice('water.alarm.'.length), x.value]));
    };
    const none = { dry: false, leak: false, backflow: false, burst: false, tamper: false };
    expect(flags({})).toEqual(none);
    expect(flags({ meterAlarm: 'dry' })).toEqual({ ...none, dry: true });
    expect(flags({ meterAlarm: 'leakage' })).toEqual({ ...none, leak: true });
    expect(flags({ meterAlarm: 'backflow' })).toEqual({ ...none, backflow: true });
    expect(flags({ meterAlarm: 'lowTemperature' })).toEqual(none);
    expect(flags({ meterAlarm: 'burst' })).toEqual({ ...none, burst: true });
    expect(flags({ meterAlarm: 'manipulation' }, qalcosonicW1AlarmFrame({ meterAlarm: 'manipulation' }, at))).toEqual({ ...none, tamper: true });
  });

  it('raises W3 on burst, W4 on backflow and W5 on dry pipe, each resolved by the next report without flag; nothing for hours of plain reports', async () => {
    const meter = device('compteur-eau-ecole-jaures');
    let volumeL = 1_204_330;
    const report = (meterAlarm?: DeviceState['meterAlarm']): DeviceState => ({ volumeL: (volumeL += 30), ...(meterAlarm ? { meterAlarm } : {}) });
    // Tuesday 00:00-02:00 Paris: plain reports every 15 min.
    await series(meter, '2026-02-02T23:00:00Z', 15, Array<undefined>(9).fill(undefined), report);
    await series(meter, '2026-02-03T03:00:00Z', 15, ['burst', undefined] as const, report);
    await series(meter, '2026-02-03T04:00:00Z', 15, ['backflow', undefined] as const, report);
    await series(meter, '2026-02-03T05:00:00Z', 15, ['dry', undefined] as const, report);
    const events = await eventsOf(meter);
    expect(summary(events)).toEqual([
      '2026-02-03T03:00:00.000Z W3 opened major',
      '2026-02-03T03:15:00.000Z W3 resolved major',
      '2026-02-03T04:00:00.000Z W4 opened warning',
      '2026-02-03T04:15:00.000Z W4 resolved warning',
      '2026-02-03T05:00:00.000Z W5 opened warning',
      '2026-02-03T05:15:00.000Z W5 resolved warning',
    ]);
    const [burst, , backflow, , dry] = events;
    expect(burst).toMatchObject({ tenant: 'saint-veilleur', site: 'ecole-jaures' });
    expect(burst!.details).toMatchObject({ measured: { 'water.alarm.burst': 'on' }, thresholds: {}, source: { reference: expect.stringContaining('Kamstrup, flowIQ® 3100 Technical Description') } });
    expect(burst!.message).toBe('Compteur d’eau de l’école Jean-Jaurès (École Jean-Jaurès) signale une rupture ou un surdébit le 03/02/2026 04:00.');
    expect(backflow!.details.measured).toEqual({ 'water.alarm.backflow': 'on' });
    expect(backflow!.message).toBe("Compteur d’eau de l’école Jean-Jaurès (École Jean-Jaurès) signale un retour d'eau le 03/02/2026 05:00.");
    expect(dry!.details.measured).toEqual({ dry: 'on', tamper: 'off' });
    expect(dry!.message).toBe('Compteur d’eau de l’école Jean-Jaurès (École Jean-Jaurès) signale : conduite vide (03/02/2026 06:00).');
  });

  it('raises W5 on a tamper alarm frame (The Things Stack), not on leakage or freeze flags', async () => {
    const meter = device('compteur-reservoir-nord'); // agglo-sud, on TTS
    let volumeL = 98_500_000;
    const report = (meterAlarm?: DeviceState['meterAlarm']): DeviceState => ({ volumeL: (volumeL += 2000), ...(meterAlarm ? { meterAlarm } : {}) });
    await series(meter, '2026-02-03T00:00:00Z', 15, [undefined, 'leakage', 'leakage', 'lowTemperature', undefined] as const, report);
    await send(meter, new Date('2026-02-03T01:20:00Z'), {}, qalcosonicW1AlarmFrame({ meterAlarm: 'manipulation' }, new Date('2026-02-03T01:20:00Z')));
    const events = await eventsOf(meter);
    expect(summary(events)).toEqual(['2026-02-03T01:20:00.000Z W5 opened warning']);
    expect(events[0]).toMatchObject({ tenant: 'agglo-sud', site: 'reservoir-nord' });
    expect(events[0]!.details.measured).toEqual({ dry: 'off', tamper: 'on' });
    expect(events[0]!.message).toBe('Compteur d’entrée – réservoir nord (Réservoir nord) signale : fraude / démontage (03/02/2026 02:20).');
  });
});
