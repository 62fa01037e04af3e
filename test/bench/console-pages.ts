/**
 * The console's pages under load, for `npm run bench`: the service already holds the readings of ~1,000 devices;
 * this writes 10,000 alert events (the alert history of a busy year) into InfluxDB through the same line format the
 * service stores, signs in with a key as a person would, and times each page (server time to the last byte, the
 * request sent from this machine over loopback). Bounded: a fixed number of requests per page.
 */
import { randomUUID } from 'node:crypto';
import type { AlertEvent } from '../../services/alerts/lifecycle.ts';
import type { Alert } from '../../services/alerts/model.ts';
import { alertEventLine } from '../../services/alerts/store.ts';
import type { SimDevice } from '../../services/simulator/town.ts';

const RULES: [string, Alert['category'], string][] = [
  ['W1', 'water', 'Débit continu : fuite probable'],
  ['E4', 'energy', 'Consommation de nuit élevée'],
  ['D2', 'datacenter', 'Salle serveur trop refroidie'],
  ['S1', 'fleet', 'Capteur muet'],
  ['A1', 'air', 'CO₂ élevé'],
];

/** `events` alert events over the last `days`, about half of the alerts resolved, on the given devices. */
export function alertEventLines(devices: readonly SimDevice[], tenant: string, events: number, days: number, now = Date.now()): { lines: string[]; someAlertId: string } {
  const lines: string[] = [];
  let someAlertId = '';
  for (let i = 0; lines.length < events; i++) {
    const d = devices[i % devices.length]!;
    const [ruleId, category, title] = RULES[i % RULES.length]!;
    // Spread over the period, each at its own millisecond (two events of one series at the same instant would be one point).
    const startedAt = new Date(now - ((i * 7919) % (days * 1440)) * 60_000 - 60_000 - i);
    const alert: Alert = {
      id: randomUUID(),
      ruleId,
      ruleVersion: 1,
      category,
      title: { fr: title, en: title },
      severity: i % 3 === 0 ? 'major' : 'warning',
      subject: { tenant, site: d.site, devEui: d.devEui, device: d.name },
      state: 'open',
      startedAt,
      lastFiringAt: startedAt,
      window: { from: new Date(startedAt.getTime() - 86_400_000), to: startedAt },
      thresholds: { min_l_per_h: 10, window_h: 24 },
      measured: { min_l_per_h: 18, hours: 24 },
      message: { fr: `${title} au compteur ${d.name}.`, en: `${title} at ${d.name}.` },
      source: { text: { fr: 'bench', en: 'bench' }, reference: 'bench' },
      action: { fr: 'Vérifier.', en: 'Check.' },
    };
    someAlertId ||= alert.id;
    const opened: AlertEvent = { type: 'opened', at: startedAt, alert };
    lines.push(alertEventLine(opened));
    if (i % 2 === 1 && lines.length < events) {
      const at = new Date(startedAt.getTime() + 3_600_000);
      const resolved: AlertEvent = { type: 'resolved', at, alert: { ...alert, state: 'resolved', endedAt: at, resolved: { by: 'bench', at, comment: 'ok' } } };
      lines.push(alertEventLine(resolved));
    }
  }
  return { lines, someAlertId };
}

export async function writeLines(influxUrl: string, db: string, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 5000) {
    const r = await fetch(`${influxUrl}/write?db=${db}&precision=ms`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') });
    if (r.status !== 204) throw new Error(`InfluxDB refused the alert events: ${r.status} ${await r.text()}`);
  }
}

export interface PageTiming {
  page: string;
  status: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The first request (caches cold: the parsimony figures of the fleet page are computed then). */
  firstMs: number;
  bytes: number;
}

export async function timePages(base: string, key: string, pages: { name: string; path: string }[], rounds = 10): Promise<PageTiming[]> {
  const signIn = await fetch(`${base}/connexion`, { method: 'POST', body: new URLSearchParams({ cle: key, suite: '/' }), redirect: 'manual' });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  if (signIn.status !== 303 || !cookie.startsWith('veilleur_session=')) throw new Error(`console sign-in failed: ${signIn.status}`);
  const out: PageTiming[] = [];
  for (const p of pages) {
    const times: number[] = [];
    let status = 0;
    let bytes = 0;
    let firstMs = 0;
    // One warm-up request (caches, JIT), reported apart, then the timed ones.
    for (let i = 0; i <= rounds; i++) {
      const t0 = performance.now();
      const r = await fetch(`${base}${p.path}`, { headers: { cookie }, redirect: 'manual' });
      const body = await r.arrayBuffer();
      if (i > 0) times.push(performance.now() - t0);
      else firstMs = Math.round(performance.now() - t0);
      status = r.status;
      bytes = body.byteLength;
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]!);
    out.push({ page: p.name, status, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: Math.round(times.at(-1)!), firstMs, bytes });
  }
  return out;
}
