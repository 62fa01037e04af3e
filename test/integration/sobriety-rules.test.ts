/**
 * The rules of the catalogue beyond W1/E4/D2/S1, each on series written to a real InfluxDB: a scenario that must
 * fire, with the numbers of the alert checked (measured values, thresholds, window), and one that must not. Each
 * scenario lives in its own period and site so that the rules, which read the whole database, do not see the
 * others' data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteCalendarSchema, type SiteCalendar } from '../../services/time/calendar.ts';
import { dewPointC } from '../../services/alerts/rules/common.ts';
import { humidityRule, pueDriftRule } from '../../services/alerts/rules/datacenter.ts';
import { coolingBelow26Rule, degreeDayDriftRule, heatedUnoccupiedRule, overheatingOccupiedRule } from '../../services/alerts/rules/energy.ts';
import { parsimonyRule } from '../../services/alerts/rules/fleet.ts';
import { districtBalanceRule, leakSensorSilentRule, nightFlowRule, stoppedMeterRule } from '../../services/alerts/rules/water.ts';
import type { SiteRules } from '../../services/alerts/settings.ts';
import type { WindowContext } from '../../services/alerts/rules/define.ts';
import type { Finding } from '../../services/alerts/model.ts';
import { loraAirtimeMs } from '../../services/radio/airtime.ts';
import { startStack, windowContexts, writeLines, type Stack } from './support.ts';

let stack: Stack;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const Q = 15 * MIN;

/** Display names of a few sites, as a configuration gives them: the sentences must show them; the others keep their identifier. */
const SITE_NAMES: Record<string, string> = {
  'e1-ecole': 'Groupe scolaire Anatole-France',
  'e2-a': 'Espace Jean-Moulin',
  'secteur-est': 'Les Hauts de Saint-Veilleur',
  'd4-mairie': 'Hôtel de ville',
  'e5-ecole': 'École des Tilleuls',
};

type CtxOptions = { calendars?: Record<string, SiteCalendar>; rules?: Record<string, SiteRules> };
let ctx: (now: Date | string, o?: CtxOptions) => WindowContext;

beforeAll(async () => {
  stack = await startStack();
  ctx = windowContexts(stack, SITE_NAMES);
});
afterAll(async () => {
  await stack?.close();
});

const write = (lines: string[]) => writeLines(stack, lines);

const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hourCycle: 'h23', hour: '2-digit', minute: '2-digit', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit' });
/** Wall-clock time in Paris: minutes since midnight, weekday (0 = Sunday), local date. */
function local(t: number): { minutes: number; weekday: number; date: string } {
  const p = Object.fromEntries(paris.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return {
    minutes: Number(p.hour) * 60 + Number(p.minute),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!),
    date: `${p.year}-${p.month}-${p.day}`,
  };
}
const at = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** An index read every `stepMs` from `from` to `to` (exclusive); `rate(t)` = units per hour over [t, t + step). */
function indexLines(prefix: string, field: string, from: number, to: number, stepMs: number, rate: (t: number) => number, index0 = 1000): string[] {
  const lines: string[] = [];
  let index = index0;
  for (let t = from; t < to; t += stepMs) {
    lines.push(`${prefix} ${field}=${index} ${t}`);
    index += (rate(t) * stepMs) / HOUR;
  }
  return lines;
}

const find = (findings: Finding[], pred: (f: Finding) => boolean): Finding => {
  const f = findings.find(pred);
  expect(f, 'finding').toBeDefined();
  return f!;
};
const byDevice = (findings: Finding[], device: string) => find(findings, (f) => f.subject.device === device);
/** French number formatting groups thousands with a narrow no-break space: compared as a plain space. */
const plain = (s: string) => s.replace(/[\u202f\u00a0]/g, ' ');

