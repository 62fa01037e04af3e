/**
 * Request parameters shared by the routes. Everything that ends up in an InfluxQL query is constrained here to
 * a closed alphabet or an enum (and is still escaped when the query is built): an injection attempt is a 400,
 * never query text.
 */
import { z } from 'zod';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ApiError } from './scope.ts';

export const tenantId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected a tenant id: letters, digits, _ . - (at most 63)');
export const siteId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected a site id: letters, digits, _ . - (at most 63)');
export const devEui = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'expected a DevEUI of 16 hexadecimal characters')
  .transform((s) => s.toLowerCase());
export const alertId = z.string().regex(/^[0-9a-f-]{36}$/, 'expected an alert id (UUID)');
export const channel = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'expected a channel: letters, digits, _ . - (at most 32)');

const quantityIds = Object.keys(QUANTITIES) as [keyof typeof QUANTITIES, ...(keyof typeof QUANTITIES)[]];
export const quantityId = z.enum(quantityIds, { error: 'expected a canonical quantity id (GET /api/v1/quantities lists them)' });

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);
/** An RFC 3339 instant with its offset, between 2000 and 2100. */
export const instant = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 date-time with offset, e.g. 2026-11-01T00:00:00+01:00' })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() >= MIN_TIME && d.getTime() < MAX_TIME, 'expected a date between 2000 and 2100');

export const lang = z.enum(['fr', 'en']).default('fr');

export const rangeQuery = { from: instant.optional(), to: instant.optional() };

/** The period asked for: `to` defaults to now, `from` to `defaultDays` before it; longer than `maxDays` is a 400. */
export function resolveRange(q: { from?: Date | undefined; to?: Date | undefined }, defaultDays: number, maxDays: number): { from: Date; to: Date } {
  const to = q.to ?? new Date();
  const from = q.from ?? new Date(to.getTime() - defaultDays * 86_400_000);
  if (to.getTime() <= from.getTime()) throw new ApiError(400, 'bad_request', 'querystring/to: expected a date-time after from');
  if (to.getTime() - from.getTime() > maxDays * 86_400_000) throw new ApiError(400, 'bad_request', `querystring/from: expected a period of at most ${maxDays} days`);
  return { from, to };
}
