/** Prometheus metrics of one service instance (served at /metrics). Label values are bounded codes. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'veilleur_' });
  const c = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] });
  const messages = c('veilleur_mqtt_messages_total', 'MQTT messages received, by what they turned out to be', ['kind']);
  const decoded = c('veilleur_uplinks_decoded_total', 'Uplinks turned into readings, by source of the decoding', ['by']);
  const undecoded = c('veilleur_uplinks_undecodable_total', 'Uplinks kept raw because no decoder could decode them', ['reason']);
  const rejected = c('veilleur_messages_rejected_total', 'Messages kept raw because they were not a valid network-server event, or one their topic may not publish for that device (tenant_mismatch)', ['reason']);
  return {
    registry,
    uplinks: messages.labels('uplink'),
    statusEvents: messages.labels('status'),
    joins: messages.labels('join'),
    ignored: messages.labels('ignored'),
    locations: messages.labels('location'),
    /** Valid network-server events Veilleur does not store, by format and kind of event (bounded codes, 'other' beyond the known ones). */
    ignoredEvents: c('veilleur_lns_events_ignored_total', 'Valid network-server events counted but not stored, by network server and kind of event', ['lns', 'kind']),
    duplicates: c('veilleur_uplinks_duplicate_total', 'Uplinks received again (QoS 1 redelivery, re-publication) and not stored twice'),
    decodedBy: { decoder: decoded.labels('decoder'), lnsObject: decoded.labels('lns-object') },
    /** Decoded uplinks whose decoder warned, by kind (pipeline/decode.ts decodeWarningKinds: partial, fport, other). */
    decodeWarnings: c('veilleur_uplinks_decode_warnings_total', 'Decoded uplinks whose decoder warned: partial (bytes left undecoded), fport (undocumented port, frame identified itself), other', ['kind']),
    undecoded,
    rejected,
    pointsWritten: c('veilleur_points_written_total', 'Lines of line protocol InfluxDB accepted'),
    writeFailures: c('veilleur_write_failures_total', 'InfluxDB write attempts that failed and will be retried'),
    writeRejected: c('veilleur_write_rejected_lines_total', 'Lines in batches InfluxDB refused as invalid (not retried)'),
    writeSeconds: new Histogram({
      name: 'veilleur_write_seconds',
      help: 'Duration of InfluxDB batch writes',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    spoolBytes: new Gauge({ name: 'veilleur_spool_bytes', help: 'Bytes in the on-disk spool not yet written to InfluxDB', registers: [registry] }),
    backpressureSeconds: c('veilleur_backpressure_seconds_total', 'Time spent not acknowledging the broker because the spool was full'),
    mqttConnected: new Gauge({ name: 'veilleur_mqtt_connected', help: '1 when connected to the broker', registers: [registry] }),
    // Singleton jobs: summed over the replicas of a cluster, each period's round counts once (docs/scaling.md).
    jobRounds: c('veilleur_job_rounds_total', 'Rounds of the singleton jobs run by this process (windowed: one per evaluation slot)', ['job']),
    rollupPeriods: c('veilleur_rollup_periods_total', 'Rollup periods computed and written by this process, by resolution', ['resolution']),
    jobsLeader: new Gauge({ name: 'veilleur_cluster_jobs_leader', help: '1 while this replica holds the jobs lease (windowed rules, rollups, retention)', registers: [registry] }),
    alertClaims: c('veilleur_cluster_alert_claims_total', 'Alert events claimed in NATS before being stored and notified: accepted, or refused because another replica recorded the alert first', ['outcome']),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
