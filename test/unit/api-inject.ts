/**
 * The API as the service serves it (auth hook, zod validation, error handler of services/api/app.ts), driven with
 * Fastify's `inject` against an InfluxDB stand-in: it records every statement it receives and answers with canned
 * series, keeping only the rows a real InfluxDB would return for the statement's tenant, alert id and DevEUI
 * conditions (so a route that forgot its tenant clause shows the other commune's rows, as it would in production).
 * The route table and the routes each request reached are recorded, for the check that every route has a test.
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { AlertBook, type AlertEvent } from '../../services/alerts/lifecycle.ts';
import { leakSensorWet } from '../../services/alerts/rules/stream.ts';
import { calendarLookup } from '../../services/alerts/scheduler.ts';
import { registerApi, trackRoutes, type RouteEntry } from '../../services/api/app.ts';
import type { ApiDeps } from '../../services/api/deps.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { AuditLog } from '../../services/audit/trail.ts';
import type { RedecodeOptions } from '../../services/pipeline/redecode.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';

export const A = 'saint-veilleur';
export const B = 'agglo-sud';
/** Town devices: A's water meter and leak sensor at the mairie, B's inlet meter at the northern reservoir. */
export const METER_A = { devEui: '24e124136d490001', site: 'mairie', device: 'compteur-eau-mairie' };
export const LEAK_A = { devEui: '24e124126c140001', site: 'mairie', device: 'fuite-chaufferie-mairie' };
export const METER_B = { devEui: '70b3d59ba0002f01', site: 'reservoir-nord', device: 'compteur-entree-reservoir' };

export const KEYS = {
  aViewer: generateKey('injaview01'),
  aOperator: generateKey('injaoper01'),
  aAdmin: generateKey('injaadmin1'),
  bViewer: generateKey('injbview01'),
  bAdmin: generateKey('injbadmin1'),
  both: generateKey('injboth001'),
  root: generateKey('injroot001'),
};
export type KeyName = keyof typeof KEYS;

const KEY_ENTRIES = [
  { id: KEYS.aViewer.id, name: 'mairie A lecture', role: 'viewer', tenants: [A], hash: KEYS.aViewer.hash },
  { id: KEYS.aOperator.id, name: 'astreinte A', role: 'operator', tenants: [A], hash: KEYS.aOperator.hash },
  { id: KEYS.aAdmin.id, name: 'admin A', role: 'admin', tenants: [A], hash: KEYS.aAdmin.hash },
  { id: KEYS.bViewer.id, name: 'lecture B', role: 'viewer', tenants: [B], hash: KEYS.bViewer.hash },
  { id: KEYS.bAdmin.id, name: 'admin B', role: 'admin', tenants: [B], hash: KEYS.bAdmin.hash },
  { id: KEYS.both.id, name: 'agglomération lecture', role: 'viewer', tenants: [A, B], hash: KEYS.both.hash },
  { id: KEYS.root.id, name: 'équipe instance', role: 'admin', tenants: ['*'], hash: KEYS.root.hash },
] as const;

type Answer = InfluxSeries[] | ((q: string) => InfluxSeries[]);

