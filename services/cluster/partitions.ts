/**
 * The pure arithmetic of the cluster mode: which partition a message belongs to, the id JetStream deduplicates it
 * by, and how many partitions this replica should hold and which ones it prefers. No I/O here (unit-tested).
 */
import { createHash } from 'node:crypto';
import type { ParseOutcome } from '../lns/uplink.ts';

/**
 * Partition of a device: FNV-1a (32 bits) of its lower-case DevEUI, modulo the partition count. Stable across
 * replicas, versions and platforms, which is all that matters (a device must always land in the same partition).
 * Messages without a DevEUI (an unknown topic, invalid JSON) go to partition 0: they only ever become a rejected
 * record, whose order does not matter.
 */
export function partitionOf(devEui: string | undefined, partitions: number): number {
  if (!devEui) return 0;
  let h = 0x811c9dc5;
  const s = devEui.toLowerCase();
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** The DevEUI a parsed message names, if any (rejected messages sometimes know it). */
export function devEuiOf(event: ParseOutcome): string | undefined {
  if (event.kind === 'ignored') return undefined;
  return event.devEui || undefined;
}

/**
 * `Nats-Msg-Id` of a message: the network server's own id of the event when it has one (ChirpStack's
 * `deduplicationId`, The Things Stack's first correlation id), so that the same uplink published twice (two relays,
 * an LNS re-publishing it) is stored once; else a hash of topic and payload, which a relay sending the same bytes
 * again reproduces. The event kind and LNS are part of the id: ChirpStack's `status` event carries the
 * `deduplicationId` of the uplink that brought it, and must not be taken for that uplink.
 */
export function messageIdOf(topic: string, payload: Buffer, event: ParseOutcome): string {
  if (event.kind === 'uplink' && event.messageId) return `${event.lns}:up:${event.messageId}`;
  const h = createHash('sha256').update(topic).update('\0').update(payload).digest('base64url');
  return `h:${h.slice(0, 32)}`;
}

/** Partitions each replica should hold at most: ceil(N / members), so that N partitions always find an owner. */
export function fairShare(partitions: number, members: number): number {
  return Math.ceil(partitions / Math.max(1, members));
}

/**
 * The partitions in this replica's order of preference (rendezvous hashing): every replica ranks every partition by
 * hash(replica, partition). With each replica taking free partitions in its own order, the partitions spread out
 * evenly and a replica that comes back tends to get back the same ones (its caches are warm for those devices).
 */
export function preferenceOrder(replicaId: string, partitions: number): number[] {
  const score = (p: number) => partitionOf(`${replicaId}/${p}`, 0x7fffffff);
  return Array.from({ length: partitions }, (_, p) => p).sort((a, b) => score(b) - score(a) || a - b);
}

export interface RebalancePlan {
  /** Free partitions to try to take, best first (as many as the fair share leaves room for). */
  acquire: number[];
  /** Partitions held beyond the fair share, to hand over (least preferred first). */
  release: number[];
}

/**
 * What one replica should do now, from what it holds, which partitions are free (held by nobody) and how many
 * replicas are alive. Each replica decides alone; they converge because a replica only releases beyond its share
 * and only takes what is free up to its share, and shares add up to at least N.
 */
export function rebalance(replicaId: string, partitions: number, members: number, held: Iterable<number>, free: Iterable<number>): RebalancePlan {
  const share = fairShare(partitions, members);
  const order = preferenceOrder(replicaId, partitions);
  const rank = new Map(order.map((p, i) => [p, i]));
  const mine = [...held].sort((a, b) => rank.get(a)! - rank.get(b)!);
  if (mine.length > share) return { acquire: [], release: mine.slice(share).reverse() };
  const freeSet = new Set(free);
  const acquire = order.filter((p) => freeSet.has(p) && !mine.includes(p)).slice(0, share - mine.length);
  return { acquire, release: [] };
}
