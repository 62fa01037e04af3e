import { describe, expect, it } from 'vitest';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import type { Subject } from '../../services/alerts/model.ts';
import { co2Rule, dryOrTamper, inletTemperatureRule, leakSensorWet, lowBatteryRule, type StreamInput } from '../../services/alerts/stream-rules.ts';

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
    expect(opened!.alert.message.fr).toBe('CO₂ à 910 ppm dans classe-cp (ecole-jaures, classe-cp), au-dessus de 800 ppm depuis 10 min : aérer.');
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
    expect(rule.evaluate(input(room, 0, { battery: 2.8 }))).toMatchObject({ firing: true, message: { fr: 'Pile de classe-cp (ecole-jaures, classe-cp) à 2,8 V.' } });
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
