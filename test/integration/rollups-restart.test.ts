/**
 * Rollups survive a real restart mid-computation: the service catches up four days of the simulated town a few
 * hours per round, is killed with SIGKILL half-way, restarted, and finishes. Every meter's hourly consumptions
 * then add up exactly to its index difference over the whole period (a missing or doubled hour would not), and
 * every hour with readings of a room sensor has exactly one rollup point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { ROLLUP_RP, rollupField, rollupMeasurement } from '../../services/rollups/names.ts';
import { readCheckpoint } from '../../services/rollups/rollup.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { countPoints, queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

const HOUR = 3_600_000;
let stack: Stack;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('rollups across a SIGKILL', () => {
  it('resume after the kill and leave no hour missing or doubled', async () => {
    const end = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR);
    const start = new Date(end.getTime() - 4 * 24 * HOUR);
    // The readings first, without rollups (a catch-up over readings still arriving would miss some).
    service = new ServiceProcess(stack, {}, townRegistry());
    await service.start();
    const uplinks = [...generateUplinks({ start, end, seed: 5 })];
    await publishUplinks(uplinks, { url: stack.mqtt.url });
    await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= uplinks.length, 60_000, 'history stored');
    await service.stop();

    // A slow catch-up: 6 hours per round, so that the kill lands with most of it still to do.
    const registry = { ...townRegistry(), retention: retentionSchema.parse({ raw: 'inf', rollups: { lagMinutes: 0, maxPeriodsPerRound: 6, daily: false } }) };
    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const doneUntil = async () => (await readCheckpoint(influx, '1h', 'UTC').catch(() => undefined)) ?? 0;
    service = new ServiceProcess(stack, {}, registry);
    await service.start();
    await waitFor(async () => (await doneUntil()) >= start.getTime() + 24 * HOUR, 60_000, 'a day of hourly rollups');
    expect(await service.kill('SIGKILL')).toBeNull();
    const atKill = await doneUntil();
    const restarted = Date.now();
    expect(atKill).toBeLessThan(end.getTime());

    service = new ServiceProcess(stack, {}, registry);
    await service.start();
    const lastHour = Math.floor(restarted / HOUR) * HOUR;
    await waitFor(async () => (await doneUntil()) >= lastHour, 120_000, 'hourly rollups caught up after the restart');
    console.log(`[rollups] killed with ${((atKill - start.getTime()) / HOUR).toFixed(0)} of ${((lastHour - start.getTime()) / HOUR).toFixed(0)} hours rolled up; caught up after the restart`);

    // Meters: the hourly consumptions add up to the index difference, hour by hour from the first reading.
    const water = QUANTITIES['metering.water.total'];
    const energy = QUANTITIES['metering.electricity.activeEnergy'];
    let meters = 0;
    for (const spec of [water, energy]) {
      const field = rollupField(spec === water ? 'metering.water.total' : 'metering.electricity.activeEnergy', 'diff');
      const raw = await queryRows(stack.influx, stack.db, `SELECT "${spec.field}" AS v, "dev_eui" FROM "${spec.measurement}" WHERE "channel" = '' AND time >= ${start.getTime()}ms AND time < ${lastHour}ms`);
      const byDevice = new Map<string, { t: number; v: number }[]>();
      for (const r of raw) {
        if (typeof r.v !== 'number') continue;
        const list = byDevice.get(String(r.dev_eui)) ?? [];
        list.push({ t: Number(r.time), v: r.v });
        byDevice.set(String(r.dev_eui), list);
      }
      for (const [dev, readings] of byDevice) {
        readings.sort((a, b) => a.t - b.t);
        let expected = 0;
        for (let i = 1; i < readings.length; i++) expected += Math.max(0, readings[i]!.v - readings[i - 1]!.v);
        // Rollups of the hours after the first reading's hour (the first hour has no earlier index to start from).
        const firstHourEnd = Math.floor(readings[0]!.t / HOUR) * HOUR + HOUR;
        const rolled = await queryRows(
          stack.influx,
          stack.db,
          `SELECT "${field}" AS d FROM "${ROLLUP_RP['1h']}"."${rollupMeasurement(spec.measurement as 'water', '1h')}" WHERE "dev_eui" = '${dev}' AND "channel" = '' AND time >= ${firstHourEnd}ms AND time < ${lastHour}ms`,
        );
        const inFirstHour = readings.filter((r) => r.t < firstHourEnd);
        const beforeRolled = inFirstHour.length > 1 ? inFirstHour.at(-1)!.v - inFirstHour[0]!.v : 0;
        const sum = rolled.reduce((s, r) => s + Number(r.d ?? 0), 0);
        expect(sum + beforeRolled, `${spec.measurement} ${dev}`).toBeCloseTo(expected, 3);
        expect(new Set(rolled.map((r) => r.time)).size).toBe(rolled.length);
        meters++;
      }
    }
    expect(meters).toBeGreaterThanOrEqual(6);

    // A room sensor: one hourly point per hour that had readings, no more, no fewer.
    const room = TOWN.find((d) => d.name === 'classe-cp')!;
    const air = QUANTITIES['air.temperature'];
    const rawHours = new Set(
      (await queryRows(stack.influx, stack.db, `SELECT "${air.field}" FROM "${air.measurement}" WHERE "dev_eui" = '${room.devEui}' AND time >= ${start.getTime()}ms AND time < ${lastHour}ms`)).map(
        (r) => Math.floor(Number(r.time) / HOUR) * HOUR,
      ),
    );
    const rolledHours = (
      await queryRows(stack.influx, stack.db, `SELECT "${rollupField('air.temperature', 'mean')}" FROM "${ROLLUP_RP['1h']}"."${rollupMeasurement('air', '1h')}" WHERE "dev_eui" = '${room.devEui}' AND time >= ${start.getTime()}ms AND time < ${lastHour}ms`)
    ).map((r) => Number(r.time));
    expect(rolledHours.length).toBe(rawHours.size);
    expect(new Set(rolledHours)).toEqual(rawHours);
  }, 300_000);
});