describe('W2 minimum night flow', () => {
  // Nights of 28 Feb to 4 Apr 2026: the recent week includes the spring DST night (29 March: 02:00-03:00 skipped).
  const from = Date.parse('2026-02-27T00:00:00Z');
  const now = '2026-04-04T06:00:00Z';
  const day = (m: number) => m >= at('07:00') && m < at('22:00');

  it('fires on a meter whose night minimum went from 4 to 30 L/h, and not across the DST night on one with legitimate use around the window', async () => {
    const leakFrom = Date.parse('2026-03-28T12:00:00Z');
    await write([
      ...indexLines('water,tenant=t1,site=w2-a,role=water-main,dev_eui=w2a,device=w2-fuite', 'volume_index_l', from, Date.parse(now), Q, (t) => (day(local(t).minutes) ? 60 : 4) + (t >= leakFrom ? 26 : 0)),
      // Zero only from 02:30 to 03:30 local, 40 L/h the rest of the night: a window shifted by the DST hour would
      // see 20 L/h or more on every summer-time night and fire.
      ...indexLines('water,tenant=t1,site=w2-b,role=water-main,dev_eui=w2b,device=w2-boulangerie', 'volume_index_l', from, Date.parse(now), Q, (t) => {
        const m = local(t).minutes;
        return day(m) ? 60 : m >= at('02:30') && m < at('03:30') ? 0 : 40;
      }),
    ]);
    const findings = await nightFlowRule().evaluate(ctx(now));
    const leak = byDevice(findings, 'w2-fuite');
    expect(leak).toMatchObject({
      firing: true,
      severity: 'warning',
      measured: { recent_p20_l_per_h: 30, baseline_p20_l_per_h: 4, nights_recent: 7, nights_baseline: 28, last_night: '2026-04-04', last_night_min_l_per_h: 30 },
      thresholds: { factor: 1.5, min_l_per_h: 10, limit_l_per_h: 10, window: '02:00-04:00', percentile: 20 },
    });
    // The week's first night window (29 March, 03:00 CEST = 01:00 UTC) to the evaluation.
    expect(leak.window).toEqual({ from: new Date('2026-03-29T01:00:00Z'), to: new Date(now) });
    expect(plain(leak.message.fr)).toBe(
      'Débit minimum de nuit en hausse : w2-fuite (w2-a), 30 L/h (P20 des minima horaires 02:00–04:00 des 7 dernières nuits) contre 4 L/h les 28 nuits précédentes ; seuil 10 L/h (1,5 × la référence, au moins 10 L/h) : fuite probable.',
    );
    const bakery = byDevice(findings, 'w2-boulangerie');
    expect(bakery).toMatchObject({ firing: false, measured: { recent_p20_l_per_h: 0, baseline_p20_l_per_h: 0, nights_recent: 7, nights_baseline: 28, last_night_min_l_per_h: 0 } });
  });

  it('follows the site’s window and factor (per-site settings), and a site can turn it off', async () => {
    const rules = { 'w2-a': { W2: { factor: 10, minLitresPerHour: 50 } }, 'w2-b': { W2: { enabled: false } } };
    const findings = await nightFlowRule().evaluate(ctx(now, { rules }));
    expect(byDevice(findings, 'w2-fuite')).toMatchObject({ firing: false, thresholds: { factor: 10, min_l_per_h: 50, limit_l_per_h: 50 } });
    expect(findings.find((f) => f.subject.device === 'w2-boulangerie')).toBeUndefined();
  });
});

describe('W6 stopped meter', () => {
  it('fires on a meter stuck for 3 weeks after 200 L a day, not on one still counting nor on a vacant building', async () => {
    const from = Date.parse('2025-04-01T00:00:00Z');
    const stop = Date.parse('2025-06-01T00:00:00Z');
    const now = Date.parse('2025-06-30T12:00:00Z');
    const six = 6 * HOUR;
    await write([
      ...indexLines('water,tenant=t1,site=w6,role=water-main,dev_eui=w6a,device=w6-bloque', 'volume_index_l', from, now, six, (t) => (t < stop ? 200 / 24 : 0), 5000),
      ...indexLines('water,tenant=t1,site=w6,role=water-main,dev_eui=w6b,device=w6-normal', 'volume_index_l', from, now, six, () => 200 / 24, 5000),
      ...indexLines('water,tenant=t1,site=w6,role=water-main,dev_eui=w6c,device=w6-vacant', 'volume_index_l', from, now, six, () => 0, 300),
    ]);
    const findings = await stoppedMeterRule().evaluate(ctx(new Date(now)));
    const stuck = byDevice(findings, 'w6-bloque');
    // History: 10 April to 8 June (the 60 days before the 21 quiet ones): 52 days × 200 L to 31 May, 50 L on 1 June.
    expect(stuck).toMatchObject({
      firing: true,
      measured: { index_l: 17_200, quiet_l: 0, history_l: 52 * 200 + 50, last_increase_day: '2025-06-01' },
      thresholds: { days: 21, min_history_l: 100, history_days: 60 },
      window: { from: new Date('2025-06-09T00:00:00Z') },
    });
    expect(plain(stuck.message.fr)).toContain('Index figé à 17 200 L depuis 21 jours : w6-bloque (w6), qui émet toujours');
    expect(plain(stuck.message.fr)).toContain('après 10 450 L consommés les 60 jours précédents : compteur probablement bloqué.');
    // Complete days only: the 21 days before 30 June, not the half day under way.
    expect(byDevice(findings, 'w6-normal')).toMatchObject({ firing: false, measured: { quiet_l: 21 * 200 } });
    expect(byDevice(findings, 'w6-vacant')).toMatchObject({ firing: false, measured: { history_l: 0 } });
  });
});

