/**
 * Publishes simulated uplinks with QoS 1: as fast as PUBACKs come back (at most `inflight` waiting), or at `rate`
 * messages per second, or in real time (`live`: each message when its timestamp comes). Bounded by the generator
 * (count, end) and by `maxSeconds`.
 */
import mqtt from 'mqtt';
import type { SimUplink } from './generator.ts';

export interface PublishOptions {
  url: string;
  username?: string;
  password?: string;
  rate?: number;
  live?: boolean;
  /** A fixed client id with a persistent session: unacknowledged publishes survive a broker restart. */
  clientId?: string;
  inflight?: number;
  maxSeconds?: number;
  /** Called after each PUBACK. */
  onAck?: (u: SimUplink, ackedAt: number) => void;
  signal?: AbortSignal;
}

export async function publishUplinks(uplinks: Iterable<SimUplink>, opts: PublishOptions): Promise<{ published: number; seconds: number }> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: opts.clientId ?? `veilleur-sim-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
    clean: opts.clientId === undefined,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.password ? { password: opts.password } : {}),
  });
  const started = Date.now();
  const deadline = started + (opts.maxSeconds ?? 3600) * 1000;
  const window = opts.inflight ?? 500;
  const pending = new Set<Promise<void>>();
  let published = 0;
  try {
    for (const u of uplinks) {
      if (opts.signal?.aborted || Date.now() > deadline) break;
      if (opts.live) {
        const wait = u.time.getTime() - Date.now();
        if (wait > 0) await sleep(Math.min(wait, deadline - Date.now()), opts.signal);
        if (opts.signal?.aborted || Date.now() > deadline) break;
      } else if (opts.rate) {
        const due = started + (published / opts.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 1) await sleep(wait, opts.signal);
      }
      const p: Promise<void> = client.publishAsync(u.topic, u.payload, { qos: 1 }).then(() => {
        pending.delete(p);
        opts.onAck?.(u, Date.now());
      });
      pending.add(p);
      published++;
      if (pending.size >= window) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    await client.endAsync();
  }
  return { published, seconds: (Date.now() - started) / 1000 };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