/** Values a statement's `"tag" = '…'` conditions name (several for an OR-list), unescaped. */
export function conditionValues(q: string, tag: string): string[] {
  const re = new RegExp(`"${tag}"\\s*=\\s*'((?:[^'\\\\]|\\\\.)*)'`, 'g');
  return [...q.matchAll(re)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}

/** The rows InfluxDB would return: series and rows whose tenant, alert id or DevEUI the statement does not name are dropped. */
function keepNamed(q: string, series: InfluxSeries[]): InfluxSeries[] {
  const filters = (['tenant', 'alert_id', 'dev_eui'] as const).map((tag) => [tag, conditionValues(q, tag)] as const).filter(([, v]) => v.length > 0);
  return series.flatMap((s) => {
    if (filters.some(([tag, v]) => s.tags?.[tag] !== undefined && !v.includes(s.tags[tag]))) return [];
    const values = s.values.filter((row) => filters.every(([tag, v]) => !s.columns.includes(tag) || v.includes(String(row[s.columns.indexOf(tag)]))));
    return values.length ? [{ ...s, values }] : [];
  });
}

export class FakeInflux {
  readonly sent: string[] = [];
  readonly written: string[] = [];
  private answers: [RegExp, Answer][] = [];

  /** Statements matching `pattern` get `answer` (the latest registration wins); others get no series. */
  on(pattern: RegExp, answer: Answer): this {
    this.answers.unshift([pattern, answer]);
    return this;
  }

  reset(): void {
    this.sent.length = 0;
    this.written.length = 0;
    this.answers = [];
  }

  query = (q: string): Promise<InfluxSeries[]> => {
    this.sent.push(q);
    const hit = this.answers.find(([re]) => re.test(q));
    if (!hit) return Promise.resolve([]);
    const series = typeof hit[1] === 'function' ? hit[1](q) : hit[1];
    return Promise.resolve(keepNamed(q, structuredClone(series)));
  };

  write = (body: Buffer | string): Promise<void> => {
    this.written.push(...body.toString().split('\n').filter(Boolean));
    return Promise.resolve();
  };

  /** The statements that read data (not SHOW …), for the tenant checks. */
  selects(): string[] {
    return this.sent.filter((q) => /^\s*SELECT/i.test(q));
  }
}

/** Every statement sent reads only `tenants`' data: it names each of them and no other. */
export function confinedTo(statements: string[], tenants: string[]): string[] {
  return statements.filter((q) => {
    const named = conditionValues(q, 'tenant');
    return named.length === 0 || named.some((t) => !tenants.includes(t)) || tenants.some((t) => !named.includes(t));
  });
}

/** An alert of the book as stored in `alert_event` (the columns alertEventLine writes, as InfluxDB returns them). */
export function alertEventSeries(events: AlertEvent[]): InfluxSeries {
  const columns = ['time', 'alert_id', 'category', 'details', 'dev_eui', 'device', 'event', 'message_en', 'message_fr', 'rule', 'rule_version', 'severity', 'site', 'started_at_ms', 'state', 'tenant', 'zone'];
  const values = events.map((e) => {
    const a = e.alert;
    const details = JSON.stringify({ title: a.title, subject: a.subject, window: a.window, thresholds: a.thresholds, measured: a.measured, source: a.source, action: a.action, acknowledged: a.acknowledged, resolved: a.resolved });
    return [e.at.getTime(), a.id, a.category, details, a.subject.devEui ?? '', a.subject.device ?? '', e.type, a.message.en, a.message.fr, a.ruleId, a.ruleVersion, a.severity, a.subject.site, a.startedAt.getTime(), a.state, a.subject.tenant, a.subject.zone ?? ''];
  });
  return { name: 'alert_event', columns, values };
}

/** W7 (water present) of a leak sensor, opened in `book` at `at`. */
export function leakAlert(book: AlertBook, subject: { tenant: string; site: string; devEui: string; device: string }, at: Date): AlertEvent {
  const f = leakSensorWet.evaluate({ subject, role: 'leak-sensor', at, values: { 'water.leak': true } });
  if (!f) throw new Error('W7 did not fire on a wet sensor');
  return book.apply(f)[0]!;
}

export interface ApiHarness {
  app: FastifyInstance;
  deps: ApiDeps;
  influx: FakeInflux;
  book: AlertBook;
  /** Alert events handed to the service (acknowledge, resolve). */
  recorded: AlertEvent[];
  /** Re-decoding requests the API made. */
  redecodes: RedecodeOptions[];
  /** Lines the audit trail appended. */
  auditLines: string[];
  routes: RouteEntry[];
  /** `METHOD /url-pattern status` of every answer since the last `clear()`. */
  hits: string[];
  clear(): void;
  call(method: 'GET' | 'POST', url: string, key?: KeyName, body?: InjectOptions['payload'], headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export async function apiHarness(over: Partial<ApiDeps> = {}): Promise<ApiHarness> {
  const influx = new FakeInflux();
  const book = new AlertBook();
  const recorded: AlertEvent[] = [];
  const redecodes: RedecodeOptions[] = [];
  const auditLines: string[] = [];
  const hits: string[] = [];
  const registry = townRegistry();
  const deps: ApiDeps = {
    keys: new KeyRing(KEY_ENTRIES.map((k) => ({ ...k, tenants: [...k.tenants] }))),
    influx,
    registry,
    defaultTenant: 'default',
    alerts: { book, record: (events) => {
      recorded.push(...events);
      return Promise.resolve(events);
    }, calendarFor: calendarLookup(registry.sites) },
    retention: { influx, influxConfig: { api: 'v1', url: 'http://127.0.0.1:1', db: 'veilleur', timeoutMs: 1000 }, settings: undefined },
    redecode: (opts) => {
      redecodes.push(opts);
      return Promise.resolve({ examined: 3, decoded: 2, stillUndecoded: 1, alreadyDone: 0, linesWritten: 7 });
    },
    audit: new AuditLog({ append: (lines) => (auditLines.push(...lines), true), influx, rp: undefined, log: pino({ level: 'silent' }) }),
    options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 100_000, authFailuresPer15Min: 100_000, corsOrigins: [] },
    ...over,
  };
  const app = Fastify();
  const routes = trackRoutes(app, { docsPublic: false });
  app.addHook('onResponse', async (req, reply) => {
    hits.push(`${req.method} ${req.routeOptions.url ?? '(no route)'} ${reply.statusCode}`);
  });
  await registerApi(app, deps);
  await app.ready();
  return {
    app,
    deps,
    influx,
    book,
    recorded,
    redecodes,
    auditLines,
    routes,
    hits,
    clear() {
      influx.reset();
      recorded.length = 0;
      redecodes.length = 0;
      auditLines.length = 0;
      hits.length = 0;
    },
    call(method, url, key, body, headers = {}) {
      return app.inject({
        method,
        url,
        headers: { ...(key ? { authorization: `Bearer ${KEYS[key].key}` } : {}), ...headers },
        ...(body !== undefined ? { payload: body } : {}),
      });
    },
  };
}
