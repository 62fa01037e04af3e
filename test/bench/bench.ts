/**
 * `npm run bench`: the service between a real Mosquitto and a real InfluxDB 1.x, fed with the simulated town's
 * real device payloads (ChirpStack v4 and TTS v3 envelopes, decoded by the built-in decoders). Prints:
 * - capacity: N uplinks published as fast as the broker acknowledges; uplinks/s from the first publish to the moment
 *   all N are queryable in InfluxDB, CPU seconds of the service per 1,000 uplinks, its peak RSS;
 * - latency: uplinks at a fixed 1,000/s; publish → queryable p50/p99 (resolution: the 20 ms poll);
 * - idle: the service's RSS and CPU use with nothing to do after start-up, and its RSS 15 s after the capacity burst;
 * - storage: bytes stored per device-year with rollups and retention applied (footprint.ts).
 * The service runs as in production: the bundled build (npm run build) with the Dockerfile's heap limits.
 * Everything listens on 127.0.0.1; every loop is bounded in count and time. Options: BENCH_N (100000),
 * BENCH_RATE_SECONDS (20), BENCH_DEVICES_COPIES (63 → 1,008 devices).
 */
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { scaledTown, townRegistry } from '../../services/simulator/town.ts';
import { ROOT, ServiceProcess, startStack, waitFor } from '../integration/support.ts';
import { formatFootprint, measureFootprint } from './footprint.ts';
import { cpuSeconds, memoryMb } from './procstat.ts';
import { benchCodec } from './codec-engine.ts';
import { SERVICE_NODE_FLAGS } from './node-flags.ts';
import { generateKey } from '../../services/api/keys.ts';
import { alertEventLines, timePages, writeLines, type PageTiming } from './console-pages.ts';

