import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { LeaseKeeper, openLeaseBucket } from '../../services/cluster/lease.ts';
import { JobsLeader, openCheckpointBucket, periodicJob, selfScheduledJob, SlotCheckpoint } from '../../services/cluster/jobs.ts';
import { privateNats } from './cluster-support.ts';
import { waitFor } from './support.ts';

// The jobs leader of three replicas (in this process, each with its own NATS connection) on a real nats-server:
// one leader at a time, its successor within the lease TTL when it dies, and every slot's round run at most once
// across the replicas, none left out except while nobody leads.
const log = pino({ level: 'silent' });
const TTL = 2000;
const SLOT = 500;

const nats = privateNats('veilleur-jobs-');

beforeAll(async () => {
  await nats.start();
});

afterAll(async () => {
  await nats.stop();
});

interface Replica {
  id: string;
  nc: NatsConnection;
  leader: JobsLeader;
  terms: number;
}

async function replica(id: string, bucket: string, runs: { replica: string; slot: number }[], selfTerms: string[]): Promise<Replica> {
  const nc = await nats.connect();
  const leases = new LeaseKeeper(await openLeaseBucket(nc, `${bucket}_leases`, TTL), id, TTL, log);
  const checkpoint = new SlotCheckpoint(await openCheckpointBucket(nc, `${bucket}_checkpoints`), 'windowed');
  const r: Replica = { id, nc, terms: 0, leader: undefined as unknown as JobsLeader };
  r.leader = new JobsLeader({
    leases,
    log,
    retryMs: 200,
    onElected: async () => {
      r.terms++;
    },
    jobs: [
      periodicJob({
        name: 'windowed',
        everyMs: SLOT,
        delayMs: 50,
        checkpoint,
        log,
        run: async (at) => {
          runs.push({ replica: id, slot: at.getTime() / SLOT });
          await new Promise((res) => setTimeout(res, 20));
        },
      }),
      selfScheduledJob('rollups', () => ({ start: () => selfTerms.push(id), stop: async () => undefined })),
    ],
  });
  r.leader.start();
  return r;
}

const leaders = (rs: Replica[]) => rs.filter((r) => r.leader.holds());

describe('jobs leader across three replicas (real nats-server)', () => {
  it('runs each slot once, on one leader at a time; a dead leader is replaced within the TTL; a stopped one at once', async () => {
    const runs: { replica: string; slot: number }[] = [];
    const selfTerms: string[] = [];
    const rs = [await replica('r1', 'jobs_a', runs, selfTerms), await replica('r2', 'jobs_a', runs, selfTerms), await replica('r3', 'jobs_a', runs, selfTerms)];
    await waitFor(async () => leaders(rs).length === 1 && runs.length >= 4, 10_000, 'a leader running rounds');
    expect(leaders(rs)).toHaveLength(1);

    // The leader dies (its connection cut: no renewal, no release).
    const first = leaders(rs)[0]!;
    const killedAt = Date.now();
    await first.nc.close();
    const others = rs.filter((r) => r !== first);
    await waitFor(async () => leaders(others).length === 1, 3 * TTL, 'a new leader');
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(TTL + 2000);
    const second = leaders(others)[0]!;
    expect(second).not.toBe(first);
    const runsBefore = runs.length;
    await waitFor(async () => runs.length >= runsBefore + 4, 10_000, 'rounds on the new leader');

    // The new leader stops (SIGTERM): it releases the lease, the third one leads within a retry, not a TTL.
    const stoppedAt = Date.now();
    await second.leader.stop();
    const third = others.find((r) => r !== second)!;
    await waitFor(async () => third.leader.holds(), 3 * TTL, 'the third leader');
    expect(Date.now() - stoppedAt).toBeLessThan(TTL);
    const runsThird = runs.length;
    await waitFor(async () => runs.length >= runsThird + 4, 10_000, 'rounds on the third leader');
    await third.leader.stop();

    // Every slot at most once across the replicas; consecutive, except the slots of the dead leader's failover.
    const slots = runs.map((r) => r.slot);
    expect(new Set(slots).size).toBe(slots.length);
    expect([...slots].sort((a, b) => a - b)).toEqual(slots);
    const gaps = slots.slice(1).map((s, i) => s - slots[i]! - 1).filter((g) => g > 0);
    expect(gaps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(Math.ceil((takeover + 1000) / SLOT));
    expect(new Set(runs.map((r) => r.replica))).toEqual(new Set([first.id, second.id, third.id]));
    // One term per leader, the self-scheduled job started once per term.
    expect(rs.map((r) => r.terms)).toEqual([1, 1, 1]);
    expect(selfTerms.sort()).toEqual(['r1', 'r2', 'r3']);
  }, 60_000);

  it('a slot checkpoint is claimed by one of two contenders only', async () => {
    const nc = await nats.connect();
    const kv = await openCheckpointBucket(nc, 'jobs_b_checkpoints');
    const a = new SlotCheckpoint(kv, 'rollups');
    const b = new SlotCheckpoint(kv, 'rollups');
    const seen = await a.read();
    expect(seen).toEqual({ slot: undefined, revision: 0 });
    const claims = await Promise.all([a.claim(7, seen.revision), b.claim(7, seen.revision)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const after = await b.read();
    expect(after.slot).toBe(7);
    expect(await b.claim(8, after.revision)).toBe(true);
    expect(await a.claim(8, after.revision)).toBe(false);
    expect(() => new SlotCheckpoint(kv, 'roll.ups')).toThrow(/may contain only letters/);
  });
});
