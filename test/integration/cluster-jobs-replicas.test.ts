/**
 * Issue 17, acceptance (engineer B): the singleton jobs of three replicas of the real service (child processes) on
 * a real nats-server and InfluxDB. The windowed rules run every minute and the rollups catch up on a day of the
 * town's history, a few hours per round; the jobs leader is stopped (SIGTERM) in the middle of the catch-up, and
 * its successor killed (SIGKILL) after a windowed round. Counted from the replicas' own trail (one log line per
 * windowed slot and per rollup step): each windowed slot ran exactly once across the replicas, with no slot left
 * out, and each hourly rollup period was computed exactly once; the rollup checkpoint reached the last hour.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionSchema } from '../../services/retention/config.ts';
import { readCheckpoint } from '../../services/rollups/rollup.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { partitionsOwned, Replica, startClusterStack, writeClusterConfig, type ClusterStack } from './cluster-support.ts';
import { countPoints, waitFor } from './support.ts';

const HOUR = 3_600_000;
let stack: ClusterStack;
let replicas: Replica[] = [];

beforeAll(async () => {
  stack = await startClusterStack();
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await stack?.close();
});

/** The pino lines of a replica's log (every run of it: the file is appended to). */
function logLines(r: Replica): Record<string, unknown>[] {
  return readFileSync(join(r.dir, 'service.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** On a failure: what the replicas said about leases, jobs and rounds, and their warnings. */
function diagnose(): void {
  for (const r of replicas) {
    const lines = logLines(r).filter((l) => !/^(lease acquired|lease released|partitions taken)$/.test(String(l.msg)) || !String(l.lease ?? '').startsWith('partition.'));
    console.log(`[cluster-jobs] ${r.id}:\n${lines.filter((l) => !String(l.lease ?? '').startsWith('partition.')).slice(-60).map((l) => `  ${new Date(Number(l.time)).toISOString().slice(11, 23)} ${String(l.msg)} ${JSON.stringify({ ...l, time: undefined, msg: undefined, pid: undefined, hostname: undefined, name: undefined, level: undefined })}`).join('\n')}`);
  }
}

async function leaders(rs: Replica[]): Promise<Replica[]> {
  const out: Replica[] = [];
  for (const r of rs) if (r.running && (await r.metric('veilleur_cluster_jobs_leader')) === 1) out.push(r);
  return out;
}

describe('singleton jobs across three replicas', () => {
  it('runs each windowed slot and each rollup period once, through a SIGTERM and a SIGKILL of the leader', async () => {
    const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
    const start = new Date(end.getTime() - 24 * HOUR);
    // Rollups with no lag, 4 hours per round: the catch-up of a day takes several rounds, across the first failover.
    const registry = { ...townRegistry(TOWN), retention: retentionSchema.parse({ raw: 'inf', rollups: { lagMinutes: 0, maxPeriodsPerRound: 4, daily: false, everyMinutes: 1 } }) };
    const config = writeClusterConfig(stack, registry, { partitions: 8 });
    replicas = ['j1', 'j2', 'j3'].map((id) => new Replica(id, stack, config, { ALERT_EVAL_MINUTES: '1' }));

    // The history goes in through the cluster (the relay, the partitions) before the jobs have anything to do.
    await Promise.all(replicas.map((r) => r.start()));
    await waitFor(async () => (await partitionsOwned(replicas)) === 8, 60_000, '8 partitions owned');
    const uplinks = [...generateUplinks({ start, end, seed: 7 })];
    await publishUplinks(uplinks, { url: stack.mqtt.url, clientId: 'cluster-jobs-publisher' });
    await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= uplinks.length, 120_000, 'history stored');

    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const doneUntil = async () => (await readCheckpoint(influx, '1h', 'UTC').catch(() => undefined)) ?? 0;

    // One leader; SIGTERM it once the rollups are under way but not done.
    await waitFor(async () => (await leaders(replicas)).length === 1, 30_000, 'a jobs leader');
    const first = (await leaders(replicas))[0]!;
    await waitFor(async () => (await doneUntil()) > 0, 90_000, 'a first rollup step');
    expect(await doneUntil()).toBeLessThan(end.getTime());
    expect(await first.stop()).toBe(0);
    await waitFor(async () => (await leaders(replicas)).length === 1, 15_000, 'a second leader after the SIGTERM');
    const second = (await leaders(replicas))[0]!;
    expect(second).not.toBe(first);
    await waitFor(async () => (await doneUntil()) >= end.getTime(), 120_000, 'rollups caught up on the second leader');
    // Its metric agrees with its trail (counters live as long as the process: read before the kill).
    const stepsOf = (rep: Replica) => logLines(rep).filter((l) => l.msg === 'rollup step written').reduce((n, l) => n + (Number(l.to) - Number(l.from)) / HOUR, 0);
    expect(await second.metric('veilleur_rollup_periods_total')).toBe(stepsOf(second));

    // SIGKILL the second leader just after one of its windowed rounds (claimed and run: nothing left half-done).
    const roundsOf = (r: Replica) => logLines(r).filter((l) => l.msg === 'periodic round done' && l.job === 'windowed').length;
    const before = roundsOf(second);
    // Up to two slots: on a loaded machine a round's InfluxDB queries may take tens of seconds.
    await waitFor(async () => roundsOf(second) > before, 135_000, 'a windowed round on the second leader').catch(async (err: unknown) => {
      diagnose();
      for (const r of replicas.filter((x) => x.running)) console.log(`[cluster-jobs] ${r.id} rounds ${String(await r.metric('veilleur_job_rounds_total'))} leader ${String(await r.metric('veilleur_cluster_jobs_leader'))}`);
      throw err;
    });
    const killedAt = Date.now();
    expect(await second.kill('SIGKILL')).toBeNull();
    const survivors = replicas.filter((r) => r.running);
    await waitFor(async () => (await leaders(survivors)).length === 1, 15_000, 'a third leader after the SIGKILL');
    console.log(`[cluster-jobs] jobs leader again ${Date.now() - killedAt} ms after the SIGKILL`);
    const third = (await leaders(survivors))[0]!;
    const thirdBefore = roundsOf(third);
    await waitFor(async () => roundsOf(third) > thirdBefore, 135_000, 'a windowed round on the third leader');

    // The trail of every replica.
    const lines = replicas.flatMap((r) => logLines(r).map((l): Record<string, unknown> => ({ ...l, replica: r.id })));
    const terms = lines
      .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('jobs leader'))
      .sort((a, b) => Number(a.time) - Number(b.time))
      .map((l) => `${new Date(Number(l.time)).toISOString().slice(11, 19)} ${String(l.replica)} ${String(l.msg).includes('no more') ? `ends (${String(l.why)})` : 'leads'}`);
    console.log(`[cluster-jobs] terms: ${terms.join(', ')}`);
    const slots = lines.filter((l) => l.msg === 'periodic round done' && l.job === 'windowed').map((l) => ({ slot: Number(l.slot), replica: String(l.replica), ms: Number(l.ms) }));
    const slotNumbers = slots.map((s) => s.slot).sort((a, b) => a - b);
    console.log(`[cluster-jobs] windowed slots: ${slots.map((s) => `${s.slot % 1000}@${s.replica} (${s.ms} ms)`).join(' ')}`);
    expect(new Set(slotNumbers).size, 'a windowed slot run twice').toBe(slotNumbers.length);
    expect(slotNumbers.at(-1)! - slotNumbers[0]! + 1, 'a windowed slot left out').toBe(slotNumbers.length);
    expect(new Set(slots.map((s) => s.replica)).size).toBeGreaterThanOrEqual(2);

    const steps = lines.filter((l) => l.msg === 'rollup step written').map((l) => ({ resolution: String(l.resolution), from: Number(l.from), to: Number(l.to), replica: String(l.replica) }));
    const periods: number[] = [];
    for (const s of steps) for (let t = s.from; t < s.to; t += HOUR) periods.push(t);
    console.log(`[cluster-jobs] rollup steps: ${steps.map((s) => `${(s.to - s.from) / HOUR}h@${s.replica}`).join(' ')}`);
    expect(new Set(periods).size, 'an hourly period computed twice').toBe(periods.length);
    expect(new Set(steps.map((s) => s.replica)).size, 'rollups on both leaders').toBe(2);
    const sorted = [...periods].sort((a, b) => a - b);
    expect(sorted.at(-1)! + HOUR).toBeGreaterThanOrEqual(end.getTime());
    expect((sorted.at(-1)! - sorted[0]!) / HOUR + 1, 'an hourly period left out').toBe(sorted.length);
  }, 420_000);
});