const N = Number(process.env.BENCH_N ?? 100_000);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 20);
const COPIES = Number(process.env.BENCH_DEVICES_COPIES ?? 63);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const devices = scaledTown(COPIES);
  const stack = await startStack({ persistence: false });
  // Tuning variables (WRITE_*, SPOOL_*, MQTT_PROTOCOL_VERSION) pass through to the service.
  const tuning = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => /^(WRITE_|SPOOL_|MQTT_PROTOCOL)/.test(k) && v !== undefined)) as Record<string, string>;
  // Measured as it runs in production (Dockerfile): the bundled build, with its heap limits.
  execSync('npm run -s build', { cwd: ROOT, stdio: 'inherit' });
  const entry = [...SERVICE_NODE_FLAGS, join(ROOT, 'dist', 'veilleur.mjs')];
  // A key for the console's page timings (1,000 devices and 10,000 alert events in one commune).
  const consoleKey = generateKey('benchconsole');
  const registry = townRegistry(devices);
  registry.apiKeys = [{ id: consoleKey.id, name: 'Banc d’essai', role: 'admin', tenants: ['saint-veilleur'], hash: consoleKey.hash }];
  const service = new ServiceProcess(stack, { LOG_LEVEL: 'warn', ALERT_EVAL_MINUTES: '1440', ...tuning }, registry, entry);
  try {
    await service.start();
    await waitFor(async () => (await service.ready())?.ready === true, 30_000, 'service ready');
    const pid = service.pid()!;
    const count = async (from: string): Promise<number> => {
      const r = await stack.influx.query(`SELECT count(f_cnt) FROM uplink WHERE time >= '${from}'`, stack.db);
      return Number(r.results?.[0]?.series?.[0]?.values[0]?.[1] ?? 0);
    };

    // Idle: nothing published for 10 s.
    await sleep(2000);
    const idleCpu0 = cpuSeconds(pid);
    await sleep(10_000);
    const idle = { rssMb: memoryMb(pid).rss, cpuPercent: ((cpuSeconds(pid) - idleCpu0) / 10) * 100 };

    // Capacity.
    process.stderr.write(`bench: building ${N} uplinks for ${devices.length} devices…\n`);
    const capStart = '2025-01-01T00:00:00Z';
    const uplinks: SimUplink[] = [...generateUplinks({ start: new Date(capStart), count: N, seed: 1, devices })];
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const pub = publishUplinks(uplinks, { url: stack.mqtt.url, inflight: 1000, maxSeconds: 600 });
    let stored = 0;
    const deadline = Date.now() + 600_000;
    const trace = process.env.BENCH_TRACE === '1';
    while (stored < N && Date.now() < deadline) {
      await sleep(250);
      stored = await count(capStart);
      if (trace) {
        const m = await (await fetch(`${await service.url}/metrics`)).text();
        const get = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(m)?.[1] ?? NaN);
        process.stderr.write(
          `t=${((performance.now() - t0) / 1000).toFixed(2)}s received=${get('veilleur_mqtt_messages_total\\{kind="uplink"\\}')} points=${get('veilleur_points_written_total')} spool=${get('veilleur_spool_bytes')} stored=${stored}\n`,
        );
      }
    }
    const e2e = (performance.now() - t0) / 1000;
    const published = await pub;
    const capCpu = cpuSeconds(pid) - cpu0;
    const capacity = {
      uplinks: N,
      devices: devices.length,
      stored,
      lost: N - stored,
      publishSeconds: +published.seconds.toFixed(2),
      e2eSeconds: +e2e.toFixed(2),
      uplinksPerSecond: Math.round(Math.min(stored, N) / e2e),
      cpuSecondsPer1000: +((capCpu / N) * 1000).toFixed(3),
      cpuMicrosPerUplink: Math.round((capCpu / N) * 1e6),
      peakRssMb: Math.round(memoryMb(pid).peak),
    };

    // At rest again after the burst: what the service keeps once it is over (services/memory-trim.ts).
    await sleep(15_000);
    const idleAfterBurstRssMb = Math.round(memoryMb(pid).rss);

    // Latency at a fixed rate.
    const latStart = '2027-01-01T00:00:00Z';
    const rateUplinks = [...generateUplinks({ start: new Date(latStart), count: 1000 * RATE_SECONDS, seed: 2, devices })];
    const publishedAt = new Float64Array(rateUplinks.length);
    const index = new Map(rateUplinks.map((u, i) => [u, i]));
    let next = 0;
    const visibleAt = new Float64Array(rateUplinks.length);
    const latPub = publishUplinks(rateUplinks, {
      url: stack.mqtt.url,
      rate: 1000,
      inflight: 1000,
      maxSeconds: RATE_SECONDS + 60,
      onAck: (u) => {
        publishedAt[index.get(u)!] ||= performance.now();
      },
    });
    // The service stores uplinks in the order the broker delivers them, which is the publish order: when the count
    // reaches k, the first k are queryable.
    const latDeadline = Date.now() + (RATE_SECONDS + 60) * 1000;
    while (next < rateUplinks.length && Date.now() < latDeadline) {
      await sleep(20);
      const c = await count(latStart);
      const now = performance.now();
      for (; next < c; next++) visibleAt[next] = now;
    }
    await latPub;
    const latencies: number[] = [];
    for (let i = 0; i < next; i++) if (publishedAt[i]) latencies.push(visibleAt[i]! - publishedAt[i]!);
    latencies.sort((a, b) => a - b);
    const latency = { rate: 1000, seconds: RATE_SECONDS, uplinks: rateUplinks.length, stored: next, p50Ms: Math.round(pct(latencies, 50)), p99Ms: Math.round(pct(latencies, 99)), maxMs: Math.round(latencies.at(-1) ?? NaN) };

    // Instant alert latency: a leak sensor alternately wet and dry; each uplink opens or resolves W7 on MQTT.
    const sensor = devices.find((d) => d.name === 'fuite-chaufferie-mairie')!;
    const alertSentAt = new Map<number, number>();
    const alertLatencies: number[] = [];
    const watcher = await mqtt.connectAsync(stack.mqtt.url);
    watcher.on('message', (_t, payload) => {
      const body = JSON.parse(payload.toString()) as { at: string };
      const sent = alertSentAt.get(Date.parse(body.at));
      if (sent !== undefined) alertLatencies.push(performance.now() - sent);
    });
    await watcher.subscribeAsync('veilleur/alerts/#', { qos: 1 });
    const ALERTS = 200;
    const alertStart = Date.parse('2028-01-01T00:00:00Z');
    const leakUplinks: SimUplink[] = Array.from({ length: ALERTS }, (_, i) => {
      const time = new Date(alertStart + i * 60_000);
      const frame = frameBuilders[sensor.decoder]!.build({ leak: i % 2 === 0, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, time);
      return { ...chirpstackV4Up(sensor, 1_000_000 + i, frame, time, { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 }), devEui: sensor.devEui, fCnt: 1_000_000 + i, time };
    });
    await publishUplinks(leakUplinks, {
      url: stack.mqtt.url,
      rate: 20,
      inflight: 10,
      maxSeconds: 60,
      onAck: (u) => alertSentAt.set(u.time.getTime(), performance.now()),
    });
    await waitFor(async () => alertLatencies.length >= ALERTS, 10_000, 'alert notifications').catch(() => undefined);
    await watcher.endAsync();
    alertLatencies.sort((a, b) => a - b);
    // Measured from the publisher's PUBACK (the broker has the uplink) to the alert message at the subscriber.
    const alerts = { uplinks: ALERTS, notified: alertLatencies.length, p50Ms: Math.round(pct(alertLatencies, 50)), p99Ms: Math.round(pct(alertLatencies, 99)) };

    // Console pages with 1,008 devices, each with its readings of the last 26 hours (what the tiles and charts read),
    // and 10,000 alert events of the last 30 days.
    const townDevices = devices.filter((d) => d.lnsTenant === devices[0]!.lnsTenant);
    const recentFrom = new Date(Date.now() - 26 * 3_600_000);
    const recent = [...generateUplinks({ start: recentFrom, end: new Date(), seed: 3, devices })];
    await publishUplinks(recent, { url: stack.mqtt.url, inflight: 1000, maxSeconds: 300 });
    await waitFor(async () => (await count(recentFrom.toISOString())) >= recent.length, 300_000, 'the last 26 hours stored');
    const { lines, someAlertId } = alertEventLines(townDevices, 'saint-veilleur', 10_000, 30);
    await writeLines(stack.influx.url, stack.db, lines);
    const base = await service.url;
    const pages: PageTiming[] = await timePages(base, consoleKey.key, [
      { name: 'alertes (ouvertes)', path: '/' },
      { name: 'alertes (toutes, 30 j)', path: '/?etat=all' },
      { name: 'alertes (page 40)', path: '/?etat=all&page=40' },
      { name: 'une alerte', path: `/alertes/${someAlertId}` },
      { name: 'sites', path: '/sites' },
      { name: 'appareil', path: `/appareils/${townDevices[0]!.devEui}` },
      { name: 'parc', path: '/parc' },
      { name: 'rapports', path: '/rapports' },
      { name: 'conservation', path: '/conservation' },
    ]);

    const result = { date: new Date().toISOString(), node: process.version, capacity, latency, alerts, console: pages, idle: { rssMb: Math.round(idle.rssMb), afterBurstRssMb: idleAfterBurstRssMb, cpuPercent: +idle.cpuPercent.toFixed(2) } };
    process.stdout.write(`
Veilleur benchmark (real Mosquitto + InfluxDB 1.x on 127.0.0.1, ${devices.length} simulated devices, real payloads)
  capacity   ${capacity.uplinks} uplinks: ${capacity.uplinksPerSecond} uplinks/s end to end (first publish → all queryable in ${capacity.e2eSeconds} s), lost ${capacity.lost}
             CPU ${capacity.cpuMicrosPerUplink} µs per uplink (built-in decoders; ${capacity.cpuSecondsPer1000} s per 1,000), peak RSS ${capacity.peakRssMb} MB
  latency    ${latency.uplinks} uplinks at ${latency.rate}/s: publish → queryable p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms
  W7 alert   ${alerts.notified}/${alerts.uplinks} leak-sensor uplinks notified on MQTT: p50 ${alerts.p50Ms} ms, p99 ${alerts.p99Ms} ms after the broker had the uplink
  idle       RSS ${result.idle.rssMb} MB after start-up (CPU ${result.idle.cpuPercent} %), ${idleAfterBurstRssMb} MB 15 s after the ${capacity.uplinks}-uplink burst
  console    ${townDevices.length} devices (${recent.length} uplinks over the last 26 h), 10,000 alert events; page time (10 requests each after one warm-up):
${pages.map((p) => `             ${p.page.padEnd(24)} ${p.status}  p50 ${p.p50Ms} ms  p95 ${p.p95Ms} ms  max ${p.maxMs} ms  (first ${p.firstMs} ms)  ${Math.round(p.bytes / 1024)} KB`).join('\n')}
${JSON.stringify(result)}
`);
  } finally {
    await service.stop();
    await stack.close();
  }
  // Bytes stored per device-year with rollups and retention: its own influxd, once the servers above are stopped.
  const footprint = await measureFootprint();
  process.stdout.write(`  storage    ${formatFootprint(footprint)}\n${JSON.stringify({ footprint })}\n`);
  // The TS013 codec path alone (the harness's codec in the QuickJS worker): CPU per call, and what the main thread pays.
  const codec = await benchCodec(100_000);
  process.stdout.write(`  TS013      ${codec.processUsPerCall} µs CPU per codec call (all threads), ${codec.mainThreadUsPerCall} µs on the main thread (${codec.calls} calls, bursts of 500)\n${JSON.stringify({ ts013: codec })}\n`);
}

await main();
