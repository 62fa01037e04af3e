/**
 * The town's uplinks in time order: each device reports every `intervalS` (divided by `speed`) from `start`, its
 * state moved by its behaviour. Deterministic for a given seed, start and device list.
 */
import { envelope, type Message } from './envelopes.ts';
import { frameBuilders } from './frames/index.ts';
import type { DeviceState } from './frames/types.ts';
import { prng } from './random.ts';
import { parisLocalTime, TOWN, type SimDevice } from './town.ts';

export interface SimUplink extends Message {
  devEui: string;
  fCnt: number;
  time: Date;
}

export interface GenerateOptions {
  start: Date;
  /** Stop before this time (exclusive). */
  end?: Date;
  /** Stop after this many uplinks. */
  count?: number;
  seed?: number;
  /** Reporting intervals are divided by this (the demo makes devices talk faster than in the field)… */
  speed?: number;
  /** …from this time on (default: from the start). The demo replays history at field pace, then speeds up. */
  speedFrom?: Date;
  devices?: readonly SimDevice[];
  /** First frame counter of every device (to continue a run, or to make (DevEUI, fCnt) unique across runs). */
  firstFCnt?: number;
}

export function* generateUplinks(opts: GenerateOptions): Generator<SimUplink> {
  const devices = opts.devices ?? TOWN;
  const rand = prng(opts.seed ?? 1);
  const speed = opts.speed ?? 1;
  const sims = devices.map((d, i) => {
    const builder = frameBuilders[d.decoder];
    if (!builder) throw new Error(`simulator: no frame builder for '${d.decoder}' (device ${d.name})`);
    const interval = d.intervalS * 1000;
    return {
      d,
      builder,
      behaviour: d.behaviour(),
      state: { ...d.initial } as DeviceState,
      fCnt: opts.firstFCnt ?? 0,
      // Spread first reports over one interval, as real devices are.
      next: opts.start.getTime() + Math.floor((((i * 7919) % 1000) / 1000) * (opts.start.getTime() >= (opts.speedFrom?.getTime() ?? -Infinity) ? interval / speed : interval)),
      last: opts.start.getTime() - interval,
      interval,
      // A town's public network: ADR keeps devices near its gateways at SF7/SF8, the hourly ones in basements and
      // boiler rooms at SF9/SF10, so that each stays within the 30 s/day airtime budget (rule P1) as a well-run fleet does.
      radio: { rssi: -70 - Math.floor(rand() * 45), snr: Math.round((9 - rand() * 16) * 10) / 10, spreadingFactor: (d.intervalS >= 3600 ? 9 : 7) + (i % 2), gateways: 1 + (i % 3) },
    };
  });
  const speedFrom = opts.speedFrom?.getTime() ?? Number.NEGATIVE_INFINITY;
  let emitted = 0;
  const end = opts.end?.getTime() ?? Number.POSITIVE_INFINITY;
  const count = opts.count ?? Number.POSITIVE_INFINITY;
  while (emitted < count) {
    let sim = sims[0]!;
    for (const s of sims) if (s.next < sim.next) sim = s;
    if (sim.next >= end) return;
    const t = new Date(sim.next);
    sim.behaviour(sim.state, { t, dtS: (sim.next - sim.last) / 1000, rand, local: parisLocalTime(t) });
    const frame = sim.builder.build(sim.state, t);
    const msg = envelope(sim.d, sim.fCnt, frame, t, sim.radio);
    yield { ...msg, devEui: sim.d.devEui, fCnt: sim.fCnt, time: t };
    emitted++;
    sim.fCnt++;
    sim.last = sim.next;
    // The part of the next interval that falls after `speedFrom` runs `speed` times faster.
    const fieldNext = sim.next + sim.interval;
    const pivot = Math.max(sim.next, speedFrom);
    sim.next = fieldNext > pivot ? pivot + (fieldNext - pivot) / speed : fieldNext;
  }
}
