/**
 * Windowed alert rules on series written to a real InfluxDB: each rule has a scenario that must fire, with the
 * expected numbers in the alert, and one that must not. Then the simulated town, through the service: its leaking
 * meter, its building wasting energy at night and its over-cooled server room raise their alert, and nothing else:
 * no other windowed rule, and no stream rule on any of its uplinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import { evaluateWindowed } from '../../services/alerts/scheduler.ts';
import type { WindowContext } from '../../services/alerts/rules/define.ts';
import { baseLoadRule } from '../../services/alerts/rules/energy.ts';
import { silentDeviceRule } from '../../services/alerts/rules/fleet.ts';
import { defaultStreamRules, defaultWindowedRules } from '../../services/alerts/rules/index.ts';
import { continuousFlowRule } from '../../services/alerts/rules/water.ts';
import { overCoolingRule } from '../../services/alerts/rules/datacenter.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { displayNames } from '../../services/registry/names.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { countPoints, queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

let stack: Stack;
let ctx: (now: Date) => WindowContext;
beforeAll(async () => {
  stack = await startStack();
  const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
  const calendar = siteCalendarSchema.parse({});
  ctx = (now) => ({ now, query: (q) => influx.query(q), calendarFor: () => calendar });
});
afterAll(async () => {
  await stack?.close();
});

const MIN = 60_000;
const HOUR = 60 * MIN;

async function write(lines: string[]): Promise<void> {
  const r = await fetch(`${stack.influx.url}/write?db=${stack.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(r.status).toBe(204);
}

/** A meter index every 15 min from `start` for `hours`, growing by `litresPer15(t)`. */
function waterSeries(dev: string, start: number, hours: number, litresPer15: (t: number) => number, index0 = 1000): string[] {
  const lines: string[] = [];
  let index = index0;
  for (let t = start; t < start + hours * HOUR; t += 15 * MIN) {
    index += litresPer15(t);
    lines.push(`water,tenant=t1,site=s1,role=water-main,dev_eui=${dev},device=${dev} volume_index_l=${index} ${t}`);
  }
  return lines;
}

