/** Tenants, sites, devices, their last readings and their readings over time. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MEASUREMENTS, QUANTITIES, type QuantityId } from '../../../decoders/model/quantities.ts';
import { seriesRows } from '../../storage/influx.ts';
import { select } from '../../storage/influxql.ts';
import type { ApiDeps } from '../deps.ts';
import { listDevices, siteTimeZone } from '../inventory.ts';
import { channel, devEui, quantityId, rangeQuery, resolveRange, siteId, tenantId } from '../params.ts';
import { readSeries } from '../readings.ts';
import { mayRead, notFound, principalOf, requestedTenants, tenantConditions } from '../scope.ts';

const MAX_RAW_DAYS = 31;
const MAX_AGG_DAYS = 3 * 366;
const MAX_ROWS = 10_000;

export const devicesRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/whoami', { schema: { summary: 'The key in use: name, role and tenants', tags: ['access'] } }, async (req) => {
    const p = principalOf(req);
    return { keyId: p.keyId, name: p.name, role: p.role, tenants: p.tenants ? [...p.tenants] : ['*'] };
  });

  app.get('/quantities', { schema: { summary: 'Canonical quantities: measurement, field, unit, description', tags: ['devices'] } }, async () =>
    Object.entries(QUANTITIES).map(([id, q]) => ({ id, measurement: q.measurement, field: q.field, unit: q.unit, cumulative: q.cumulative === true, description: q.description })),
  );

  app.get('/tenants', { schema: { summary: 'Tenants (communes) this key covers', tags: ['devices'] } }, async (req) => {
    const p = principalOf(req);
    const known = new Set([deps.defaultTenant, ...deps.registry.tenants.map((t) => t.id), ...deps.registry.devices.flatMap((d) => (d.tenant ? [d.tenant] : []))]);
    for (const d of await listDevices(deps, requestedTenants(p, undefined))) known.add(d.tenant);
    return [...known].filter((t) => mayRead(p, t)).sort().map((id) => ({ id }));
  });

  app.get(
    '/sites',
    { schema: { summary: 'Sites with their time zone and device count', tags: ['devices'], querystring: z.strictObject({ tenant: tenantId.optional() }) } },
    async (req) => {
      const tenants = requestedTenants(principalOf(req), req.query.tenant);
      const bySite = new Map<string, { tenant: string; site: string; devices: number }>();
      for (const d of await listDevices(deps, tenants)) {
        const k = `${d.tenant}|${d.site}`;
        const s = bySite.get(k) ?? { tenant: d.tenant, site: d.site, devices: 0 };
        s.devices++;
        bySite.set(k, s);
      }
      for (const s of deps.registry.sites) {
        const tenant = s.tenant ?? deps.defaultTenant;
        if (tenants && !tenants.includes(tenant)) continue;
        if (!bySite.has(`${tenant}|${s.site}`)) bySite.set(`${tenant}|${s.site}`, { tenant, site: s.site, devices: 0 });
      }
      return [...bySite.values()].map((s) => ({ ...s, timeZone: siteTimeZone(deps.registry, s.tenant, s.site) }));
    },
  );

  app.get(
    '/devices',
    {
      schema: {
        summary: 'Devices: metadata, last seen, radio, status, open alerts',
        tags: ['devices'],
        querystring: z.strictObject({ tenant: tenantId.optional(), site: siteId.optional() }),
      },
    },
    async (req) => {
      const devices = await listDevices(deps, requestedTenants(principalOf(req), req.query.tenant));
      return req.query.site ? devices.filter((d) => d.site === req.query.site) : devices;
    },
  );

  app.get(
    '/devices/:devEui',
    {
      schema: {
        summary: 'One device with its last reading of each quantity, and the quantities it has readings of',
        description: `\`quantities\` lists the canonical quantity ids the device reported in the last ${QUANTITY_DAYS} days, each with its unit, its channels and the path of its readings: the values \`quantity=\` takes in /devices/{devEui}/readings.`,
        tags: ['devices'],
        params: z.strictObject({ devEui }),
      },
    },
    async (req) => {
      const tenants = requestedTenants(principalOf(req), undefined);
      const [device] = await listDevices(deps, tenants, { devEui: req.params.devEui });
      if (!device) throw notFound(`device ${req.params.devEui}`);
      const [last, quantities] = await Promise.all([lastReadings(deps, device.tenant, device.devEui), deviceQuantities(deps, device.tenant, device.devEui)]);
      return { ...device, quantities, lastReadings: last };
    },
  );

  app.get(
    '/devices/:devEui/readings',
    {
      schema: {
        summary: 'Readings of one quantity over a period: raw, hourly or daily (days in the site time zone)',
        description: `Raw readings span at most ${MAX_RAW_DAYS} days, aggregates ${MAX_AGG_DAYS}; at most ${MAX_ROWS} rows per series. Indexes (cumulative quantities) aggregate as consumption per period; other quantities as min/mean/max. An hour or a day is returned when it starts within [from, to): a period from 20:30 begins with the 21:00 hour. The quantities of a device are listed by GET /devices/{devEui}.`,
        tags: ['readings'],
        params: z.strictObject({ devEui }),
        querystring: z.strictObject({
          quantity: quantityId,
          channel: channel.optional(),
          aggregation: z.enum(['raw', 'hourly', 'daily']).default('hourly'),
          ...rangeQuery,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      const range = resolveRange(q, q.aggregation === 'raw' ? 1 : 7, q.aggregation === 'raw' ? MAX_RAW_DAYS : MAX_AGG_DAYS);
      const tenants = requestedTenants(principalOf(req), undefined);
      const [device] = await listDevices(deps, tenants, { devEui: req.params.devEui });
      if (!device) throw notFound(`device ${req.params.devEui}`);
      const timeZone = siteTimeZone(deps.registry, device.tenant, device.site);
      const series = await readSeries(deps, {
        tenants: [device.tenant],
        devEui: device.devEui,
        quantity: q.quantity,
        channel: q.channel,
        aggregation: q.aggregation,
        timeZone,
        limit: MAX_ROWS,
        ...range,
      });
      const spec = QUANTITIES[q.quantity];
      return {
        devEui: device.devEui,
        tenant: device.tenant,
        site: device.site,
        quantity: q.quantity,
        unit: spec.unit,
        cumulative: spec.cumulative === true,
        aggregation: q.aggregation,
        timeZone,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        points: series[0]?.points ?? [],
      };
    },
  );
};

const QUANTITY_DAYS = 90;

/**
 * The quantities a device has readings of in the last QUANTITY_DAYS days, with their channels: every field counted
 * (not only those of its latest point, which may come from another kind of uplink).
 */