describe('W7S silent leak sensor', () => {
  const now = Date.parse('2026-05-10T12:00:00Z');
  it('fires on a sensor with an hourly heartbeat silent for 5 h, not on one still reporting; a configured heartbeat wins', async () => {
    const lines: string[] = [];
    for (let t = now - 3 * DAY; t < now; t += HOUR) {
      if (t <= now - 5 * HOUR) lines.push(`water,tenant=t1,site=w7,zone=cave,role=leak-sensor,dev_eui=w7a,device=w7-muet leak=false ${t}`);
      lines.push(`water,tenant=t1,site=w7,zone=chaufferie,role=leak-sensor,dev_eui=w7b,device=w7-actif leak=false ${t + 7 * MIN}`);
    }
    await write(lines);
    const findings = await leakSensorSilentRule().evaluate(ctx(new Date(now)));
    const quiet = byDevice(findings, 'w7-muet');
    expect(quiet).toMatchObject({
      firing: true,
      severity: 'warning',
      measured: { silent_h: 5, last_seen: new Date(now - 5 * HOUR).toISOString() },
      thresholds: { factor: 2, heartbeat_min: 60, heartbeat: 'learnt', limit_h: 2 },
      window: { from: new Date(now - 5 * HOUR), to: new Date(now) },
    });
    expect(quiet.rule.id).toBe('W7S');
    expect(plain(quiet.message.fr)).toBe('Détecteur de fuite muet depuis 5 h : w7-muet (w7, cave), dernier état reçu le 10/05/2026 09:00, plus de 2 × son intervalle de 60 min : une fuite ne serait pas signalée.');
    expect(byDevice(findings, 'w7-actif').firing).toBe(false);
    // A sensor configured with a 6-hour heartbeat may stay silent 12 h.
    const configured = await leakSensorSilentRule().evaluate(ctx(new Date(now), { rules: { w7: { W7S: { heartbeatMinutes: 360 } } } }));
    expect(byDevice(configured, 'w7-muet')).toMatchObject({ firing: false, thresholds: { heartbeat_min: 360, heartbeat: 'configured', limit_h: 12 } });
  });
});

describe('W8 district balance', () => {
  it('fires when a district loses 4,000 L/day for 3 days against 2,000 ± 102, not on a steady district', async () => {
    // July (no DST change): local days of 96 quarter-hours.
    const from = Date.parse('2026-06-10T00:00:00Z');
    const now = Date.parse('2026-07-20T10:00:00Z');
    const recent = new Set(['2026-07-17', '2026-07-18', '2026-07-19']);
    const dayIndex = (t: number) => Math.floor(Date.parse(`${local(t).date}T00:00:00Z`) / DAY);
    const loss = (t: number, steady: boolean) => (!steady && recent.has(local(t).date) ? 4000 : dayIndex(t) % 2 ? 1900 : 2100) / 24;
    const customer = (t: number) => (local(t).minutes >= at('07:00') && local(t).minutes < at('21:00') ? 100 : 0);
    const lines: string[] = [];
    for (const [site, steady] of [
      ['secteur-est', false],
      ['secteur-ouest', true],
    ] as const) {
      lines.push(...indexLines(`water,tenant=t1,site=${site},role=district-inflow,dev_eui=${site}-in,device=${site}-entree`, 'volume_index_l', from, now, Q, (t) => 3 * customer(t) + loss(t, steady), 1e6));
      for (const c of [1, 2, 3]) lines.push(...indexLines(`water,tenant=t1,site=${site},role=water-main,dev_eui=${site}-c${c},device=${site}-abonne-${c}`, 'volume_index_l', from, now, Q, customer, 1000 * c));
    }
    await write(lines);
    const findings = await districtBalanceRule().evaluate(ctx(new Date(now), { rules: { 'secteur-est': { W8: { connections: 40 } } } }));
    const est = find(findings, (f) => f.subject.site === 'secteur-est');
    const sd = Math.round(100 * Math.sqrt(28 / 27));
    expect(est).toMatchObject({
      firing: true,
      subject: { tenant: 't1', site: 'secteur-est' },
      measured: {
        losses_l_per_day: '4000, 4000, 4000',
        days: '2026-07-17, 2026-07-18, 2026-07-19',
        baseline_mean_l_per_day: 2000,
        baseline_sd_l_per_day: sd,
        baseline_days_used: 28,
        inflow_l_last_day: 3 * 1400 + 4000,
        customers_l_last_day: 3 * 1400,
        customer_meters: 3,
        loss_l_per_connection_last_day: 100,
      },
      thresholds: { sigmas: 3, days: 3, limit_l_per_day: 2500 },
      // From local midnight of 17 July (22:00 UTC on the 16th).
      window: { from: new Date('2026-07-16T22:00:00Z') },
    });
    expect(plain(est.message.fr)).toBe(
      'Pertes du secteur Les Hauts de Saint-Veilleur au-dessus de la normale 3 jours de suite : 4 000 ; 4 000 ; 4 000 L/j (volume entrant moins 3 compteurs du site ; hier 8 200 L entrés, 4 200 L comptés), pour une référence de 2 000 L/j ± 102 sur 28 jours ; seuil 2 500 L/j : fuite probable sur le réseau.',
    );
    expect(find(findings, (f) => f.subject.site === 'secteur-ouest')).toMatchObject({ firing: false, measured: { baseline_mean_l_per_day: 2000 } });
  });
});

