/** The AlertSink's own logic: which events are stored where, and that a refused store is said, not silent. */
import { describe, expect, it } from 'vitest';
import { AlertBook, type AlertEvent } from '../../services/alerts/lifecycle.ts';
import { leakSensorWet } from '../../services/alerts/rules/stream.ts';
import { AlertSink, type AlertOutlets } from '../../services/alerts/sink.ts';

function outlets(storeOk = true) {
  const seen = { stored: [] as string[], published: [] as string[], notified: [] as string[], errors: [] as unknown[] };
  const out: AlertOutlets = {
    store: (lines) => (seen.stored.push(...lines), storeOk),
    publish: (topic) => void seen.published.push(topic),
    notify: (e) => void seen.notified.push(`${e.alert.ruleId} ${e.type}`),
    mqttTopic: 'veilleur/alerts/{tenant}/{rule}/{event}',
    log: { error: ((obj: unknown) => void seen.errors.push(obj)) as never },
  };
  return { out, seen };
}

function leakOpened(): AlertEvent {
  const book = new AlertBook(() => 'alert-1');
  const subject = { tenant: 'saint-veilleur', site: 'mairie', devEui: '24e124126c140001', device: 'fuite' };
  return book.apply(leakSensorWet.evaluate({ subject, role: 'leak-sensor', at: new Date('2026-01-12T09:00:00Z'), values: { 'water.leak': true } })!)[0]!;
}

describe('AlertSink', () => {
  it('hands an uplink its events as lines for its own write, and publishes and notifies them without storing them apart', () => {
    const { out, seen } = outlets();
    const lines = new AlertSink(out).withUplink([leakOpened()]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alert_event,/);
    expect(seen).toMatchObject({ stored: [], published: ['veilleur/alerts/saint-veilleur/W7/opened'], notified: ['W7 opened'] });
  });

  it('stores recorded events through the store, then publishes and notifies each once', () => {
    const { out, seen } = outlets();
    new AlertSink(out).record([leakOpened()]);
    expect(seen.stored).toHaveLength(1);
    expect(seen.published).toEqual(['veilleur/alerts/saint-veilleur/W7/opened']);
    expect(seen.notified).toEqual(['W7 opened']);
  });

  it('says when the spool refuses the events, and still publishes and notifies them', () => {
    const { out, seen } = outlets(false);
    new AlertSink(out).record([leakOpened()]);
    expect(seen.errors).toEqual([{ events: ['opened alert-1'] }]);
    expect(seen.notified).toEqual(['W7 opened']);
  });

  it('does nothing for no events', () => {
    const { out, seen } = outlets();
    const sink = new AlertSink(out);
    expect(sink.withUplink([])).toEqual([]);
    sink.record([]);
    expect(seen).toEqual({ stored: [], published: [], notified: [], errors: [] });
  });
});
