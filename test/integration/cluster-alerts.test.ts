import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { AlertRegistry, openAlertBucket } from '../../services/cluster/alerts.ts';
import { AlertBook, type AlertEvent } from '../../services/alerts/lifecycle.ts';
import { alertEventLine } from '../../services/alerts/store.ts';
import type { Alert, Subject } from '../../services/alerts/model.ts';
import { leakSensorWet, type StreamInput } from '../../services/alerts/rules/stream.ts';
import { privateNats } from './cluster-support.ts';
import { waitFor } from './support.ts';

// Alert books of several replicas kept consistent through a JetStream key-value bucket (real nats-server): one open
// alert per (rule, subject) across replicas, each event accepted (hence stored and notified) by one replica only.
const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-03-02T08:00:00Z');
const leak: Subject = { tenant: 'saint-veilleur', site: 'gymnase', zone: 'vestiaires', devEui: '70b3d57ba0000001', device: 'fuite-vestiaires' };
const wet = (min: number, wetNow = true) => leakSensorWet.evaluate({ subject: leak, role: 'leak', at: new Date(T0 + min * 60_000), values: { 'water.leak': wetNow } } as StreamInput)!;

const nats = privateNats('veilleur-cluster-alerts-');

beforeAll(async () => {
  await nats.start();
});

afterAll(async () => {
  await nats.stop();
});

interface Replica {
  book: AlertBook;
  registry: AlertRegistry<Alert>;
  /** Events this replica would store and notify (accepted claims). */
  announced: AlertEvent[];
  /** What the service does with a batch of events in cluster mode: claim, then store and announce the accepted. */
  record(events: AlertEvent[]): Promise<void>;
}

async function replica(bucket: string, follow = true): Promise<Replica> {
  const nc = await nats.connect();
  const book = new AlertBook();
  const registry = new AlertRegistry<Alert>({ kv: await openAlertBucket(nc, bucket), instance: randomUUID(), log, onRemote: (a, quiet) => book.adopt(a, quiet), lineOf: (e) => alertEventLine(e as AlertEvent) });
  await registry.sync();
  if (follow) await registry.follow();
  const announced: AlertEvent[] = [];
  return { book, registry, announced, record: async (events) => void announced.push(...(await registry.claim(events))) };
}

describe('alerts across replicas (real nats-server)', () => {
  it('two replicas that both see the leak (a partition handed over mid-uplink) open one alert, announced once', async () => {
    const [a, b] = [await replica('alerts_1'), await replica('alerts_1')];
    const ea = a.book.apply(wet(0));
    const eb = b.book.apply(wet(0));
    expect([ea[0]?.type, eb[0]?.type]).toEqual(['opened', 'opened']);
    await Promise.all([a.record(ea), b.record(eb)]);
    const announced = [...a.announced, ...b.announced];
    expect(announced.map((e) => e.type)).toEqual(['opened']);
    // The loser's book now holds the winner's alert: one alert, one id, in both books.
    const id = announced[0]!.alert.id;
    await waitFor(async () => a.book.list().length === 1 && b.book.list().length === 1 && a.book.list()[0]!.id === id && b.book.list()[0]!.id === id, 5000, 'both books on the winning alert');
    // The winner's event line is kept with the alert, for a next owner to store again; not the loser's.
    const winner = a.announced.length ? a : b;
    const loser = winner === a ? b : a;
    expect(await winner.registry.linesFromOthers(60_000)).toEqual([]);
    expect(await loser.registry.linesFromOthers(60_000)).toEqual([alertEventLine(announced[0]!)]);
    // Further wet uplinks on either replica open nothing.
    expect(a.book.apply(wet(5))).toEqual([]);
    expect(b.book.apply(wet(5))).toEqual([]);
    a.registry.stop();
    b.registry.stop();
  });

  it('a new owner (sync) and a follower (watch) know the alert; an acknowledgement on another replica reaches the owner', async () => {
    const owner = await replica('alerts_2');
    await owner.record(owner.book.apply(wet(0)));
    expect(owner.announced.map((e) => e.type)).toEqual(['opened']);
    const id = owner.announced[0]!.alert.id;

    // A replica started after the alert was raised: sync() at start.
    const later = await replica('alerts_2');
    expect(later.book.find(id)?.state).toBe('open');
    expect(later.book.find(id)?.startedAt).toBeInstanceOf(Date);
    // It takes the device over (the owner died): the next wet uplink is not a new alert.
    expect(later.book.apply(wet(10))).toEqual([]);

    // A person acknowledges on the later replica (API); the owner's book follows.
    const ack = later.book.acknowledge(id, 'Agent technique (k1)', 'équipe envoyée');
    await later.record([ack!]);
    expect(later.announced.map((e) => e.type)).toEqual(['acknowledged']);
    await waitFor(async () => owner.book.find(id)?.state === 'acknowledged', 5000, 'the acknowledgement on the owner');
    expect(owner.book.find(id)?.acknowledged?.comment).toBe('équipe envoyée');

    // Both resolve at once (the owner because the sensor dried, a person on the other): one resolution wins.
    const dry = owner.book.apply(wet(20, false));
    const dryLater = owner.book.apply(wet(40, false));
    const auto = [...dry, ...dryLater];
    expect(auto.map((e) => e.type)).toEqual(['resolved']);
    const byHand = later.book.resolve(id, 'Agent technique (k1)', 'réparé');
    expect(byHand?.type).toBe('resolved');
    await Promise.all([owner.record(auto), later.record([byHand!])]);
    const resolutions = [...owner.announced, ...later.announced].filter((e) => e.type === 'resolved');
    expect(resolutions).toHaveLength(1);
    await waitFor(async () => owner.book.list().length === 0 && later.book.list().length === 0, 5000, 'no open alert anywhere');
    owner.registry.stop();
    later.registry.stop();
  });

  it('an alert resolved by hand on another replica while still wet is not reopened by the owner until it dries', async () => {
    const owner = await replica('alerts_3');
    const person = await replica('alerts_3');
    await owner.record(owner.book.apply(wet(0)));
    const id = owner.announced[0]!.alert.id;
    await waitFor(async () => person.book.find(id) !== undefined, 5000, 'the alert on the other replica');
    await person.record([person.book.resolve(id, 'Élu (k2)', 'fausse alerte')!]);
    await waitFor(async () => owner.book.list().length === 0, 5000, 'the resolution on the owner');
    expect(owner.book.apply(wet(5))).toEqual([]);
    // Dry once, then wet again: a new alert, announced once.
    owner.book.apply(wet(10, false));
    const reopened = owner.book.apply(wet(15));
    expect(reopened.map((e) => e.type)).toEqual(['opened']);
    await owner.record(reopened);
    expect(owner.announced.filter((e) => e.type === 'opened').map((e) => e.alert.id)).toEqual([id, reopened[0]!.alert.id]);
    owner.registry.stop();
    person.registry.stop();
  });
});
