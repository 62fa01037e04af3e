/**
 * The MQTT edge of the cluster mode: each message of the network server's broker is published into the JetStream
 * stream, on the subject of its device's partition (`<subjects>.<p>`), with the broker's topic in a header and a
 * `Nats-Msg-Id` JetStream deduplicates by (partitions.ts). It is the `MessageSink` of an ordinary MqttConsumer:
 * its promise resolves only after JetStream's publish acknowledgement, so the PUBACK leaves only once the message
 * is stored in the stream (the consumer holds it, and those after it, until then).
 *
 * Order: the messages of one partition are published one after the other (the next only once the previous is
 * acknowledged), so the stream keeps each device's messages in the order the broker delivered them even when a
 * publish fails and is retried. Different partitions are published concurrently.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { parseLnsMessage } from '../lns/parse.ts';
import type { MessageSink } from '../mqtt/consumer.ts';
import { devEuiOf, messageIdOf, partitionOf } from './partitions.ts';
import { subjectOf, TOPIC_HEADER } from './subjects.ts';

export interface RelayOptions {
  subjects: string;
  partitions: number;
  /** Wait for one publish acknowledgement, ms. */
  timeoutMs?: number;
}

export class Relay implements MessageSink {
  /** Per partition: the last publish in flight, which the next one of the partition waits for. */
  private readonly chains = new Map<number, Promise<void>>();
  private stopping = false;
  published = 0;
  duplicates = 0;
  /** Messages handed to the relay and not yet acknowledged by JetStream. */
  inFlight = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: RelayOptions,
    private readonly log: Logger,
  ) {}

  handle(topic: string, payload: Buffer): Promise<void> {
    this.inFlight++;
    const event = parseLnsMessage(topic, payload);
    const p = partitionOf(devEuiOf(event), this.opts.partitions);
    const msgId = messageIdOf(topic, payload, event);
    const before = this.chains.get(p) ?? Promise.resolve();
    const mine = before.then(() => this.publish(p, topic, payload, msgId));
    const tail = mine.catch(() => undefined);
    this.chains.set(p, tail);
    void tail.then(() => {
      if (this.chains.get(p) === tail) this.chains.delete(p);
    });
    return mine;
  }

  /** Nothing to make durable here: the stream's acknowledgement already said it is stored. */
  flush(): void {}

  /**
   * Gives up the retries: the messages not yet in the stream stay unacknowledged with the broker, which sends them
   * to the next relay. Their promises are left pending rather than rejected: the connection they came on is closed,
   * so there is no acknowledgement to withhold, and a rejection would log an error per message.
   */
  stop(): void {
    this.stopping = true;
  }

  /** Publishes until JetStream acknowledges (NATS restarting, a leader election): the broker keeps its copy meanwhile. */
  private async publish(p: number, topic: string, payload: Buffer, msgId: string): Promise<void> {
    const h = headers();
    h.set(TOPIC_HEADER, topic);
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) return new Promise<void>(() => undefined);
      try {
        const ack = await this.js.publish(subjectOf(this.opts.subjects, p), payload, { msgID: msgId, headers: h, timeout: this.opts.timeoutMs ?? 5000 });
        if (ack.duplicate) this.duplicates++;
        else this.published++;
        this.inFlight--;
        if (attempt > 1) this.log.info({ partition: p, attempts: attempt }, 'message relayed to JetStream after retries');
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 20 === 0) this.log.warn({ partition: p, err: (err as Error).message, attempt }, 'JetStream did not acknowledge the publish; retrying');
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
      }
    }
  }
}
