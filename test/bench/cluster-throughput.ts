/**
 * Throughput of the cluster mode (issue 17, docs/scaling.md): the same uplinks (the town scaled to 500 devices)
 * published as fast as the broker acknowledges them to one process without `cluster:`, then to one and three
 * replicas on a private nats-server, each on fresh private servers; prints uplinks/s from the first publish to the
 * last uplink queryable in InfluxDB. Run: sh infra/scripts/with-node.sh npx tsx test/bench/cluster-throughput.ts
 * (BENCH_UPLINKS, default 20,000; BENCH_MODES, default "single,1,3").
 */
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { scaledTown, townRegistry } from '../../services/simulator/town.ts';
import { partitionsOwned, Replica, startClusterStack, writeClusterConfig } from '../integration/cluster-support.ts';
import { countPoints, ServiceProcess, startStack, waitFor } from '../integration/support.ts';

const N = Number(process.env.BENCH_UPLINKS ?? 20_000);
const MODES = (process.env.BENCH_MODES ?? 'single,1,3').split(',');
const DEVICES = scaledTown(24).slice(0, 500);
const uplinks = [...generateUplinks({ start: new Date('2026-03-27T00:00:00Z'), count: N, seed: 17, devices: DEVICES })];

async function measure(url: string, count: () => Promise<number>): Promise<{ publishS: number; storedS: number }> {
  const t0 = Date.now();
  const { seconds } = await publishUplinks(uplinks, { url, clientId: 'bench-cluster-publisher', inflight: 1000 });
  await waitFor(async () => (await count()) >= N, 600_000, `${N} uplinks stored`);
  return { publishS: seconds, storedS: (Date.now() - t0) / 1000 };
}

for (const mode of MODES) {
  if (mode === 'single') {
    const stack = await startStack();
    const service = new ServiceProcess(stack, {}, townRegistry(DEVICES));
    await service.start();
    const r = await measure(stack.mqtt.url, () => countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink'));
    console.log(`single process: ${N} uplinks, published in ${r.publishS.toFixed(1)} s, all stored in ${r.storedS.toFixed(1)} s: ${(N / r.storedS).toFixed(0)} uplinks/s`);
    await service.stop();
    await stack.close();
    continue;
  }
  const replicas = Number(mode);
  const stack = await startClusterStack();
  const config = writeClusterConfig(stack, townRegistry(DEVICES), { partitions: 16 });
  const rs = Array.from({ length: replicas }, (_, i) => new Replica(`b${i + 1}`, stack, config));
  await Promise.all(rs.map((r) => r.start()));
  await waitFor(async () => (await partitionsOwned(rs)) === 16, 60_000, '16 partitions owned');
  const r = await measure(stack.mqtt.url, () => countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink'));
  console.log(`cluster, ${replicas} replica(s): ${N} uplinks, published in ${r.publishS.toFixed(1)} s, all stored in ${r.storedS.toFixed(1)} s: ${(N / r.storedS).toFixed(0)} uplinks/s`);
  await Promise.all(rs.map((x) => x.stop()));
  await stack.close();
}