/** Room readings every 10 min: `c(t)` °C. */
function roomLines(site: string, building: string, device: string, from: number, to: number, c: (t: number) => number, zone = ''): string[] {
  const lines: string[] = [];
  for (let t = from; t < to; t += 10 * MIN) lines.push(`air,tenant=t1,site=${site},building=${building}${zone ? `,zone=${zone}` : ''},role=room,dev_eui=${device},device=${device} temperature_c=${c(t)} ${t}`);
  return lines;
}
const open = (t: number) => {
  const l = local(t);
  return l.weekday >= 1 && l.weekday <= 5 && l.minutes >= at('08:00') && l.minutes < at('18:00');
};

describe('E1 heating above 19 °C in occupied hours', () => {
  // Thursday 15 January 2026, evaluated on Friday 01:00 Paris.
  const from = Date.parse('2026-01-14T12:00:00Z');
  const now = '2026-01-16T00:00:00Z';
  it('fires on a building at 20.5 °C on average when occupied, not on one at 19 °C', async () => {
    await write([
      ...roomLines('e1-ecole', 'ecole-a', 'e1-salle-1', from, Date.parse(now), (t) => (open(t) ? 21 : 17)),
      ...roomLines('e1-ecole', 'ecole-a', 'e1-salle-2', from, Date.parse(now), (t) => (open(t) ? 20 : 17)),
      ...roomLines('e1-mairie', 'mairie', 'e1-bureau', from, Date.parse(now), (t) => (open(t) ? 19 : 16)),
    ]);
    const findings = await overheatingOccupiedRule().evaluate(ctx(now));
    const hot = find(findings, (f) => f.subject.building === 'ecole-a');
    expect(hot).toMatchObject({
      firing: true,
      subject: { tenant: 't1', site: 'e1-ecole', building: 'ecole-a' },
      measured: { mean_c: 20.5, rooms: 2, occupied_h: 10, warmest_room: 'e1-salle-1', warmest_room_c: 21, heating_season: 'yes' },
      thresholds: { max_mean_c: 19.5, legal_mean_c: 19, season: '10-01..05-20' },
      window: { from: new Date('2026-01-15T00:00:00Z'), to: new Date(now) },
    });
    expect(plain(hot.message.fr)).toBe(
      "Chauffage au-dessus de 19 °C au bâtiment ecole a (Groupe scolaire Anatole-France) : 20,5 °C en moyenne sur 2 pièces pendant 10 h d'occupation (dernières 24 h ; la plus chaude, e1-salle-1, à 21 °C), seuil 19,5 °C (R241-26 : 19 °C en moyenne) : baisser la consigne.",
    );
    expect(find(findings, (f) => f.subject.building === 'mairie')).toMatchObject({ firing: false, measured: { mean_c: 19, rooms: 1 } });
    // A site that holds itself to 18.5 °C.
    const strict = await overheatingOccupiedRule().evaluate(ctx(now, { rules: { 'e1-mairie': { E1: { maxMeanC: 18.5 } } } }));
    expect(find(strict, (f) => f.subject.building === 'mairie')).toMatchObject({ firing: true, thresholds: { max_mean_c: 18.5 } });
  });

  it('does not fire outside the heating season', async () => {
    const june = Date.parse('2026-06-10T00:00:00Z');
    await write(roomLines('e1-ete', 'gymnase', 'e1-gym', june - DAY, june, (t) => (open(t) ? 24 : 22)));
    const findings = await overheatingOccupiedRule().evaluate(ctx(new Date(june)));
    expect(find(findings, (f) => f.subject.site === 'e1-ete')).toMatchObject({ firing: false, measured: { mean_c: 24, heating_season: 'no' } });
  });
});

