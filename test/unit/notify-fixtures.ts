/** Alert events for the notification tests, built by hand so that each test states what it routes on. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { AlertEvent } from '../../services/alerts/lifecycle.ts';
import type { Alert, Severity } from '../../services/alerts/model.ts';

export const T0 = Date.parse('2026-01-12T09:00:00Z'); // 10:00 in Paris

export function alertEvent(o: { id?: string; type?: AlertEvent['type']; tenant?: string; site?: string; severity?: Severity; ruleId?: string; category?: Alert['category']; device?: string; at?: number } = {}): AlertEvent {
  const at = new Date(o.at ?? T0);
  const device = o.device ?? 'fuite-chaufferie';
  const alert: Alert = {
    id: o.id ?? 'alert-1',
    ruleId: o.ruleId ?? 'W7',
    ruleVersion: 1,
    category: o.category ?? 'water',
    title: { fr: 'Détecteur de fuite mouillé', en: 'Leak sensor wet' },
    severity: o.severity ?? 'critical',
    subject: { tenant: o.tenant ?? 'saint-veilleur', site: o.site ?? 'mairie', zone: 'chaufferie', devEui: '24e124126c140001', device },
    state: o.type === 'resolved' ? 'resolved' : o.type === 'acknowledged' ? 'acknowledged' : 'open',
    startedAt: at,
    lastFiringAt: at,
    window: { from: new Date(at.getTime() - 3_600_000), to: at },
    thresholds: { min_flow_l_h: 2.5 },
    measured: { water_leak: 'wet', flow_l_h: 18.25 },
    message: {
      fr: `Présence d'eau détectée par ${device} (mairie, chaufferie) le 12/01/2026 10:00 : intervention immédiate.`,
      en: `Water detected by ${device} (mairie, chaufferie) at 12 Jan 2026, 10:00: immediate action needed.`,
    },
    source: { text: { fr: 'État de fuite transmis par le détecteur', en: 'Leak state reported by the sensor' }, reference: 'Netvox, R718WA User Manual' },
    action: { fr: "Se rendre sur place, couper l'eau en amont si la fuite se confirme.", en: 'Go on site; shut the water upstream if the leak is confirmed.' },
    ...(o.type === 'resolved' ? { endedAt: at, resolved: { by: 'veilleur', at, comment: 'condition cleared' } } : {}),
    ...(o.type === 'acknowledged' ? { acknowledged: { by: 'agent.dupont', at, comment: 'plombier prévenu' } } : {}),
  };
  return { type: o.type ?? 'opened', at, alert };
}

/** A pino logger whose JSON lines are kept, to check what is logged (and what is not). */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  // pino writes synchronously to a plain Writable, so lines are there as soon as the call returns.
  const log = pino({ level: 'debug' }, stream);
  return {
    log,
    get lines() {
      return chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    raw: () => chunks.join(''),
  };
}
