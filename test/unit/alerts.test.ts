import { describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import { describeSubject, type Subject } from '../../services/alerts/model.ts';
import { describePlace } from '../../services/alerts/rules/common.ts';
import { latestAlerts } from '../../services/alerts/store.ts';
import { defaultStreamRules } from '../../services/alerts/rules/index.ts';
import { co2Rule, dryOrTamper, inletTemperatureRule, leakSensorWet, lowBatteryRule, type StreamInput } from '../../services/alerts/rules/stream.ts';
import { displayNames } from '../../services/registry/names.ts';

const T0 = Date.parse('2026-01-12T09:00:00Z'); // a Monday, 10:00 in Paris
const at = (min: number) => new Date(T0 + min * 60_000);
const room: Subject = { tenant: 'saint-veilleur', site: 'ecole-jaures', zone: 'classe-cp', devEui: '24e124710c400001', device: 'classe-cp' };
const rack: Subject = { tenant: 'saint-veilleur', site: 'mairie', zone: 'salle-serveur', devEui: 'a840410000010001', device: 'baie-1' };
const input = (subject: Subject, min: number, values: StreamInput['values'], role = 'room', occupied?: boolean): StreamInput => ({
  subject,
  role,
  at: at(min),
  values,
  ...(occupied !== undefined ? { occupied } : {}),
});
let n = 0;
const book = () => new AlertBook(() => `alert-${++n}`);

describe('W7 leak sensor wet', () => {
  it('opens a critical alert at once, explained in French and English, and resolves when dry', () => {
    const b = book();
    const leak: Subject = { tenant: 't', site: 'mairie', zone: 'chaufferie', devEui: '24e124126c140001', device: 'fuite-chaufferie' };
    const [opened] = b.apply(leakSensorWet.evaluate(input(leak, 0, { 'water.leak': true }))!);
    expect(opened).toMatchObject({ type: 'opened', alert: { ruleId: 'W7', ruleVersion: 1, severity: 'critical', state: 'open', measured: { water_leak: 'wet' } } });
    expect(opened!.alert.message.fr).toBe("Présence d'eau détectée par fuite-chaufferie (mairie, chaufferie) le 12/01/2026 10:00 : intervention immédiate.");
    expect(opened!.alert.message.en).toContain('Water detected by fuite-chaufferie (mairie, chaufferie)');
    expect(opened!.alert.source.reference).toContain('Netvox, R718WA User Manual');
    expect(b.apply(leakSensorWet.evaluate(input(leak, 10, { 'water.leak': true }))!)).toEqual([]);
    const [resolved] = b.apply(leakSensorWet.evaluate(input(leak, 20, { 'water.leak': false }))!);
    expect(resolved).toMatchObject({ type: 'resolved', alert: { state: 'resolved', resolved: { by: 'veilleur' } } });
    expect(b.list()).toEqual([]);
  });

  it('says nothing about an uplink without a leak reading', () => {
    expect(leakSensorWet.evaluate(input(room, 0, { 'air.temperature': 20 }))).toBeUndefined();
  });
});

describe('A1 CO2', () => {
  it('fires after 10 min above 800 ppm, escalates above 1,500, and resolves only after 10 min clear', () => {
    const rule = co2Rule();
    const b = book();
    expect(b.apply(rule.evaluate(input(room, 0, { 'air.co2': 850 }))!)).toEqual([]);
    const [opened] = b.apply(rule.evaluate(input(room, 10, { 'air.co2': 910 }))!);
    expect(opened).toMatchObject({ type: 'opened', alert: { severity: 'warning', measured: { co2_ppm: 910, above_for_min: 10 }, thresholds: { warn_ppm: 800 } } });
    expect(opened!.alert.message.fr).toBe('CO₂ à 910 ppm, au-dessus de 800 ppm depuis 10 min, relevé par classe-cp (ecole-jaures, classe cp) : aérer.');
    expect(b.apply(rule.evaluate(input(room, 20, { 'air.co2': 1620 }))!)).toMatchObject([{ type: 'escalated', alert: { severity: 'major' } }]);
    // Clear for 5 min, then above again: the alert does not flap.
    expect(b.apply(rule.evaluate(input(room, 25, { 'air.co2': 700 }))!)).toEqual([]);
    expect(b.apply(rule.evaluate(input(room, 30, { 'air.co2': 900 }))!)).toEqual([]);
    expect(b.list()).toHaveLength(1);
    expect(b.apply(rule.evaluate(input(room, 40, { 'air.co2': 650 }))!)).toEqual([]);
    expect(b.apply(rule.evaluate(input(room, 50, { 'air.co2': 640 }))!)).toMatchObject([{ type: 'resolved' }]);
  });

  it('does not fire outside occupied hours', () => {
    const rule = co2Rule();
    const b = book();
    for (let m = 0; m <= 60; m += 10) expect(b.apply(rule.evaluate(input(room, m, { 'air.co2': 1200 }, 'room', false))!)).toEqual([]);
  });
});

describe('D1 server inlet temperature', () => {
  it('fires after 15 min outside 18–27 °C, and at once above 32 °C', () => {
    const rule = inletTemperatureRule();
    const b = book();
    expect(b.apply(rule.evaluate(input(rack, 0, { 'air.temperature': 17.4 }, 'it-inlet'))!)).toEqual([]);
    expect(b.apply(rule.evaluate(input(rack, 15, { 'air.temperature': 17.2 }, 'it-inlet'))!)).toMatchObject([{ type: 'opened', alert: { severity: 'warning', measured: { inlet_c: 17.2 } } }]);
    const other = inletTemperatureRule();
    expect(book().apply(other.evaluate(input(rack, 0, { 'air.temperature': 33 }, 'it-inlet'))!)).toMatchObject([{ type: 'opened', alert: { severity: 'critical' } }]);
  });

  it('leaves an over-cooled but in-band room (19.5 °C) and non-inlet sensors alone', () => {
    const rule = inletTemperatureRule();
    const b = book();
    for (let m = 0; m <= 120; m += 10) expect(b.apply(rule.evaluate(input(rack, m, { 'air.temperature': 19.5 }, 'it-inlet'))!)).toEqual([]);
    expect(rule.evaluate(input(room, 0, { 'air.temperature': 35 }, 'room'))).toBeUndefined();
  });
});

describe('S2 low battery and W5 flags', () => {
  it('uses the level when known, else the voltage', () => {
    const rule = lowBatteryRule();
    expect(rule.evaluate(input(room, 0, { batteryLevel: 9 }))).toMatchObject({ firing: true, measured: { battery_pct: 9 } });
    expect(rule.evaluate(input(room, 0, { batteryLevel: 60, battery: 2.5 }))).toMatchObject({ firing: false });
    expect(rule.evaluate(input(room, 0, { battery: 3.0 }))).toMatchObject({ firing: false });
    expect(rule.evaluate(input(room, 0, { battery: 2.8 }))).toMatchObject({ firing: true, message: { fr: 'Pile à 2,8 V : classe-cp (ecole-jaures, classe cp).' } });
  });

  it('names which meter flag is on', () => {
    const f = dryOrTamper.evaluate(input(room, 0, { 'water.alarm.dry': false, 'water.alarm.tamper': true }))!;
    expect(f).toMatchObject({ firing: true, measured: { dry: 'off', tamper: 'on' } });
    expect(f.message.fr).toContain('fraude / démontage');
  });
});

describe('lifecycle', () => {
  it('keeps one alert per rule and subject, records who acknowledged, and does not reopen a hand-resolved alert before a clear', () => {
    const b = book();
    const wet = (min: number, v: boolean) => leakSensorWet.evaluate(input(room, min, { 'water.leak': v }))!;
    const [opened] = b.apply(wet(0, true));
    for (let m = 1; m < 5; m++) expect(b.apply(wet(m, true))).toEqual([]);
    expect(b.list()).toHaveLength(1);
    const ack = b.acknowledge(opened!.alert.id, 'agent.dupont', 'plombier prévenu', at(6));
    expect(ack).toMatchObject({ type: 'acknowledged', alert: { state: 'acknowledged', acknowledged: { by: 'agent.dupont', comment: 'plombier prévenu' } } });
    expect(b.resolve(opened!.alert.id, 'agent.dupont', 'réparé', at(7))).toMatchObject({ alert: { state: 'resolved', resolved: { by: 'agent.dupont' } } });
    expect(b.apply(wet(8, true))).toEqual([]);
    expect(b.apply(wet(9, false))).toEqual([]);
    const [again] = b.apply(wet(10, true));
    expect(again).toMatchObject({ type: 'opened' });
    expect(again!.alert.id).not.toBe(opened!.alert.id);
  });
});

describe('alert events', () => {
  it('each event carries the alert as it stood at its time, not as it ends up', () => {
    const rule = co2Rule();
    const b = book();
    b.apply(rule.evaluate(input(room, 0, { 'air.co2': 850 }))!);
    const [opened] = b.apply(rule.evaluate(input(room, 10, { 'air.co2': 910 }))!);
    const [escalated] = b.apply(rule.evaluate(input(room, 20, { 'air.co2': 1620 }))!);
    b.apply(rule.evaluate(input(room, 30, { 'air.co2': 700 }))!);
    const [resolved] = b.apply(rule.evaluate(input(room, 40, { 'air.co2': 650 }))!);
    expect(opened).toMatchObject({ type: 'opened', alert: { state: 'open', severity: 'warning', measured: { co2_ppm: 910 } } });
    expect(opened!.alert.message.fr).toContain('910 ppm');
    expect(opened!.alert.endedAt).toBeUndefined();
    expect(escalated).toMatchObject({ type: 'escalated', alert: { state: 'open', severity: 'major', measured: { co2_ppm: 1620 } } });
    expect(escalated!.alert.message.fr).toContain('1 620 ppm'.replace(' ', '\u202f'));
    expect(resolved).toMatchObject({ type: 'resolved', alert: { state: 'resolved', severity: 'major' } });
    expect(resolved!.alert.endedAt).toEqual(at(40));
  });

  it('a pending finding (hysteresis band) keeps an open alert open and opens none', () => {
    const b = book();
    const rule = leakSensorWet;
    const [opened] = b.apply(rule.evaluate(input(room, 0, { 'water.leak': true }))!);
    expect(opened!.type).toBe('opened');
    const pending = { ...rule.evaluate(input(room, 5, { 'water.leak': false }))!, pending: true };
    expect(b.apply(pending)).toEqual([]);
    expect(b.list()).toHaveLength(1);
    expect(b.apply(rule.evaluate(input(room, 10, { 'water.leak': false }))!)).toMatchObject([{ type: 'resolved' }]);
    const other = book();
    expect(other.apply({ ...rule.evaluate(input(room, 15, { 'water.leak': true }))!, firing: false, pending: true })).toEqual([]);
    expect(other.list()).toEqual([]);
  });
});

describe('display names in alert sentences', () => {
  const names = displayNames({
    tenants: [{ id: 'saint-veilleur', name: 'Commune de Saint-Veilleur', lnsTenants: [], applications: [] }],
    sites: [
      { site: 'gymnase', name: 'Gymnase municipal', calendar: siteCalendarSchema.parse({}) },
      { tenant: 'saint-veilleur', site: 'mairie', name: 'Mairie', calendar: siteCalendarSchema.parse({}) },
    ],
  });
  const meter: Subject = { tenant: 'saint-veilleur', site: 'gymnase', building: 'gymnase', devEui: '0018b2200000a001', device: 'compteur-eau-gymnase' };

  it('names the site as configured, the building when it is not the site, the zone in words, the device as configured', () => {
    expect(describeSubject(meter, names.site).fr).toBe('compteur-eau-gymnase (Gymnase municipal)');
    const rack: Subject = { tenant: 'saint-veilleur', site: 'mairie', building: 'annexe-nord', zone: 'salle-serveur', devEui: 'a8', device: 'baie-1' };
    expect(describeSubject(rack, names.site).fr).toBe('baie-1 (Mairie, annexe nord, salle serveur)');
    // A place without a device: the site's name and the zone, not "mairie (mairie, salle-serveur)".
    expect(describeSubject({ tenant: 'saint-veilleur', site: 'mairie', building: 'mairie', zone: 'salle-serveur' }, names.site).fr).toBe('Mairie, salle serveur');
    expect(describePlace({ tenant: 'saint-veilleur', site: 'gymnase', building: 'gymnase' }, names.site)).toEqual({ fr: 'bâtiment Gymnase municipal', en: 'building Gymnase municipal' });
    expect(describePlace({ tenant: 'saint-veilleur', site: 'mairie', building: 'annexe-nord' }, names.site).fr).toBe('bâtiment annexe nord (Mairie)');
    // Without names (or without a name for the site), the identifier stands.
    expect(describeSubject(meter).fr).toBe('compteur-eau-gymnase (gymnase)');
    expect(describeSubject({ ...meter, site: 'ecole', building: 'ecole' }, names.site).fr).toBe('compteur-eau-gymnase (ecole)');
    // A site named for another commune does not name this one's site of the same identifier.
    expect(describeSubject({ ...meter, tenant: 'agglo-sud', site: 'mairie', building: 'mairie' }, names.site).fr).toBe('compteur-eau-gymnase (mairie)');
  });

  it('stream rules built with the names write them in both languages', () => {
    const rules = defaultStreamRules(undefined, names.site);
    const w7 = rules.find((r) => r.info.id === 'W7')!;
    const leak: Subject = { tenant: 'saint-veilleur', site: 'mairie', building: 'mairie', zone: 'salle-serveur', devEui: '00137a1000010001', device: 'fuite-salle-serveur' };
    const f = w7.evaluate(input(leak, 0, { 'water.leak': true }))!;
    expect(f.message.fr).toBe("Présence d'eau détectée par fuite-salle-serveur (Mairie, salle serveur) le 12/01/2026 10:00 : intervention immédiate.");
    expect(f.message.en).toContain('Water detected by fuite-salle-serveur (Mairie, salle serveur)');
    const w3 = rules.find((r) => r.info.id === 'W3')!;
    expect(w3.evaluate(input(meter, 0, { 'water.alarm.burst': true }))!.message.fr).toBe('Compteur-eau-gymnase (Gymnase municipal) signale une rupture ou un surdébit le 12/01/2026 10:00.');
    // The subject itself keeps the identifiers: it is what alerts are keyed and filtered by.
    expect(f.subject).toEqual(leak);
  });
});

describe('rule sources stored before they were translated', () => {
  const row = (source: unknown) => ({ time: T0, alert_id: 'a1', rule: 'W7', category: 'water', severity: 'critical', state: 'open', tenant: 't', site: 's', details: JSON.stringify({ source }) });

  it('an English string becomes the text in both languages; a translated one is read as it is', () => {
    expect(latestAlerts([row({ text: 'Leak state reported by the sensor', reference: 'Netvox, R718WA User Manual' })])[0]!.source).toEqual({
      text: { fr: 'Leak state reported by the sensor', en: 'Leak state reported by the sensor' },
      reference: 'Netvox, R718WA User Manual',
    });
    expect(latestAlerts([row(leakSensorWet.info.source)])[0]!.source).toEqual(leakSensorWet.info.source);
    expect(latestAlerts([row(undefined)])[0]!.source).toEqual({ text: { fr: '', en: '' }, reference: '' });
  });
});