describe('E2 heated while unoccupied', () => {
  // The weekend of 16-19 January 2026, evaluated on Monday 11:00 Paris.
  const from = Date.parse('2026-01-12T00:00:00Z');
  const now = '2026-01-19T10:00:00Z';
  const saturdays = siteCalendarSchema.parse({ openingHours: { mon: ['08:00-18:00'], tue: ['08:00-18:00'], wed: ['08:00-18:00'], thu: ['08:00-18:00'], fri: ['08:00-18:00'], sat: ['08:00-18:00'] } });

  it('fires on a building kept at 17 °C over a 62 h weekend (limit 8 °C) and on one open on Saturdays at 17 °C over 38 h (limit 16 °C), not on one set back to 7.5 °C', async () => {
    const weekend = (t: number) => !open(t);
    const span = (t: number) => t >= Date.parse('2026-01-16T21:00:00Z') && t < Date.parse('2026-01-19T05:00:00Z');
    await write([
      ...roomLines('e2-a', 'salle-fetes', 'e2-chaude', from, Date.parse(now), (t) => (weekend(t) ? 17 : 19)),
      // Cools down after 18:00 and heats up before 08:00: only the 4 h and 2 h the rule leaves out.
      ...roomLines('e2-b', 'ecole-b', 'e2-reduit', from, Date.parse(now), (t) => (span(t) ? 7.5 : weekend(t) ? 14 : 19)),
      ...roomLines('e2-c', 'mairie-c', 'e2-samedi', from, Date.parse(now), () => 17),
    ]);
    const findings = await heatedUnoccupiedRule().evaluate(ctx(now, { calendars: { 'e2-c': saturdays } }));
    const warm = find(findings, (f) => f.subject.site === 'e2-a');
    expect(warm).toMatchObject({
      firing: true,
      measured: { mean_c: 17, rooms: 1, unoccupied_h: 62, unoccupied_from: '2026-01-16T17:00:00.000Z', unoccupied_to: '2026-01-19T07:00:00.000Z', mean_from: '2026-01-16T21:00:00.000Z', mean_to: '2026-01-19T05:00:00.000Z' },
      thresholds: { max_c: 8, max_c_24_48h: 16, max_c_48h: 8, cool_down_h: 4, preheat_h: 2 },
      window: { from: new Date('2026-01-16T17:00:00Z'), to: new Date('2026-01-19T07:00:00Z') },
    });
    expect(plain(warm.message.fr)).toBe(
      'Bâtiment salle fetes (Espace Jean-Moulin) chauffé pendant son inoccupation : 17 °C en moyenne sur 1 pièce, inoccupé du 16/01/2026 18:00 au 19/01/2026 08:00 (62 h ; 4 h de refroidissement et 2 h de relance exclues), limite 8 °C pour une inoccupation de 48 h ou plus (R241-27) : programmer le réduit.',
    );
    expect(find(findings, (f) => f.subject.site === 'e2-b')).toMatchObject({ firing: false, measured: { mean_c: 7.5, unoccupied_h: 62 } });
    expect(find(findings, (f) => f.subject.site === 'e2-c')).toMatchObject({ firing: true, measured: { mean_c: 17, unoccupied_h: 38 }, thresholds: { max_c: 16 } });
  });
});

