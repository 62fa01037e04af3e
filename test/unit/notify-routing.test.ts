import { describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { routeSchema } from '../../services/alerts/notify/config.ts';
import { summaryTopic } from '../../services/alerts/notify/mqtt.ts';
import { eventId, summaryEntry, type SummaryPayload } from '../../services/alerts/notify/payload.ts';
import { TokenBucket } from '../../services/alerts/notify/rate-limit.ts';
import { renderMail } from '../../services/alerts/notify/render.ts';
import { routeMatches } from '../../services/alerts/notify/routing.ts';
import { displayNames } from '../../services/registry/names.ts';
import { alertEvent, T0 } from './notify-fixtures.ts';

const route = (r: Record<string, unknown>) => routeSchema.parse({ channels: ['c'], ...r });

describe('routing', () => {
  it('matches every event when a route sets no criterion', () => {
    expect(routeMatches(route({}), alertEvent({ severity: 'info', type: 'acknowledged' }))).toBe(true);
  });

  it('requires every criterion it sets, any value of a list', () => {
    const r = route({ tenants: ['saint-veilleur', 'autre'], sites: ['mairie'], minSeverity: 'major', events: ['opened', 'resolved'], categories: ['water'], rules: ['W7', 'W1'] });
    expect(routeMatches(r, alertEvent())).toBe(true);
    expect(routeMatches(r, alertEvent({ tenant: 'ailleurs' }))).toBe(false);
    expect(routeMatches(r, alertEvent({ site: 'ecole' }))).toBe(false);
    expect(routeMatches(r, alertEvent({ severity: 'warning' }))).toBe(false);
    expect(routeMatches(r, alertEvent({ severity: 'major' }))).toBe(true);
    expect(routeMatches(r, alertEvent({ type: 'escalated' }))).toBe(false);
    expect(routeMatches(r, alertEvent({ type: 'resolved' }))).toBe(true);
    expect(routeMatches(r, alertEvent({ category: 'energy' }))).toBe(false);
    expect(routeMatches(r, alertEvent({ ruleId: 'A1' }))).toBe(false);
  });
});

describe('token bucket', () => {
  it('allows a burst of max, then max per perMinutes, and tells how long to wait', () => {
    let now = T0;
    const b = TokenBucket.fromLimit({ max: 3, perMinutes: 1 }, () => now);
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    expect(b.msUntilToken()).toBe(20_000);
    now += 19_999;
    expect(b.tryTake()).toBe(false);
    now += 1;
    expect(b.tryTake()).toBe(true);
    // Never more than the capacity, however long it stayed idle.
    now += 3_600_000;
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
  });

  it('counts a forced token as debt, and does not gain tokens when the clock goes back', () => {
    let now = T0;
    const b = TokenBucket.fromLimit({ max: 1, perMinutes: 1 }, () => now);
    expect(b.tryTake()).toBe(true);
    b.forceTake();
    expect(b.msUntilToken()).toBe(120_000);
    now -= 60_000;
    expect(b.msUntilToken()).toBe(120_000);
  });
});

describe('e-mail rendering', () => {
  it('writes French by default: subject, explanation and action, in text and HTML', () => {
    const e = alertEvent();
    const m = renderMail({ kind: 'event', id: eventId(e), event: e }, 'fr', '[Veilleur]');
    expect(m.subject).toBe('[Veilleur] Critique · Nouvelle alerte W7 : Détecteur de fuite mouillé — fuite-chaufferie (mairie, chaufferie)');
    expect(m.text).toContain("Présence d'eau détectée par fuite-chaufferie (mairie, chaufferie) le 12/01/2026 10:00 : intervention immédiate.");
    expect(m.text).toContain("Action suggérée : Se rendre sur place, couper l'eau en amont si la fuite se confirme.");
    expect(m.text).toContain('Valeurs mesurées : water_leak = wet, flow_l_h = 18,3');
    expect(m.text).toContain('Seuils : min_flow_l_h = 2,5');
    expect(m.text).toContain('Fenêtre observée : du 12/01/2026 09:00 au 12/01/2026 10:00');
    expect(m.text).toContain('Où : fuite-chaufferie (mairie, chaufferie) — saint-veilleur, DevEUI 24e124126c140001');
    expect(m.text).toContain('Source de la règle : État de fuite transmis par le détecteur (Netvox, R718WA User Manual)');
    expect(m.text).toContain(`Alerte alert-1, événement ${eventId(e)}.`);
    expect(m.html).toContain('<html lang="fr">');
    expect(m.html).toContain('<strong>Action suggérée</strong> : Se rendre sur place, couper l&#39;eau en amont');
  });

  it('writes English on request, with who acknowledged or resolved', () => {
    const e = alertEvent({ type: 'acknowledged', severity: 'major' });
    const m = renderMail({ kind: 'event', id: eventId(e), event: e }, 'en', '[Veilleur]');
    expect(m.subject).toBe('[Veilleur] Major · Alert acknowledged W7: Leak sensor wet — fuite-chaufferie (mairie, chaufferie)');
    expect(m.text).toContain('Suggested action: Go on site; shut the water upstream if the leak is confirmed.');
    expect(m.text).toContain('Acknowledged: by agent.dupont on 12 Jan 2026, 10:00 ("plombier prévenu")');
    expect(m.text).toContain('Measured: water_leak = wet, flow_l_h = 18.3');
    expect(m.text).toContain('Rule source: Leak state reported by the sensor (Netvox, R718WA User Manual)');
  });

  it('names the commune and the site as configured when the names are known', () => {
    const names = displayNames({
      tenants: [{ id: 'saint-veilleur', name: 'Commune de Saint-Veilleur', lnsTenants: [], applications: [] }],
      sites: [
        { site: 'mairie', name: 'Hôtel de ville', calendar: siteCalendarSchema.parse({}) },
        { site: 'ecole', name: 'École Jean-Jaurès', calendar: siteCalendarSchema.parse({}) },
      ],
    });
    const e = alertEvent();
    const fr = renderMail({ kind: 'event', id: eventId(e), event: e }, 'fr', '[Veilleur]', names);
    expect(fr.subject).toBe('[Veilleur] Critique · Nouvelle alerte W7 : Détecteur de fuite mouillé — fuite-chaufferie (Hôtel de ville, chaufferie)');
    expect(fr.text).toContain('Où : fuite-chaufferie (Hôtel de ville, chaufferie) — Commune de Saint-Veilleur, DevEUI 24e124126c140001');
    // The sentence is the rule's, written when the alert was raised (here a fixture); the rest names, never identifies.
    expect(fr.text.replace(e.alert.message.fr, '')).not.toMatch(/saint-veilleur|\(mairie/);
    const en = renderMail({ kind: 'event', id: eventId(e), event: e }, 'en', '[Veilleur]', names);
    expect(en.text).toContain('Where: fuite-chaufferie (Hôtel de ville, chaufferie) — Commune de Saint-Veilleur, DevEUI 24e124126c140001');
    const events = [alertEvent({ id: 'a1', site: 'ecole', type: 'resolved' })].map(summaryEntry);
    const summary: SummaryPayload = { id: 's1', event: 'summary', at: new Date(T0).toISOString(), route: 'fuites', rateLimit: { max: 10, perMinutes: 60 }, count: 1, events, omitted: 0 };
    expect(renderMail({ kind: 'summary', id: 's1', summary }, 'fr', '[Veilleur]', names).text).toContain('· W7 · École Jean-Jaurès, fuite-chaufferie : ');
  });

  it('escapes what comes from configuration and people in the HTML part', () => {
    const e = alertEvent({ device: '<img src=x onerror=alert(1)>' });
    const m = renderMail({ kind: 'event', id: eventId(e), event: e }, 'fr', '[Veilleur]');
    expect(m.html).not.toContain('<img');
    expect(m.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(m.text).toContain('<img src=x onerror=alert(1)>');
  });

  it('summarises held events with the route and its limit', () => {
    const events = [alertEvent({ id: 'a1' }), alertEvent({ id: 'a2', site: 'ecole', type: 'resolved' })].map(summaryEntry);
    const summary: SummaryPayload = { id: 's1', event: 'summary', at: new Date(T0).toISOString(), route: 'fuites', rateLimit: { max: 10, perMinutes: 60 }, count: 5, events, omitted: 3 };
    const fr = renderMail({ kind: 'summary', id: 's1', summary }, 'fr', '[Veilleur]');
    expect(fr.subject).toBe('[Veilleur] 5 événements regroupés (limite de la route fuites)');
    expect(fr.text).toContain('La route « fuites » a atteint sa limite de 10 notifications par 60 minutes');
    expect(fr.text).toContain('- 12/01/2026 10:00 · Critique · Alerte résolue · W7 · ecole, fuite-chaufferie : Présence');
    expect(fr.text).toContain('… et 3 autres, enregistrés dans l’historique des alertes.');
    const en = renderMail({ kind: 'summary', id: 's1', summary }, 'en', '[Veilleur]');
    expect(en.subject).toBe('[Veilleur] 5 events held back (rate limit of route fuites)');
  });
});

describe('MQTT summary topic', () => {
  it('keeps a placeholder shared by all events and never lets data add levels', () => {
    const events = [alertEvent({ id: 'a1' }), alertEvent({ id: 'a2', site: 'ecole/annexe' })].map(summaryEntry);
    const s: SummaryPayload = { id: 's', event: 'summary', at: '', route: 'r', rateLimit: { max: 1, perMinutes: 1 }, count: 2, events, omitted: 0 };
    expect(summaryTopic('veilleur/{tenant}/{site}/{rule}/{event}', s)).toBe('veilleur/saint-veilleur/_/summary/summary');
    expect(summaryTopic('v/{site}', { ...s, events: events.slice(1) })).toBe('v/ecole_annexe');
  });
});
