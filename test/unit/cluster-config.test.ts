/** The `cluster:` section (services/cluster/config.ts): defaults, specific errors, the replica id. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterSchema } from '../../services/cluster/config.ts';
import { replicaIdOf } from '../../services/cluster/node.ts';
import { loadFile } from '../../services/config/load.ts';

const file = (yaml: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'veilleur-cluster-cfg-')), 'veilleur.yaml');
  writeFileSync(f, yaml);
  return f;
};

describe('cluster configuration', () => {
  it('is absent by default: one process, as before', () => {
    expect(loadFile(file('devices: []\n')).cluster).toBeUndefined();
  });

  it('takes the NATS servers and fills in the defaults', () => {
    const c = loadFile(file('cluster:\n  nats:\n    servers: [nats://nats-1:4222, nats://nats-2:4222]\n')).cluster!;
    expect(c.nats.servers).toEqual(['nats://nats-1:4222', 'nats://nats-2:4222']);
    expect(c).toMatchObject({ partitions: 16, stream: 'VEILLEUR_UP', subjects: 'veilleur.up', streamReplicas: 1, duplicateWindowSeconds: 120, leaseTtlSeconds: 5, relay: 'leader' });
  });

  it('names the path and what was expected when a value is wrong', () => {
    expect(() => loadFile(file('cluster:\n  nats:\n    servers: [http://nats-1:4222]\n'))).toThrow(/path cluster\.nats\.servers\[0\]: expected a NATS URL such as 'nats:\/\/nats-1:4222'/);
    expect(() => loadFile(file('cluster:\n  nats:\n    servers: []\n'))).toThrow(/path cluster\.nats\.servers: expected at least one NATS server/);
    expect(() => loadFile(file('cluster:\n  nats: { servers: [nats://n:4222] }\n  partitions: 0\n'))).toThrow(/path cluster\.partitions/);
    expect(() => loadFile(file('cluster:\n  nats: { servers: [nats://n:4222] }\n  relay: everyone\n'))).toThrow(/path cluster\.relay/);
    expect(() => loadFile(file('cluster:\n  nats: { servers: [nats://n:4222], password: secret }\n'))).toThrow(/path cluster\.nats/);
  });

  it('takes the replica id from the file, else VEILLEUR_REPLICA_ID, else the host name (made safe for a lease key)', () => {
    const base = clusterSchema.parse({ nats: { servers: ['nats://n:4222'] } });
    expect(replicaIdOf({ ...base, replicaId: 'veilleur-a' }, { VEILLEUR_REPLICA_ID: 'other' })).toBe('veilleur-a');
    expect(replicaIdOf(base, { VEILLEUR_REPLICA_ID: 'veilleur-b' })).toBe('veilleur-b');
    expect(replicaIdOf(base, { VEILLEUR_REPLICA_ID: 'host.example.org' })).toBe('host-example-org');
    expect(replicaIdOf(base, {})).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
