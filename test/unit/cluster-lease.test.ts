import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { LeaseKeeper, openLeaseBucket } from '../../services/cluster/lease.js';
import { privateNats } from '../integration/cluster-support.js';
import { waitFor } from '../integration/support.js';

// The lease primitive against a real nats-server (JetStream, file storage): the server's max age is what expires a
// lease, so a mock would test nothing.
const log = pino({ level: 'silent' });
const TTL = 2000;

const nats = privateNats('veilleur-lease-');

beforeAll(async () => {
  await nats.start();
});

afterAll(async () => {
  await nats.stop();
});

async function open(bucket: string, ttl = TTL) {
  const nc = await nats.connect();
  return { nc, kv: await openLeaseBucket(nc, bucket, ttl) };
}

describe('LeaseKeeper on a real nats-server', () => {
  it('gives a key to one holder only; the other gets it once it is released', async () => {
    const a = new LeaseKeeper((await open('lease_one')).kv, 'replica-a', TTL, log);
    const b = new LeaseKeeper((await open('lease_one')).kv, 'replica-b', TTL, log);
    const results = await Promise.all([a.acquire('jobs'), b.acquire('jobs')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [winner, loser] = results[0] ? [a, b] : [b, a];
    expect(winner.holds('jobs')).toBe(true);
    expect(loser.holds('jobs')).toBe(false);
    expect((await loser.holderOf('jobs'))?.holder).toBe(winner.holderId);

    await winner.release('jobs');
    expect(winner.holds('jobs')).toBe(false);
    expect(await loser.acquire('jobs')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a lease by renewing it well past its TTL', async () => {
    const a = new LeaseKeeper((await open('lease_renew')).kv, 'replica-a', TTL, log);
    const b = new LeaseKeeper((await open('lease_renew')).kv, 'replica-b', TTL, log);
    const lost: string[] = [];
    a.on('lost', (k) => lost.push(k));
    expect(await a.acquire('partition.3')).toBe(true);
    const until = Date.now() + 2.5 * TTL;
    // B keeps trying during 2.5 TTLs: a renewed lease never becomes free.
    while (Date.now() < until) {
      expect(await b.acquire('partition.3')).toBe(false);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(a.holds('partition.3')).toBe(true);
    expect(lost).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('frees the lease of a holder that stopped renewing (a killed replica) within the TTL, and the holder knows first', async () => {
    const { nc, kv } = await open('lease_dead');
    const a = new LeaseKeeper(kv, 'replica-a', TTL, log);
    const b = new LeaseKeeper((await open('lease_dead')).kv, 'replica-b', TTL, log);
    expect(await a.acquire('jobs')).toBe(true);
    const lostAt: number[] = [];
    a.on('lost', () => lostAt.push(Date.now()));
    const cut = Date.now();
    await nc.close(); // A can no longer renew, as if it were killed or cut off
    await waitFor(() => b.acquire('jobs'), 4 * TTL, 'the dead holder\'s lease to be free');
    const takenAt = Date.now();
    // The server may expire a little after the TTL (its expiry timer), never before A's own deadline.
    expect(takenAt - cut).toBeLessThan(TTL + 3000);
    expect(lostAt).toHaveLength(1);
    expect(lostAt[0]).toBeLessThanOrEqual(takenAt);
    expect(a.holds('jobs')).toBe(false);
    await b.close();
  });

  it('tells a holder that was overtaken (lost event) at its next renewal', async () => {
    const { kv } = await open('lease_steal');
    const a = new LeaseKeeper(kv, 'replica-a', TTL, log);
    expect(await a.acquire('jobs')).toBe(true);
    const reasons: string[] = [];
    a.on('lost', (_k, why) => reasons.push(why));
    // Someone writes the key behind A's back (an operator with `nats kv put`): A's compare-and-set fails.
    await kv.put('jobs', JSON.stringify({ holder: 'replica-z', instance: 'x', at: '' }));
    await waitFor(async () => reasons.length > 0, 2 * TTL, 'the lost event');
    expect(reasons[0]).toMatch(/taken over/);
    expect(a.holds('jobs')).toBe(false);
    await a.close();
  });

  it('gives a restarted replica (same id, new process) its own lease back without waiting for the TTL', async () => {
    const { nc, kv } = await open('lease_restart');
    const before = new LeaseKeeper(kv, 'replica-a', TTL, log);
    expect(await before.acquire('partition.0')).toBe(true);
    await nc.close();
    const after = new LeaseKeeper((await open('lease_restart')).kv, 'replica-a', TTL, log);
    const other = new LeaseKeeper((await open('lease_restart')).kv, 'replica-b', TTL, log);
    expect(await other.acquire('partition.0')).toBe(false);
    expect(await after.acquire('partition.0')).toBe(true);
    expect((await other.holderOf('partition.0'))?.instance).toBe(after.instance);
    await Promise.all([after.close(), other.close()]);
  });

  it('lists the live keys under a prefix and drops the released ones', async () => {
    const a = new LeaseKeeper((await open('lease_members')).kv, 'replica-a', TTL, log);
    const b = new LeaseKeeper((await open('lease_members')).kv, 'replica-b', TTL, log);
    expect(await a.acquire('member.replica-a')).toBe(true);
    expect(await b.acquire('member.replica-b')).toBe(true);
    expect(await a.acquire('jobs')).toBe(true);
    const members = await a.list('member.');
    expect([...members.keys()].sort()).toEqual(['member.replica-a', 'member.replica-b']);
    expect(members.get('member.replica-b')?.holder).toBe('replica-b');
    await b.close();
    expect([...(await a.list('member.')).keys()]).toEqual(['member.replica-a']);
    await a.close();
  });

  it('keeps a lease through a quick restart of nats-server (file storage), and nobody else gets it meanwhile', async () => {
    const ttl = 6000;
    const open6 = async () => {
      const nc = await nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      return openLeaseBucket(nc, 'lease_restart_server', ttl);
    };
    const a = new LeaseKeeper(await open6(), 'replica-a', ttl, log);
    const b = new LeaseKeeper(await open6(), 'replica-b', ttl, log);
    const lost: string[] = [];
    a.on('lost', (k) => lost.push(k));
    expect(await a.acquire('jobs')).toBe(true);
    await nats.server.stop();
    await nats.server.start();
    // Renewals resume on the reconnected connection; the key, on disk, was not expired by the restart.
    await waitFor(async () => (await b.holderOf('jobs').catch(() => null))?.holder === 'replica-a', 10_000, 'the lease read back after the restart');
    const until = Date.now() + ttl;
    while (Date.now() < until) {
      expect(await b.acquire('jobs').catch(() => false)).toBe(false);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(lost).toEqual([]);
    expect(a.holds('jobs')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a bucket made with another TTL and a replica id that is not a key token, with a clear message', async () => {
    const { nc } = await open('lease_ttl');
    await expect(openLeaseBucket(nc, 'lease_ttl', 5000)).rejects.toThrow(/TTL of 2000 ms, not 5000 ms/);
    const { kv } = await open('lease_ttl');
    expect(() => new LeaseKeeper(kv, 'replica a.b', TTL, log)).toThrow(/may contain only letters/);
  });
});
