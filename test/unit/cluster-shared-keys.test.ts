import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyStoreState, mergeStoreStates, type StoreState } from '../../services/api/key-store.ts';
import { generateKey } from '../../services/api/keys.ts';
import { keysCommand } from '../../services/cli/keys.ts';
import { latest } from '../../services/cluster/shared-keys.ts';

// The pure parts of the shared key store (issue 17): how a replica's own file joins the cluster's state, and how
// last-use times from several replicas combine. The NATS side: test/integration/cluster-shared-state.test.ts.

const stored = (id: string, extra: Partial<StoreState['keys'][number]> = {}): StoreState['keys'][number] => ({
  id,
  name: `clé ${id}`,
  role: 'viewer',
  tenants: ['*'],
  hash: generateKey(id).hash,
  created: '2026-11-01T00:00:00.000Z',
  createdBy: 'test',
  ...extra,
});
const decision = (at: string) => ({ at, by: 'admin' });

describe('mergeStoreStates', () => {
  it('adds the keys only the local file holds, and changes nothing when it holds nothing new', () => {
    const shared: StoreState = { ...emptyStoreState(), keys: [stored('sharedkey1')] };
    const local: StoreState = { ...emptyStoreState(), keys: [shared.keys[0]!, stored('localkey01')] };
    const m = mergeStoreStates(shared, local);
    expect(m).toMatchObject({ changed: true, added: ['localkey01'], clashes: [] });
    expect(m.state.keys.map((k) => k.id)).toEqual(['sharedkey1', 'localkey01']);
    expect(shared.keys).toHaveLength(1);
    expect(mergeStoreStates(m.state, local).changed).toBe(false);
    expect(mergeStoreStates(shared, emptyStoreState()).changed).toBe(false);
  });

  it('takes revocations and earlier expiries from the local file, never undoes the shared ones', () => {
    const k = stored('bothkey001');
    const shared: StoreState = { ...emptyStoreState(), keys: [{ ...k, expires: '2027-01-01T00:00:00.000Z' }], config: { cfgkey0001: { revoked: decision('2026-11-02T00:00:00.000Z') } } };
    const local: StoreState = { ...emptyStoreState(), keys: [{ ...k, expires: '2026-12-24T00:00:00.000Z', revoked: decision('2026-11-03T00:00:00.000Z') }], config: { cfgkey0002: { expires: '2026-12-31T00:00:00.000Z' } } };
    const m = mergeStoreStates(shared, local);
    expect(m.changed).toBe(true);
    expect(m.state.keys[0]).toMatchObject({ expires: '2026-12-24T00:00:00.000Z', revoked: decision('2026-11-03T00:00:00.000Z') });
    expect(m.state.config).toEqual({ cfgkey0001: { revoked: decision('2026-11-02T00:00:00.000Z') }, cfgkey0002: { expires: '2026-12-31T00:00:00.000Z' } });
    // The other way round: the shared decisions stay (a later expiry or no revocation locally loosens nothing).
    const back = mergeStoreStates(m.state, { ...emptyStoreState(), keys: [{ ...k, expires: '2028-01-01T00:00:00.000Z' }], config: { cfgkey0001: {} } });
    expect(back.changed).toBe(false);
    expect(back.state.keys[0]!.revoked).toBeDefined();
    expect(back.state.config.cfgkey0001!.revoked).toBeDefined();
  });

  it('keeps the shared key when the same id has another secret locally, and says so', () => {
    const shared: StoreState = { ...emptyStoreState(), keys: [stored('sameid0001')] };
    const local: StoreState = { ...emptyStoreState(), keys: [stored('sameid0001', { revoked: decision('2026-11-05T00:00:00.000Z') })] };
    const m = mergeStoreStates(shared, local);
    expect(m).toMatchObject({ changed: false, added: [], clashes: ['sameid0001'] });
    expect(m.state.keys[0]!.hash).toBe(shared.keys[0]!.hash);
    expect(m.state.keys[0]!.revoked).toBeUndefined();
  });
});

describe('latest (last-use times of several replicas)', () => {
  it('keeps, per key, the later time', () => {
    expect(latest({ a: '2026-12-01T10:00:00.000Z', b: '2026-12-01T12:00:00.000Z' }, { a: '2026-12-01T11:00:00.000Z', b: '2026-12-01T09:00:00.000Z', c: '2026-12-01T08:00:00.000Z' })).toEqual({
      a: '2026-12-01T11:00:00.000Z',
      b: '2026-12-01T12:00:00.000Z',
      c: '2026-12-01T08:00:00.000Z',
    });
  });
});

describe('veilleur keys with a cluster: section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'veilleur-keys-cluster-'));
  const config = join(dir, 'veilleur.yaml');
  writeFileSync(config, 'cluster:\n  nats:\n    servers: [nats://127.0.0.1:4222]\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to change the local file, names the API instead, and writes nothing', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const args of [['create', '--name', 'x', '--role', 'viewer', '--tenant', '*'], ['revoke', 'abcdefgh12'], ['rotate', 'abcdefgh12'], ['list']]) {
        err.mockClear();
        expect(await keysCommand(args, { VEILLEUR_CONFIG: config, DATA_DIR: dir })).toBe(2);
        const said = err.mock.calls.map((c) => String(c[0])).join('');
        expect(said).toContain('cluster: section');
        expect(said).toContain('POST /api/v1/keys');
      }
      expect(out).not.toHaveBeenCalled();
      expect(existsSync(join(dir, 'api-keys.json'))).toBe(false);
      // The configuration entry needs no store: it still works.
      expect(await keysCommand(['create', '--print', '--name', 'Grafana', '--role', 'viewer', '--tenant', '*'], { VEILLEUR_CONFIG: config, DATA_DIR: dir })).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(/hash: sha256:[0-9a-f]{64}/);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });
});
