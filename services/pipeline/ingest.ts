/**
 * One MQTT message in, the line protocol to store out. Pure apart from logging and metrics: it never throws on
 * input; everything that cannot be stored as readings is stored raw with its reason. An uplink decoded by a custom
 * codec gives its lines later (a promise): the codec runs in a worker. A device's uplinks still give their lines,
 * and reach the alert rules, in the order they arrived: one that arrives while an earlier one of the same device
 * waits for its codec waits behind it.
 */
import type { Logger } from 'pino';
import { GatewayLog } from '../lns/gateways.ts';
import { parseLnsMessage } from '../lns/parse.ts';
import type { LnsEvent, Rejection, Uplink } from '../lns/uplink.ts';
import type { Metrics } from '../metrics.ts';
import type { Reading } from '../../decoders/index.ts';
import type { DeviceMeta, Registry } from '../registry/registry.ts';
import { gatewayLine, joinLines, locationLines, rejectedLine, statusLines, uplinkLines } from '../storage/points.ts';
import { RecentUplinks } from './dedupe.ts';
import { decodeWarningKinds, decodeWith, type DecodeOutcome, type DecoderResolver } from './decode.ts';
import { RateLimitedLog } from './rate-limited-log.ts';

export class Ingestor {
  private readonly recent = new RecentUplinks();
  private readonly gateways = new GatewayLog();
  private readonly badInputLog: RateLimitedLog;
  /** Devices whose tenant mismatch was logged: once per device, every message still counted and kept raw. */
  private readonly mismatchLogged = new Set<string>();
  private lastRejectedMs = 0;
  /** Devices with an uplink still waiting for its codec: the last one's promise, which the next one waits for. */
  private readonly waiting = new Map<string, Promise<string[]>>();

  /**
   * `onDecoded`: called with each decoded uplink's readings (the alert engine); the lines it returns are stored with
   * the uplink's own.
   */
  constructor(
    private readonly registry: Registry,
    private readonly decoders: DecoderResolver[],
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onDecoded?: (devEui: string, meta: DeviceMeta, at: Date, readings: Reading[]) => string[],
  ) {
    this.badInputLog = new RateLimitedLog(log, 20);
  }

  /** Never rejects for bad input; a promise only for uplinks that wait for a codec (or behind one of their device). */
  handle(topic: string, message: Buffer, now = new Date()): string[] | Promise<string[]> {
    let event;
    try {
      event = parseLnsMessage(topic, message, now);
    } catch (err) {
      // Parsers do not throw by design; this is the belt to their braces.
      event = { kind: 'rejected' as const, reason: 'invalid_envelope' as const, detail: `parser failure: ${(err as Error).message}` };
    }
    switch (event.kind) {
      case 'ignored':
        this.metrics.ignored.inc();
        this.metrics.ignoredEvents.labels(event.lns, event.event).inc();
        return [];
      case 'location': {
        this.metrics.locations.inc();
        const meta = this.registry.resolve(event);
        return 'kind' in meta ? this.tenantMismatch(topic, message, event, meta.detail, now) : locationLines(event, meta);
      }
      case 'rejected': {
        this.metrics.rejected.labels(event.reason).inc();
        this.badInputLog.warn(event.reason, { topic, reason: event.reason, devEui: event.devEui, detail: event.detail }, 'message kept raw: not a valid network-server event');
        return [this.rejected(topic, message, event, now)];
      }
      case 'status': {
        this.metrics.statusEvents.inc();
        const meta = this.registry.resolve(event);
        return 'kind' in meta ? this.tenantMismatch(topic, message, event, meta.detail, now) : statusLines(event, meta);
      }
      case 'join': {
        this.metrics.joins.inc();
        const meta = this.registry.resolve(event);
        return 'kind' in meta ? this.tenantMismatch(topic, message, event, meta.detail, now) : joinLines(event, meta);
      }
      case 'uplink': {
        this.metrics.uplinks.inc();
        // Placed before deduplication: an uplink published under the wrong application must not make the
        // device's genuine uplink with the same counter look like a duplicate.
        const meta = this.registry.resolve(event);
        if ('kind' in meta) return this.tenantMismatch(topic, message, event, meta.detail, now);
        if (this.recent.check(event.devEui, event.fCnt, event.receivedAt.getTime())) {
          this.metrics.duplicates.inc();
          return [];
        }
        let outcome: DecodeOutcome | Promise<DecodeOutcome>;
        try {
          outcome = decodeWith(this.decoders, event, meta);
        } catch (err) {
          outcome = { kind: 'undecoded' as const, reason: 'decoder_error' as const, detail: `decoder failure: ${(err as Error).message}` };
        }
        const before = this.waiting.get(event.devEui);
        if (!before && !(outcome instanceof Promise)) return this.uplinkDone(topic, event, meta, outcome);
        const decoded = outcome;
        const devEui = event.devEui;
        const done = (o: DecodeOutcome): string[] => {
          try {
            return this.uplinkDone(topic, event, meta, o);
          } finally {
            // The last of its device: nothing waits behind it any more.
            if (this.waiting.get(devEui) === lines) this.waiting.delete(devEui);
          }
        };
        const finish = () => Promise.resolve(decoded).then(done);
        // After the device's previous uplink, whatever became of it.
        const lines: Promise<string[]> = before ? before.then(finish, finish) : finish();
        this.waiting.set(devEui, lines);
        return lines;
      }
    }
  }