describe('E3 cooling below 26 °C', () => {
  const now = '2026-07-08T14:00:00Z';
  const from = Date.parse('2026-07-08T09:00:00Z');
  const coolingFrom = Date.parse('2026-07-08T12:00:00Z');
  const meter = (site: string, zone: string, device: string, w: number) =>
    indexLines(`electricity,tenant=t1,site=${site},building=${site},zone=${zone},role=cooling,dev_eui=${device},device=${device}`, 'active_energy_index_wh', from, Date.parse(now), Q, (t) => (t >= coolingFrom ? w : 5), 1e5);

  it('fires on a reading room cooled at 24 °C for 105 min, not on one at 28 °C, nor in the server room or for an exempted device', async () => {
    await write([
      ...meter('e3-media', 'lecture', 'e3-clim-lecture', 1500),
      ...roomLines('e3-media', 'e3-media', 'e3-sonde-lecture', from, Date.parse(now), () => 24, 'lecture'),
      ...meter('e3-media', 'verriere', 'e3-clim-verriere', 1500),
      ...roomLines('e3-media', 'e3-media', 'e3-sonde-verriere', from, Date.parse(now), () => 28, 'verriere'),
      ...meter('e3-media', 'serveurs', 'e3-clim-serveurs', 2000),
      ...roomLines('e3-media', 'e3-media', 'e3-sonde-serveurs', from, Date.parse(now), () => 22, 'serveurs'),
      `air,tenant=t1,site=e3-media,zone=serveurs,role=it-inlet,dev_eui=e3-baie,device=e3-baie temperature_c=22 ${Date.parse(now) - HOUR}`,
      ...meter('e3-creche', 'dortoir', 'e3-clim-creche', 900),
      ...roomLines('e3-creche', 'e3-creche', 'e3-sonde-creche', from, Date.parse(now), () => 24, 'dortoir'),
    ]);
    const findings = await coolingBelow26Rule().evaluate(ctx(now, { rules: { 'e3-creche': { E3: { exemptDevices: ['e3-clim-creche'] } } } }));
    // The last reading before 14:00 is at 13:45: the last quarter with a known power is 13:30-13:45.
    const reading = byDevice(findings, 'e3-clim-lecture');
    expect(reading).toMatchObject({
      firing: true,
      measured: { running_min: 105, indoor_mean_c: 24, indoor_max_c: 24, cooling_mean_w: 1500, rooms: 1 },
      thresholds: { max_indoor_c: 26, min_minutes: 30, min_cooling_w: 100 },
      window: { from: new Date(coolingFrom), to: new Date('2026-07-08T13:45:00Z') },
    });
    expect(plain(reading.message.fr)).toBe(
      "Climatisation en marche depuis 105 min : e3-clim-lecture (e3-media, lecture), 1 500 W en moyenne, alors que les pièces desservies sont à 24 °C en moyenne (au plus 24 °C) : elle n'est permise qu'au-dessus de 26 °C (R241-30).",
    );
    expect(byDevice(findings, 'e3-clim-verriere')).toMatchObject({ firing: false, measured: { running_min: 0 } });
    expect(findings.find((f) => f.subject.device === 'e3-clim-serveurs')).toBeUndefined();
    expect(findings.find((f) => f.subject.device === 'e3-clim-creche')).toBeUndefined();
  });
});

describe('E5 kWh per degree-day', () => {
  it('fires on a heat meter at 12 kWh/DJU in February 2026 against 10 in February 2025, not on a meter at +5 %', async () => {
    const lines: string[] = [];
    for (const [year, tmin, tmax, heat, elec] of [
      [2025, 2, 8, 10, 10],
      [2026, 4, 10, 12, 10.5],
    ] as const) {
      const from = Date.parse(`${year}-01-26T00:00:00Z`);
      const to = Date.parse(`${year}-03-04T00:00:00Z`);
      // Coldest at 05:00, warmest at 15:00, half-way in between otherwise: the day's mean (Tmin+Tmax)/2.
      for (let t = from; t < to; t += 30 * MIN) {
        const h = local(t).minutes;
        const c = h === at('05:00') ? tmin : h === at('15:00') ? tmax : (tmin + tmax) / 2;
        lines.push(`air,tenant=t1,site=e5-ecole,role=outdoor,dev_eui=e5-ext,device=e5-exterieur temperature_c=${c} ${t}`);
      }
      const dju = 18 - (tmin + tmax) / 2;
      lines.push(...indexLines('heat,tenant=t1,site=e5-ecole,building=ecole,dev_eui=e5-cal,device=e5-chaufferie', 'energy_index_wh', from, to, Q, () => (heat * dju * 1000) / 24, 5e7));
      lines.push(...indexLines('electricity,tenant=t1,site=e5-ecole,building=ecole,role=building-main,dev_eui=e5-lky,device=e5-linky', 'active_energy_index_wh', from, to, Q, () => (elec * dju * 1000) / 24, 8e7));
    }
    await write(lines);
    const findings = await degreeDayDriftRule().evaluate(ctx('2026-03-05T00:00:00Z'));
    const heat = byDevice(findings, 'e5-chaufferie');
    expect(heat).toMatchObject({
      firing: true,
      measured: { month: '2026-02', kwh: 12 * 308, dju: 308, kwh_per_dju: 12, month_last_year: '2025-02', kwh_last_year: 10 * 364, dju_last_year: 364, kwh_per_dju_last_year: 10, change_pct: 20, outdoor_days: '28/28' },
      thresholds: { factor: 1.1, max_change_pct: 10, base_c: 18 },
      window: { from: new Date('2026-01-31T23:00:00Z'), to: new Date('2026-02-28T23:00:00Z') },
    });
    expect(plain(heat.message.fr)).toBe(
      'Consommation par degré-jour en hausse : e5-chaufferie (École des Tilleuls, ecole), 12 kWh/DJU en février 2026 (3 696 kWh pour 308 DJU base 18) contre 10 kWh/DJU en février 2025 (3 640 kWh, 364 DJU), soit +20 % (seuil +10 %).',
    );
    expect(byDevice(findings, 'e5-linky')).toMatchObject({ firing: false, measured: { kwh_per_dju: 10.5, kwh_per_dju_last_year: 10, change_pct: 5 } });
  });
});