describe('windowed rules on stored series', () => {
  it('W1 fires on a flow that never stops (14 L/h), not on a household with night toilet flushes', async () => {
    const start = Date.parse('2026-06-01T00:00:00Z');
    const now = new Date(start + 26 * HOUR);
    const paris = (t: number) => new Date(t).getUTCHours() + 2; // June: UTC+2
    await write([
      ...waterSeries('leaky', start, 26, () => 3.5),
      // Day draws, and at night only a flush at 03:10: most night hours are at zero.
      ...waterSeries('house', start, 26, (t) => (paris(t) % 24 >= 7 && paris(t) % 24 < 23 ? 20 : new Date(t).getUTCMinutes() === 0 && paris(t) % 24 === 3 ? 6 : 0)),
    ]);
    const findings = await continuousFlowRule().evaluate(ctx(now));
    const leaky = findings.find((f) => f.subject.devEui === 'leaky')!;
    const house = findings.find((f) => f.subject.devEui === 'house')!;
    expect(leaky).toMatchObject({ firing: true, measured: { zero_hours: 0, min_l_per_h: 14 }, thresholds: { min_l_per_h: 10, window_h: 24 } });
    expect(leaky.message.fr).toBe('Débit jamais nul depuis 24 h : leaky (s1), minimum horaire 14 L/h ; fuite probable après compteur.');
    expect(house.firing).toBe(false);
    expect(Number(house.measured.zero_hours)).toBeGreaterThan(3);
  });

  it('W1 says how many hours it measured when the meter missed some', async () => {
    const start = Date.parse('2026-06-10T00:00:00Z');
    const now = new Date(start + 26 * HOUR);
    // A steady 14 L/h, but nothing received from 10:00 to 14:00: 20 of the window's 24 hours measured.
    const gap = (line: string) => {
      const t = Number(line.split(' ').at(-1));
      return t < start + 10 * HOUR || t >= start + 14 * HOUR;
    };
    await write(waterSeries('gappy', start, 26, () => 3.5).filter(gap));
    const gappy = (await continuousFlowRule().evaluate(ctx(now))).find((f) => f.subject.devEui === 'gappy')!;
    expect(gappy).toMatchObject({ firing: true, measured: { hours: 20, min_l_per_h: 14 } });
    expect(gappy.message.fr).toBe('Débit jamais nul sur 20 h mesurées des 24 dernières heures : gappy (s1), minimum horaire 14 L/h ; fuite probable après compteur.');
    expect(gappy.message.en).toBe('Flow never zero over 20 measured hours of the last 24: gappy (s1), smallest hourly volume 14 L/h; probable leak after the meter.');
  });

  it('W1 follows a site threshold (minLitresPerHour: 20) and a site that turns it off', async () => {
    const now = new Date(Date.parse('2026-06-01T00:00:00Z') + 26 * HOUR);
    const strict = await continuousFlowRule().evaluate({ ...ctx(now), rulesFor: () => ({ W1: { minLitresPerHour: 20 } }) });
    expect(strict.find((f) => f.subject.devEui === 'leaky')).toMatchObject({ firing: false, measured: { min_l_per_h: 14 }, thresholds: { min_l_per_h: 20 } });
    const off = await continuousFlowRule().evaluate({ ...ctx(now), rulesFor: () => ({ W1: { enabled: false } }) });
    expect(off).toEqual([]);
  });

  it('a backtest of W1 over the same history shows when the leak would have been found', async () => {
    const { backtest } = await import('../../services/alerts/backtest.ts');
    const start = Date.parse('2026-06-01T00:00:00Z');
    const c = ctx(new Date(start));
    const events = await backtest([continuousFlowRule()], { query: c.query, calendarFor: c.calendarFor }, { from: new Date(start), to: new Date(start + 26 * HOUR), stepMs: HOUR });
    const opened = events.filter((e) => e.type === 'opened');
    expect(opened.map((e) => e.alert.subject.devEui)).toEqual(['leaky']);
    // Found once 24 hours of flow are in the window (20 hourly values at least), not before.
    expect(opened[0]!.at.getTime() - start).toBeGreaterThanOrEqual(20 * HOUR);
  });

  it('D2 fires on a server room at 19.5 °C on average, not on one at 24 °C', async () => {
    const start = Date.parse('2026-06-05T00:00:00Z');
    const lines: string[] = [];
    for (let t = start; t < start + 24 * HOUR; t += 10 * MIN) {
      lines.push(`air,tenant=t1,site=mairie,zone=salle-a,role=it-inlet,dev_eui=aa01,device=a1 temperature_c=${19.5 + ((t / MIN) % 20 === 0 ? 0.2 : -0.2)} ${t}`);
      lines.push(`air,tenant=t1,site=mairie,zone=salle-b,role=it-inlet,dev_eui=bb01,device=b1 temperature_c=24 ${t}`);
    }
    await write(lines);
    const findings = await overCoolingRule().evaluate(ctx(new Date(start + 24 * HOUR)));
    const cold = findings.find((f) => f.subject.zone === 'salle-a')!;
    expect(cold).toMatchObject({ firing: true, measured: { mean_inlet_c: 19.5, readings: 144 }, thresholds: { below_c: 22 } });
    expect(cold.message.fr).toContain('entrée d\'air à 19,5 °C en moyenne sur 24 h, sous 22 °C : relever la consigne');
    expect(findings.find((f) => f.subject.zone === 'salle-b')!.firing).toBe(false);
  });

  it('S1 fires on a device silent for 10 h that used to talk every 15 min, not on one still talking', async () => {
    const now = Date.parse('2026-06-10T12:00:00Z');
    const lines: string[] = [];
    for (let t = now - 3 * 24 * HOUR, i = 0; t < now; t += 15 * MIN, i++) {
      if (t < now - 10 * HOUR) lines.push(`uplink,tenant=t1,site=s1,dev_eui=cc01,device=quiet f_cnt=${i}i ${t}`);
      lines.push(`uplink,tenant=t1,site=s1,dev_eui=dd01,device=chatty f_cnt=${i}i ${t}`);
    }
    await write(lines);
    const findings = await silentDeviceRule().evaluate(ctx(new Date(now)));
    expect(findings.find((f) => f.subject.devEui === 'cc01')).toMatchObject({ firing: true, measured: { silent_h: 10.3, usual_interval_min: 15 }, thresholds: { limit_h: 1 } });
    expect(findings.find((f) => f.subject.devEui === 'dd01')!.firing).toBe(false);
  });

  it('E4 fires on a building drawing 65 % of its day load at night, not on one at 16 %, across the spring DST night', async () => {
    // 2026-03-25 (Wed) to 2026-04-01 (Wed): includes the night of 29 March, when Paris skips 02:00-03:00.
    const start = Date.parse('2026-03-25T00:00:00Z');
    const now = new Date(start + 7 * 24 * HOUR);
    const lines: string[] = [];
    const wasteful = { index: 5e6 };
    const sober = { index: 9e6 };
    for (let t = start; t < now.getTime(); t += 15 * MIN) {
      const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' }).format(new Date(t)));
      const day = hour >= 7 && hour < 19;
      wasteful.index += (day ? 10_000 : 6_500) / 4;
      sober.index += (day ? 9_000 : 1_400) / 4;
      lines.push(`electricity,tenant=t1,site=ecole,role=building-main,dev_eui=ee01,device=wasteful active_energy_index_wh=${wasteful.index} ${t}`);
      lines.push(`electricity,tenant=t1,site=mairie,role=building-main,dev_eui=ff01,device=sober active_energy_index_wh=${sober.index} ${t}`);
    }
    await write(lines);
    const findings = await baseLoadRule().evaluate(ctx(now));
    expect(findings.find((f) => f.subject.devEui === 'ee01')).toMatchObject({ firing: true, measured: { night_median_kwh_per_h: 6.5, occupied_median_kwh_per_h: 10, ratio: 0.65 } });
    expect(findings.find((f) => f.subject.devEui === 'ff01')).toMatchObject({ firing: false, measured: { ratio: 0.16 } });
  });
});

