/** The console's pure building blocks: escaping, sessions, CSRF, safe redirects, formats and catalogues. */
import { describe, expect, it } from 'vitest';
import { html, jsonBlock, trusted } from '../../services/console/html.ts';
import { safeNext } from '../../services/console/pages/signin.ts';
import { csrfMatches, SessionStore } from '../../services/console/session.ts';
import { formatter } from '../../services/console/format.ts';
import { en } from '../../services/console/i18n/en.ts';
import { fr } from '../../services/console/i18n/fr.ts';

describe('html', () => {
  it('escapes every value, including nested arrays, and lets only trusted markup through', () => {
    const name = `<img src=x onerror="alert(1)">&'`;
    const out = html`<p title="${name}">${name}${[name, html`<b>${name}</b>`]}${trusted('<br>')}${undefined}${false}</p>`.value;
    expect(out).not.toContain('<img');
    expect(out).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    expect(out).toContain('<b>&lt;img');
    expect(out).toContain('<br>');
  });

  it('puts data for scripts in a JSON block that no string can close', () => {
    const out = jsonBlock('d', { label: '</script><script>alert(1)</script>' }).value;
    expect(out.match(/<\/script>/g)).toHaveLength(1);
    expect(JSON.parse(out.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, ''))).toEqual({ label: '</script><script>alert(1)</script>' });
  });
});

describe('sessions', () => {
  it('end on sign-out, after idling and after their absolute lifetime, and never keep the cookie value', () => {
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 5000, max: 10 });
    const { id, session } = store.create('key1', 'fr', 0);
    expect(store.get(id, 500)).toBe(session);
    expect(JSON.stringify([...(store as unknown as { byDigest: Map<string, unknown> }).byDigest.keys()])).not.toContain(id);
    expect(store.get(id, 1400)).toBe(session); // refreshed at 500
    expect(store.get(id, 2500)).toBeUndefined(); // idle for 1100 ms
    const second = store.create('key1', 'fr', 0);
    for (let t = 900; t < 5000; t += 900) expect(store.get(second.id, t)).toBeDefined();
    expect(store.get(second.id, 5400)).toBeUndefined(); // older than 5 s, however active
    const third = store.create('key2', 'en', 0);
    expect(store.destroy(third.id)).toBe(true);
    expect(store.get(third.id, 1)).toBeUndefined();
    expect(store.get('forged', 1)).toBeUndefined();
  });

  it('are bounded: the oldest go first', () => {
    const store = new SessionStore({ idleMs: 1e9, absoluteMs: 1e9, max: 3 });
    const ids = [1, 2, 3, 4].map(() => store.create('k', 'fr', 0).id);
    expect(store.size).toBe(3);
    expect(store.get(ids[0], 1)).toBeUndefined();
    expect(store.get(ids[3], 1)).toBeDefined();
  });

  it('end together when their key is revoked', () => {
    const store = new SessionStore();
    const a = store.create('revoked', 'fr');
    const b = store.create('revoked', 'fr');
    const c = store.create('kept', 'fr');
    expect(store.destroyKey('revoked')).toBe(2);
    expect(store.get(a.id)).toBeUndefined();
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(c.id)).toBeDefined();
  });

  it('check the CSRF token exactly', () => {
    const { session } = new SessionStore().create('k', 'fr');
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, `${session.csrf}x`)).toBe(false);
    expect(csrfMatches(session, session.csrf.slice(1))).toBe(false);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, ['x'])).toBe(false);
  });
});

describe('the page after sign-in', () => {
  it('is a path of this console, never another site', () => {
    expect(safeNext('/alertes/abc?x=1')).toBe('/alertes/abc?x=1');
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)', '/connexion', '/deconnexion', undefined, 42]) expect(safeNext(bad)).toBe('/');
  });
});

describe('formats and messages', () => {
  it('writes numbers, units and dates the French way by default', () => {
    const f = formatter('fr');
    expect(f.number(1234.56)).toBe('1\u202f234,6');
    expect(f.quantity(19.64, '°C')).toBe('19,6\u202f°C');
    expect(f.dateTime(new Date('2026-12-06T13:05:00Z'))).toBe('6 déc. 2026, 14:05');
    expect(formatter('en').dateTime(new Date('2026-12-06T13:05:00Z'))).toBe('6 Dec 2026, 14:05');
    expect(f.ago(Date.now() - 3 * 3_600_000)).toBe('il y a 3\u202fh');
  });

  it('has the same keys in French and English, and no empty text', () => {
    const shape = (o: unknown): unknown =>
      typeof o === 'function' ? 'fn' : o && typeof o === 'object' ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, shape((o as Record<string, unknown>)[k])])) : typeof o;
    expect(shape(en)).toEqual(shape(fr));
    const empty: string[] = [];
    const visit = (o: unknown, path: string) => {
      if (typeof o === 'string' && o.trim() === '') empty.push(path);
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) visit(v, `${path}.${k}`);
    };
    visit(fr, 'fr');
    visit(en, 'en');
    expect(empty).toEqual([]);
  });
});

describe('chart', () => {
  it('draws each threshold line, tells several apart by their value, and puts each in the table and the sentence', async () => {
    const { chart } = await import('../../services/console/components.ts');
    const fmt = formatter('fr');
    const ctx = { lang: 'fr', t: fr, fmt } as unknown as Parameters<typeof chart>[0];
    const values = [1000, 1700];
    const out = chart(ctx, {
      id: 'preuve',
      title: 'CO₂',
      unit: 'ppm',
      timeZone: 'Europe/Paris',
      series: [{ label: 'Salle 1', points: [[Date.parse('2026-12-01T08:00:00Z'), 950], [Date.parse('2026-12-01T09:00:00Z'), 1820]] }],
      thresholds: values.map((v) => ({ value: v, legend: `${fr.threshold} ${fmt.quantity(v, 'ppm', 0)}` })),
      thresholdsText: fr.alert.thresholdLine(values.map((v) => fmt.quantity(v, 'ppm', 0))),
      summary: 'Résumé.',
    }).value;
    const data = JSON.parse(/<script[^>]*>(.*)<\/script>/s.exec(out)![1]!) as { thresholds: { value: number; legend: string }[] };
    expect(data.thresholds.map((t) => t.value)).toEqual([1000, 1700]);
    expect(data.thresholds[0]!.legend).not.toBe(data.thresholds[1]!.legend);
    const headers = [...out.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(headers.filter((h) => h!.startsWith('Seuil'))).toHaveLength(2);
    expect(out).toMatch(/Résumé\. Seuils : 1\s000\sppm et 1\s700\sppm\./);
  });

  it('says a single threshold as before, in French and English', () => {
    expect(fr.alert.thresholdLine(['10 L/h'])).toBe('Seuil : 10 L/h');
    expect(en.alert.thresholdLine(['10 L/h', '20 L/h', '30 L/h'])).toBe('Thresholds: 10 L/h, 20 L/h and 30 L/h');
  });
});