describe('D3 server-room humidity', () => {
  const now = Date.parse('2026-08-10T12:00:00Z');
  const inlet = (device: string, c: number, rh: (t: number) => number) => {
    const lines: string[] = [];
    for (let t = now - 3 * HOUR; t < now; t += 10 * MIN) lines.push(`air,tenant=t1,site=d3,zone=salle,role=it-inlet,dev_eui=${device},device=${device} temperature_c=${c},humidity_pct=${rh(t)} ${t}`);
    return lines;
  };
  it('fires on a humid inlet (dew point 18.2 °C) and a dry one (−13.8 °C), waits on one humid for 20 min only, not on one at 45 %', async () => {
    await write([
      ...inlet('d3-humide', 24, () => 70),
      ...inlet('d3-sec', 22, () => 8),
      ...inlet('d3-ok', 23, () => 45),
      ...inlet('d3-recent', 23, (t) => (t >= now - 30 * MIN ? 75 : 45)),
    ]);
    const findings = await humidityRule().evaluate(ctx(new Date(now)));
    const humid = byDevice(findings, 'd3-humide');
    expect(Math.round(dewPointC(24, 70) * 10) / 10).toBe(18.2);
    expect(humid).toMatchObject({
      firing: true,
      measured: { dew_point_c: 18.2, rh_pct: 70, temperature_c: 24, for_min: 170, condition: 'humid' },
      thresholds: { max_dew_point_c: 15, max_rh_pct: 60, min_dew_point_c: -9, for_min: 30 },
      window: { from: new Date(now - 3 * HOUR) },
    });
    expect(plain(humid.message.fr)).toBe("Air trop humide à l'entrée des serveurs depuis 170 min, d'après d3-humide (d3, salle) : point de rosée 18,2 °C > 15 °C et humidité 70 % > 60 % (24 °C, 70 % HR) ; risque de condensation et de corrosion.");
    const dry = byDevice(findings, 'd3-sec');
    expect(dry).toMatchObject({ firing: true, measured: { dew_point_c: -13.8, condition: 'dry' } });
    expect(plain(dry.message.en)).toContain('Air too dry at the server inlet for 170 min, according to d3-sec (d3, salle): dew point -13.8 °C < -9 °C');
    expect(byDevice(findings, 'd3-recent')).toMatchObject({ firing: false, pending: true, measured: { for_min: 20, condition: 'humid' } });
    expect(byDevice(findings, 'd3-ok')).toMatchObject({ firing: false, pending: false, measured: { condition: 'ok' } });
  });
});