export async function deviceQuantities(deps: ApiDeps, tenant: string, dev: string) {
  const since = Date.now() - QUANTITY_DAYS * 86_400_000;
  const channels = new Map<QuantityId, Set<string>>();
  await Promise.all(
    MEASUREMENTS.map(async (m) => {
      const series = await deps.influx.query(
        select({ select: [{ fn: 'count', field: '*' }], from: m, where: [{ time: '>=', at: since }, { tag: 'dev_eui', equals: dev }, ...tenantConditions([tenant])], groupBy: ['channel'] }),
      );
      for (const { tags, rows } of seriesRows(series)) {
        const row = rows[0];
        if (!row) continue;
        for (const [id, spec] of Object.entries(QUANTITIES) as [QuantityId, (typeof QUANTITIES)[QuantityId]][]) {
          if (spec.measurement !== m || !(Number(row[`count_${spec.field}`]) > 0)) continue;
          channels.set(id, (channels.get(id) ?? new Set()).add(tags.channel ?? ''));
        }
      }
    }),
  );
  return [...channels]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, ch]) => ({
      quantity: id,
      unit: QUANTITIES[id].unit,
      cumulative: QUANTITIES[id].cumulative === true,
      channels: [...ch].sort(),
      readings: `/api/v1/devices/${dev}/readings?quantity=${encodeURIComponent(id)}`,
    }));
}

/** The latest value of every quantity of a device (each measurement's most recent point, per channel). */
export async function lastReadings(deps: ApiDeps, tenant: string, dev: string) {
  const since = Date.now() - 90 * 86_400_000;
  const out: { quantity: string; value: number | boolean; unit: string; channel: string; time: string }[] = [];
  await Promise.all(
    MEASUREMENTS.map(async (m) => {
      const series = await deps.influx.query(
        select({ select: '*', from: m, where: [{ time: '>=', at: since }, { tag: 'dev_eui', equals: dev }, ...tenantConditions([tenant])], groupBy: ['channel'], order: 'desc', limit: 1 }),
      );
      for (const { tags, rows } of seriesRows(series)) {
        const row = rows[0];
        if (!row) continue;
        for (const [id, spec] of Object.entries(QUANTITIES) as [QuantityId, (typeof QUANTITIES)[QuantityId]][]) {
          if (spec.measurement !== m) continue;
          const v = row[spec.field];
          if (typeof v !== 'number' && typeof v !== 'boolean') continue;
          out.push({ quantity: id, value: v, unit: spec.unit, channel: tags.channel ?? '', time: new Date(Number(row.time)).toISOString() });
        }
      }
    }),
  );
  return out.sort((a, b) => a.quantity.localeCompare(b.quantity) || a.channel.localeCompare(b.channel));
}