describe('the simulated town', () => {
  it('raises W1 for the leaking gymnasium meter, E4 for the Jaurès school and D2 for the town-hall server room, and nothing else', async () => {
    const town = await startStack();
    const service = new ServiceProcess(town, { ALERT_EVAL_MINUTES: '1440' }, townRegistry());
    try {
      await service.start();
      // Tuesday 00:00 to Friday 00:00 (Paris): weekdays with occupied hours and three nights.
      const start = new Date('2026-02-02T23:00:00Z');
      const end = new Date(start.getTime() + 3 * 24 * HOUR);
      const sent = [...generateUplinks({ start, end, seed: 1 })];
      await publishUplinks(sent, { url: town.mqtt.url });
      await waitFor(async () => (await countPoints(town.influx, town.db, 'SELECT count(f_cnt) FROM uplink')) >= sent.length, 30_000, 'town stored');
      // The stream rules ran on every uplink as the service ingested it; their events are stored with the uplinks.
      const streamIds = new Set(defaultStreamRules().map((r) => r.info.id));
      const stored = await queryRows(town.influx, town.db, 'SELECT * FROM alert_event');
      const streamAlerts = stored.filter((e) => streamIds.has(String(e.rule))).map((e) => `${String(e.rule)} ${String(e.event)} ${String(e.device)}: ${String(e.message_fr)}`);
      expect([...streamIds].sort()).toEqual(['A1', 'D1', 'S2', 'W3', 'W4', 'W5', 'W7']);
      expect(streamAlerts).toEqual([]);
      const influx = createInfluxTarget({ api: 'v1', url: town.influx.url, db: town.db, timeoutMs: 10_000 });
      const calendar = siteCalendarSchema.parse({});
      const book = new AlertBook();
      const siteName = displayNames(townRegistry()).site;
      const events = await evaluateWindowed(defaultWindowedRules(), book, { now: end, query: (q) => influx.query(q), calendarFor: () => calendar, siteName });
      const opened = events.filter((e) => e.type === 'opened').map((e) => `${e.alert.ruleId} ${e.alert.subject.device ?? `${e.alert.subject.site}/${e.alert.subject.zone}`}`);
      console.log('[town alerts]', opened, events.find((e) => e.alert.ruleId === 'W1')?.alert.message.fr);
      expect(opened.sort()).toEqual(['D2 mairie/salle-serveur', 'E4 Compteur électrique de l’école Jean-Jaurès', 'W1 Compteur d’eau du gymnase']);
      // What people read names the sites as the town does, and the zone in words.
      const message = (rule: string) => events.find((e) => e.type === 'opened' && e.alert.ruleId === rule)!.alert.message;
      // The devices by the names the commune gave them; W1 says how many hours it measured, not more.
      const w1 = events.find((e) => e.type === 'opened' && e.alert.ruleId === 'W1')!.alert;
      const span = w1.measured.hours === 24 ? 'depuis 24 h' : `sur ${w1.measured.hours} h mesurées des 24 dernières heures`;
      expect(w1.message.fr).toMatch(new RegExp(`^Débit jamais nul ${span} : Compteur d’eau du gymnase \\(Gymnase municipal\\), minimum horaire \\d+ L/h ; fuite probable après compteur\\.$`));
      expect(message('E4').fr).toMatch(/^Consommation de nuit élevée : Compteur électrique de l’école Jean-Jaurès \(École Jean-Jaurès\), médiane /);
      expect(message('D2').fr).toMatch(/^Salle serveur trop refroidie \(Mairie, salle serveur\) : entrée d'air à [\d,]+ °C en moyenne sur 24 h, sous 22 °C/);
      expect(message('D2').en).toMatch(/^Server room over-cooled \(Mairie, salle serveur\): inlet air at /);
      // Device names are shown as configured; besides them, no site or zone identifier.
      for (const e of events) expect(e.alert.message.fr.replaceAll(e.alert.subject.device ?? '\u0000', ''), e.alert.ruleId).not.toMatch(/\b(mairie|gymnase|ecole-jaures|salle-serveur)\b/);
      // Nor any network-server device name: the registry names the devices in words.
      for (const e of events) for (const d of TOWN) expect(e.alert.message.fr, e.alert.ruleId).not.toContain(d.name);
    } finally {
      await service.stop();
      await town.close();
    }
  }, 120_000);
});