describe('D4 PUE drift', () => {
  const to = Date.parse('2026-09-01T00:00:00Z');
  const room = (site: string, from: number, it: number, total: (t: number) => number) => [
    ...indexLines(`electricity,tenant=t1,site=${site},zone=salle,role=it-load,dev_eui=${site}-it,device=${site}-it`, 'active_energy_index_wh', from, to + HOUR, HOUR, () => it, 1e6),
    ...indexLines(`electricity,tenant=t1,site=${site},zone=salle,role=facility-total,dev_eui=${site}-tot,device=${site}-total`, 'active_energy_index_wh', from, to + HOUR, HOUR, total, 2e6),
  ];
  it('fires on a room at PUE 1.8 for 30 days against 1.52 over 12 months, and on a young one at 2.3; not on a steady one at 1.4', async () => {
    const year = to - 400 * DAY;
    await write([
      // The index at a boundary is the last hourly reading before it: the 30-day window counts the hours from 1 h
      // before its start, which the higher load already covers.
      ...room('d4-mairie', year, 2000, (t) => (t >= to - 30 * DAY - HOUR ? 3600 : 3000)),
      ...room('d4-ecole', year, 1000, () => 1400),
      ...room('d4-neuf', to - 40 * DAY, 1000, () => 2300),
    ]);
    const findings = await pueDriftRule().evaluate(ctx(new Date(to + 6 * HOUR)));
    const drift = find(findings, (f) => f.subject.site === 'd4-mairie');
    // 12 months: (335 d × 3 kW + 30 d × 3.6 kW) / (365 d × 2 kW) = 1.525 → 1.52; limit 1.1 × 1.52 = 1.67.
    expect(drift).toMatchObject({
      firing: true,
      subject: { tenant: 't1', site: 'd4-mairie', zone: 'salle' },
      measured: { pue_recent: 1.8, pue_12_months: 1.52, kwh_total_recent: 30 * 24 * 3.6, kwh_it_recent: 30 * 24 * 2, change_pct: 18 },
      thresholds: { factor: 1.1, max_pue: 2, days: 30, limit_pue: 1.67 },
      window: { from: new Date(to - 30 * DAY), to: new Date(to) },
    });
    expect(plain(drift.message.fr)).toBe(
      'PUE de la salle serveur (Hôtel de ville, salle) à 1,8 sur les 30 derniers jours (2 592 kWh au total pour 1 440 kWh informatiques) contre 1,52 sur 12 mois (+18 %) ; seuils 1,67 (1,1 × le PUE sur 12 mois) ou 2 : vérifier la climatisation.',
    );
    expect(find(findings, (f) => f.subject.site === 'd4-neuf')).toMatchObject({ firing: true, measured: { pue_recent: 2.3, pue_12_months: 'n/a' } });
    expect(find(findings, (f) => f.subject.site === 'd4-ecole')).toMatchObject({ firing: false, measured: { pue_recent: 1.4, pue_12_months: 1.4 } });
  });
});

describe('P1 radio parsimony', () => {
  const to = Date.parse('2026-10-01T12:00:00Z');
  const uplinks = (device: string, everyMs: number, sf: number, bw: number, size: number, role?: string) => {
    const lines: string[] = [];
    for (let t = to - DAY, i = 0; t < to; t += everyMs, i++) {
      lines.push(`uplink,tenant=t1,site=p1,dev_eui=${device},device=${device} f_cnt=${i}i,sf=${sf}i,bandwidth_hz=${bw}i,size_bytes=${size}i ${t}`);
      if (role) lines.push(`air,tenant=t1,site=p1,role=${role},dev_eui=${device},device=${device} temperature_c=20 ${t}`);
    }
    return lines;
  };
  it('fires on a meter at SF12 every 15 min (174 s on air) and on a room sensor reporting 600 times a day, not on one every 10 min at SF7', async () => {
    await write([...uplinks('p1-sf12', Q, 12, 125_000, 20), ...uplinks('p1-bavard', 144_000, 7, 250_000, 10, 'room'), ...uplinks('p1-sobre', 10 * MIN, 7, 125_000, 10, 'room')]);
    const findings = await parsimonyRule().evaluate(ctx(new Date(to)));
    const sf12 = byDevice(findings, 'p1-sf12');
    const each = loraAirtimeMs(20, 12, 125_000);
    expect(Math.round(each)).toBe(1810);
    expect(sf12).toMatchObject({
      firing: true,
      severity: 'info',
      measured: { uplinks: 96, airtime_s: Math.round((96 * each) / 100) / 10, airtime_ms_per_uplink: 1810, mean_size_bytes: 20, sf: 12 },
      thresholds: { max_airtime_s_per_day: 30 },
      window: { from: new Date(to - DAY), to: new Date(to) },
    });
    expect(plain(sf12.message.fr)).toBe("Radio peu sobre pour p1-sf12 (p1) : 173,8 s d'antenne sur 24 h (96 messages de 20 octets en SF12, 1810 ms chacun), budget 30 s/jour.");
    const chatty = byDevice(findings, 'p1-bavard');
    expect(chatty).toMatchObject({ firing: true, measured: { uplinks: 600, role: 'room' }, thresholds: { max_uplinks_per_day: 576, needed_interval_min: 10, factor: 4 } });
    expect(Number(chatty.measured.airtime_s)).toBeLessThan(30);
    expect(plain(chatty.message.en)).toBe('Radio not parsimonious for p1-bavard (p1): 600 uplinks a day for a need of 144 (room sensor, one uplink every 10 min), over 4 × the need.');
    expect(byDevice(findings, 'p1-sobre')).toMatchObject({ firing: false, measured: { uplinks: 144 } });
    // A site on a private network may allow more airtime.
    const relaxed = await parsimonyRule().evaluate(ctx(new Date(to), { rules: { p1: { P1: { maxAirtimeSecondsPerDay: 200 } } } }));
    expect(byDevice(relaxed, 'p1-sf12').firing).toBe(false);
  });
});
