import { describe, expect, it } from 'vitest';
import type { Principal } from '../../services/api/keys.ts';
import type { DeviceView } from '../../services/api/inventory.ts';
import type { ParsimonyDevice } from '../../services/reports/parsimony.ts';
import { batteryRows, batteryState, communesOf, countsByReason, flaggedDevices, pageSlice, pickCommune, silentDevices } from '../../services/console/pages/fleet.ts';

const series = (tags: Record<string, string>, time: number, v: unknown) => ({ name: 'x', tags, columns: ['time', 'v'], values: [[time, v]] });

describe('Parc: batteries', () => {
  it('judges the level first, the voltage only without a level, like the S2 alert', () => {
    expect(batteryState(9.5, 3.6)).toBe('low');
    expect(batteryState(10, 2.0)).toBe('watch'); // the level wins over a low voltage
    expect(batteryState(25, null)).toBe('ok');
    expect(batteryState(null, 2.85)).toBe('low');
    expect(batteryState(null, 3.05)).toBe('watch');
    expect(batteryState(null, 3.6)).toBe('ok');
    expect(batteryState(null, null)).toBe('ok');
  });

  it('merges the three grouped queries per device, weakest first, the network server level only as a fallback', () => {
    const levels = [series({ dev_eui: 'a', device: 'capteur-a', site: 's' }, 1000, 40), series({ dev_eui: 'b', device: 'capteur-b', site: 's' }, 1000, 8)];
    const volts = [series({ dev_eui: 'a', device: 'capteur-a', site: 's' }, 2000, 3.5), series({ dev_eui: 'c', device: 'capteur-c', site: 's' }, 1500, 2.8)];
    const status = [series({ dev_eui: 'a', device: 'capteur-a', site: 's' }, 3000, 1), series({ dev_eui: 'd', device: 'capteur-d', site: 't' }, 500, 20)];
    const rows = batteryRows(levels, volts, status);
    expect(rows.map((r) => [r.devEui, r.pct, r.v, r.state])).toEqual([
      ['b', 8, null, 'low'],
      ['d', 20, null, 'watch'],
      ['a', 40, 3.5, 'ok'],
      ['c', null, 2.8, 'low'],
    ]);
    expect(rows.find((r) => r.devEui === 'a')!.at).toBe(3000);
  });
});

describe('Parc: lists', () => {
  const dev = (devEui: string, status: DeviceView['status'], lastSeen: string | null): DeviceView => ({
    devEui,
    tenant: 't',
    site: 's',
    name: devEui,
    registered: true,
    lastSeen,
    rssiDbm: null,
    snrDb: null,
    spreadingFactor: null,
    status,
    openAlerts: 0,
  });

  it('lists never-heard devices, then the longest silences', () => {
    const out = silentDevices([dev('ok', 'ok', '2026-12-01T00:00:00Z'), dev('late', 'silent', '2026-12-03T00:00:00Z'), dev('older', 'silent', '2026-11-20T00:00:00Z'), dev('never', 'never-seen', null)]);
    expect(out.map((d) => d.devEui)).toEqual(['never', 'older', 'late']);
  });

  it('puts devices over the airtime budget first, then over-reporting, under-reporting, unknown roles', () => {
    const p = (devEui: string, flags: ParsimonyDevice['flags'], airtime: number) => ({ devEui, flags, airtimeSPerDay: airtime }) as ParsimonyDevice;
    const out = flaggedDevices([p('fine', [], 99), p('under', ['under-reporting'], 1), p('over', ['over-reporting'], 2), p('budget', ['over-reporting', 'airtime-over-budget'], 40), p('role', ['unknown-role'], 5)]);
    expect(out.map((d) => d.devEui)).toEqual(['budget', 'over', 'under', 'role']);
  });

  it('keeps the page asked for within the pages there are', () => {
    const items = Array.from({ length: 45 }, (_, i) => i);
    expect(pageSlice(items, 1)).toMatchObject({ page: 1, pages: 3, items: items.slice(0, 20) });
    expect(pageSlice(items, 3).items).toEqual([40, 41, 42, 43, 44]);
    expect(pageSlice(items, 99).page).toBe(3);
    expect(pageSlice([], 2)).toEqual({ items: [], page: 1, pages: 1 });
  });

  it('counts messages by reason, most frequent first, leaving out empty reasons', () => {
    const s = (reason: string, n: number, done: number) => ({ name: 'uplink_undecoded', tags: { reason }, columns: ['time', 'n', 'done'], values: [[0, n, done]] });
    expect(countsByReason([s('decoder_error', 3, 1), s('no_decoder', 12, 0), s('x', 0, 0)])).toEqual([
      { reason: 'no_decoder', n: 12, done: 0 },
      { reason: 'decoder_error', n: 3, done: 1 },
    ]);
  });
});

describe('Parc: communes', () => {
  const registry = { tenants: [{ id: 'b' }, { id: 'a' }], devices: [{ tenant: 'c' }, {}] };
  const principal = (tenants: string[] | undefined): Principal => ({ keyId: 'k', name: 'n', role: 'viewer', tenants: tenants ? new Set(tenants) : undefined });

  it('offers a key its own communes, and an instance-wide key every commune the configuration names', () => {
    expect(communesOf(['z', 'a'], registry, 'default')).toEqual(['a', 'z']);
    expect(communesOf(undefined, registry, 'default')).toEqual(['a', 'b', 'c']);
    expect(communesOf(undefined, { tenants: [], devices: [] }, 'default')).toEqual(['default']);
  });

  it('answers another commune as not found, and defaults to the first commune', () => {
    expect(pickCommune({ principal: principal(['a']) }, ['a'], undefined)).toBe('a');
    expect(pickCommune({ principal: principal(undefined) }, ['a', 'b'], 'b')).toBe('b');
    expect(() => pickCommune({ principal: principal(['a']) }, ['a'], 'b')).toThrow(expect.objectContaining({ statusCode: 404 }));
  });
});
