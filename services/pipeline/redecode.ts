/**
 * Decodes again the uplinks kept raw in `uplink_undecoded` (no decoder then, or a decoder error), with today's
 * registry and decoders: after a decoder or a registry entry was added, the history comes back as readings at the
 * uplinks' original timestamps. Idempotent: the same readings overwrite themselves, and a decoded raw record is
 * marked (`redecoded_by`) so the next run skips it. The `uplink` points are left as they are (their tags must not
 * change, or the uplink would be counted twice).
 */
import type { Logger } from 'pino';
import type { Uplink } from '../lns/uplink.ts';
import type { Registry } from '../registry/registry.ts';
import type { InfluxTarget } from '../storage/influx.ts';
import { allRows } from '../storage/influx.ts';
import { during, select, type Condition } from '../storage/influxql.ts';
import { escapeTag, lineWithTags } from '../storage/line-protocol.ts';
import { decodedLines } from '../storage/points.ts';
import { UPLINK_UNDECODED } from '../storage/schema.ts';
import { decodeWith, type DecoderResolver } from './decode.ts';

export interface RedecodeOptions {
  from: Date;
  to: Date;
  devEui?: string;
  /** Only these tenants' uplinks (an API key confined to some communes); all when absent. */
  tenants?: string[];
  /** Rows fetched per query. */
  pageSize?: number;
}

export interface RedecodeReport {
  examined: number;
  decoded: number;
  stillUndecoded: number;
  alreadyDone: number;
  linesWritten: number;
}

export async function redecode(
  influx: InfluxTarget,
  registry: Registry,
  decoders: DecoderResolver[],
  opts: RedecodeOptions,
  log?: Logger,
): Promise<RedecodeReport> {
  const report: RedecodeReport = { examined: 0, decoded: 0, stillUndecoded: 0, alreadyDone: 0, linesWritten: 0 };
  const pageSize = opts.pageSize ?? 5000;
  // An empty tenant list reads nothing (the builder's empty OR-list), never every commune.
  const where: Condition[] = [
    ...during(opts.from, opts.to),
    ...(opts.devEui ? [{ tag: 'dev_eui', equals: opts.devEui.toLowerCase() }] : []),
    ...(opts.tenants ? [{ tag: 'tenant', in: opts.tenants }] : []),
  ];
  // Pages by offset (several devices can share a timestamp, so a time cursor could split them); writing the
  // `redecoded_by` marker updates points in place, so offsets stay valid. Bounded by the time range.
  for (let offset = 0; ; offset += pageSize) {
    const q = select({ select: '*', from: UPLINK_UNDECODED.measurement, where, order: 'asc', limit: pageSize, offset });
    const series = await influx.query(q);
    const rows = allRows(series);
    if (rows.length === 0) break;
    const lines: string[] = [];
    for (const row of rows) {
      report.examined++;
      if (row.redecoded_by) {
        report.alreadyDone++;
        continue;
      }
      const uplink = uplinkFromRow(row);
      if (!uplink) {
        report.stillUndecoded++;
        continue;
      }
      const meta = registry.resolve(uplink);
      // The registry now places the device in another commune than the uplink's topic: its readings go nowhere.
      if ('kind' in meta) {
        report.stillUndecoded++;
        continue;
      }
      const outcome = await decodeWith(decoders, uplink, meta);
      if (outcome.kind !== 'decoded') {
        report.stillUndecoded++;
        continue;
      }
      // Readings and events only: the `uplink` point is left untouched.
      lines.push(...decodedLines(uplink, meta, outcome.result));
      const marker = lineWithTags(
        UPLINK_UNDECODED.measurement,
        `,dev_eui=${escapeTag(String(row.dev_eui))},reason=${escapeTag(String(row.reason))},tenant=${escapeTag(String(row.tenant))}`,
        { redecoded_by: outcome.by },
        uplink.receivedAt.getTime(),
      );
      if (marker) lines.push(marker);
      report.decoded++;
    }
    if (lines.length) {
      await influx.write(Buffer.from(`${lines.join('\n')}\n`));
      report.linesWritten += lines.length;
    }
    log?.info({ ...report }, 'redecode progress');
    if (rows.length < pageSize) break;
  }
  return report;
}

function uplinkFromRow(row: Record<string, unknown>): Uplink | undefined {
  const str = (k: string) => (typeof row[k] === 'string' ? (row[k] as string) : '');
  let tags: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(str('lns_tags') || '{}');
    if (parsed && typeof parsed === 'object') tags = parsed as Record<string, string>;
  } catch {
    // Records written before the LNS identity was kept: decoded with the registry alone.
  }
  const lns = str('lns');
  const payload = Buffer.from(str('payload_b64'), 'base64');
  if (!str('dev_eui') || payload.length === 0) return undefined;
  // Stored uplinks passed the topic check: their application id is the topic's (and TTS's tenant is the topic's).
  const fromTopic = lns === 'chirpstack-v4' || lns === 'chirpstack-v3' || lns === 'tts-v3';
  return {
    kind: 'uplink',
    lns: lns === 'chirpstack-v3' || lns === 'tts-v3' ? lns : 'chirpstack-v4',
    topic: str('topic'),
    lnsTenant: str('lns_tenant'),
    ...(fromTopic && str('application_id') ? { topicApplication: str('application_id') } : {}),
    ...(lns === 'tts-v3' && str('lns_tenant') ? { topicTenant: str('lns_tenant') } : {}),
    applicationId: str('application_id'),
    applicationName: str('application_name'),
    devEui: str('dev_eui'),
    deviceName: str('device_name'),
    deviceProfile: str('device_profile'),
    tags,
    fPort: Number(row.f_port ?? 0),
    fCnt: Number(row.f_cnt ?? 0),
    payload,
    receivedAt: new Date(Number(row.time)),
    confirmed: false,
    radio: { gateways: 0 },
  };
}
