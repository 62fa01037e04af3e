import { describe, expect, it } from 'vitest';
import { generateKey, hashOfKey, hasRole, KeyRing } from '../../services/api/keys.ts';
import { localTime } from '../../services/time/calendar.ts';
import { csvCell, toCsv } from '../../services/csv.ts';
import { ApiError, requestedTenants, tenantConditions } from '../../services/api/scope.ts';
import { where } from '../../services/storage/influxql.ts';

describe('API keys', () => {
  const made = generateKey('mairie01');
  const ring = new KeyRing([
    { id: made.id, name: 'mairie', role: 'operator', tenants: ['saint-veilleur'], hash: made.hash },
    { id: 'expired01', name: 'old', role: 'admin', tenants: ['*'], hash: hashOfKey(`vk_expired01_${'a'.repeat(43)}`).hash, expires: '2020-01-01T00:00:00Z' },
  ]);

  it('authenticates the key it made, and stores only a hash of it', () => {
    expect(made.key).toMatch(/^vk_mairie01_[A-Za-z0-9_-]{43}$/);
    expect(made.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(made.hash).not.toContain(made.key.slice(12));
    expect(hashOfKey(made.key)).toEqual({ id: 'mairie01', hash: made.hash });
    const p = ring.authenticate(made.key)!;
    expect(p).toMatchObject({ keyId: 'mairie01', role: 'operator' });
    expect([...p.tenants!]).toEqual(['saint-veilleur']);
  });

  it('refuses a wrong secret, an unknown id, a malformed key and an expired key', () => {
    expect(ring.authenticate(`vk_mairie01_${'b'.repeat(43)}`)).toBeUndefined();
    expect(ring.authenticate(made.key.replace('mairie01', 'mairie02'))).toBeUndefined();
    expect(ring.authenticate(made.key.slice(0, -1))).toBeUndefined();
    expect(ring.authenticate('')).toBeUndefined();
    expect(ring.authenticate(`vk_expired01_${'a'.repeat(43)}`)).toBeUndefined();
    expect(ring.authenticate(`vk_expired01_${'a'.repeat(43)}`, new Date('2019-12-31T00:00:00Z'))).toMatchObject({ keyId: 'expired01', tenants: undefined });
  });

  it('orders roles viewer < operator < admin', () => {
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'operator')).toBe(true);
    expect(hasRole('viewer', 'operator')).toBe(false);
    expect(hasRole('operator', 'admin')).toBe(false);
  });
});

describe('tenant scope', () => {
  const scoped = { keyId: 'k', name: 'k', role: 'viewer' as const, tenants: new Set(['a', 'b']) };
  const wide = { ...scoped, tenants: undefined };

  it('confines a query to the tenants of the key, escaped', () => {
    const clause = (tenants: string[] | undefined) => where(tenantConditions(tenants));
    expect(clause(requestedTenants(scoped, undefined))).toBe(`("tenant" = 'a' OR "tenant" = 'b')`);
    expect(clause(requestedTenants(scoped, 'b'))).toBe(`("tenant" = 'b')`);
    expect(clause(requestedTenants(wide, undefined))).toBe('');
    expect(clause(["x' OR '1'='1"])).toBe(`("tenant" = 'x\\' OR \\'1\\'=\\'1')`);
  });

  it('refuses a tenant the key does not cover with a 403', () => {
    expect(() => requestedTenants(scoped, 'c')).toThrow(ApiError);
    try {
      requestedTenants(scoped, 'c');
    } catch (err) {
      expect((err as ApiError).statusCode).toBe(403);
    }
  });
});

describe('CSV', () => {
  it('quotes, doubles quotes, and defuses spreadsheet formulas in text cells only', () => {
    const csv = toCsv(['a', 'b', 'c'], [{ a: 'x,y', b: 'say "hi"', c: -3.5 }, { a: '=HYPERLINK("http://evil")', b: '@SUM(1)', c: null }]);
    expect(csv).toBe('a,b,c\r\n"x,y","say ""hi""",-3.5\r\n"\'=HYPERLINK(""http://evil"")",\'@SUM(1),\r\n');
  });

  it('defuses formulas after leading blanks, in full-width forms and behind a tab or carriage return', () => {
    for (const v of ['  =1+1', '\u00a0@cmd', '＝HYPERLINK("x")', '＋1', '\tx', '\rx', '-2+3']) expect(csvCell(v).replace(/^"/, '')).toMatch(/^'/);
    for (const v of ['mairie', 'a=b', 'x-1', '']) expect(csvCell(v)).toBe(v);
    expect(csvCell(-3.5)).toBe('-3.5');
  });

  it('gives the local date of an instant', () => {
    expect(localTime(new Date('2026-10-24T22:30:00Z'), 'Europe/Paris').date).toBe('2026-10-25');
    expect(localTime(new Date('2026-10-25T22:30:00Z'), 'Europe/Paris').date).toBe('2026-10-25');
  });
});