  /** An uplink's lines once decoded (or not): metrics, log, alert rules. */
  private uplinkDone(topic: string, event: Uplink, meta: DeviceMeta, outcome: DecodeOutcome): string[] {
    if (outcome.kind === 'decoded') {
      this.metrics.decodedBy.decoder.inc();
      for (const kind of decodeWarningKinds(outcome.result)) this.metrics.decodeWarnings.labels(kind).inc();
      if (this.onDecoded) return [...uplinkLines(event, meta, outcome), ...this.gatewayLines(event, meta.tenant), ...this.onDecoded(event.devEui, meta, event.receivedAt, outcome.result.readings)];
    } else if (outcome.kind === 'lns-object') this.metrics.decodedBy.lnsObject.inc();
    else if (outcome.kind === 'undecoded') {
      this.metrics.undecoded.labels(outcome.reason).inc();
      this.badInputLog.warn(
        outcome.reason,
        { topic, devEui: event.devEui, fPort: event.fPort, fCnt: event.fCnt, reason: outcome.reason, detail: outcome.detail },
        'uplink kept raw: not decoded',
      );
    }
    return [...uplinkLines(event, meta, outcome), ...this.gatewayLines(event, meta.tenant)];
  }

  /** `gateway` points for the gateways this uplink names, when due (GatewayLog). */
  private gatewayLines(u: Uplink, tenant: string): string[] {
    const out: string[] = [];
    const t = u.receivedAt.getTime();
    for (const g of u.gatewayInfo ?? []) {
      if (!this.gateways.due(tenant, g, t)) continue;
      const l = gatewayLine(g, u.lns, tenant, t);
      if (l) out.push(l);
    }
    return out;
  }

  /**
   * A valid event that its topic's application may not publish for this device (registry entry or body of another
   * commune): kept raw in `uplink_rejected`, which carries no tenant, so no commune's data or key ever sees it.
   */
  private tenantMismatch(topic: string, message: Buffer, event: LnsEvent, detail: string, now: Date): string[] {
    this.metrics.rejected.labels('tenant_mismatch').inc();
    if (!this.mismatchLogged.has(event.devEui)) {
      if (this.mismatchLogged.size >= 10_000) this.mismatchLogged.clear();
      this.mismatchLogged.add(event.devEui);
      this.log.warn(
        { topic, devEui: event.devEui, lns: event.lns, reason: 'tenant_mismatch', detail },
        'event kept raw, stored under no commune: its topic may not publish for this device (check tenants: in VEILLEUR_CONFIG and the broker ACL); further ones from this device are counted, not logged',
      );
    }
    return [this.rejected(topic, message, { kind: 'rejected', reason: 'tenant_mismatch', lns: event.lns, devEui: event.devEui, detail }, now)];
  }

  /** Rejected messages carry no time of their own: their timestamps are kept unique so none overwrites another. */
  private rejected(topic: string, message: Buffer, rejection: Rejection, now: Date): string {
    const t = Math.max(now.getTime(), this.lastRejectedMs + 1);
    this.lastRejectedMs = t;
    return rejectedLine(topic, message, rejection, t);
  }
}
