/**
 * `veilleur retention …`: see and change how long each data class is kept, with the audit log of every change.
 * Connection from the same environment variables as `serve` (INFLUX_*, VEILLEUR_CONFIG).
 */
import { defaultRetention } from '../retention/config.ts';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { applyChanges, applyRetention, currentRetention, localActor, RetentionError } from '../retention/apply.ts';
import { listAudit } from '../retention/audit.ts';
import { RetentionBackendError } from '../retention/backend.ts';
import { CONFIGURABLE_CLASSES, canonicalDuration, type ConfigurableClass } from '../retention/classes.ts';
import { createInfluxTarget } from '../storage/influx.ts';

const USAGE = `usage: veilleur retention <show|set|apply|log> [options]

  show                        applied and configured retention of each data class, as JSON
  set CLASS=DURATION… --reason TEXT [--by NAME]
                              change retention now (classes: ${CONFIGURABLE_CLASSES.join(', ')}; durations: 90d, 2w, 36h, inf);
                              shortening needs --reason. Keep VEILLEUR_CONFIG in step: the next start applies it again
  apply                       apply the configuration file's retention: key now (what start-up does)
  log [--tenant T] [--from T] [--to T] [--limit N]
                              the audit log, newest first, one JSON object per line
`;

function fail(message: string): number {
  process.stderr.write(`veilleur retention: ${message}\n`);
  return 2;
}

function time(name: string, v: string | undefined): Date | undefined | Error {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? new Error(`${name}: expected an RFC 3339 time, got '${v}'`) : d;
}

export async function retentionCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { reason: { type: 'string' }, by: { type: 'string' }, tenant: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' } },
  });
  const cfg = loadConfig();
  const influx = createInfluxTarget(cfg.influx);
  // No logger: what changed is printed as the audit entries themselves (stdout stays JSON).
  const deps = { influx, influxConfig: cfg.influx };
  try {
    switch (sub) {
      case 'show':
        process.stdout.write(`${JSON.stringify(await currentRetention({ ...deps, retention: cfg.registry.retention ?? defaultRetention() }), null, 2)}\n`);
        return 0;
      case 'apply': {
        if (!cfg.registry.retention) return fail(`apply: no retention: section in ${cfg.configFile ?? 'the configuration (VEILLEUR_CONFIG is not set)'}; write the decided durations there first`);
        const report = await applyRetention({ ...deps, retention: cfg.registry.retention, ...(cfg.configFile ? { configFile: cfg.configFile } : {}) });
        for (const e of report.entries) process.stdout.write(`${JSON.stringify(e)}\n`);
        if (report.entries.length === 0) process.stderr.write('veilleur retention: nothing to change\n');
        return 0;
      }
      case 'set': {
        const wanted: Partial<Record<ConfigurableClass, string>> = {};
        for (const p of positionals) {
          const [cls = '', duration = '', ...extra] = p.split('=');
          if (!(CONFIGURABLE_CLASSES as readonly string[]).includes(cls) || extra.length > 0) {
            return fail(`'${p}': expected CLASS=DURATION with CLASS one of ${CONFIGURABLE_CLASSES.join(', ')} (e.g. raw=90d)`);
          }
          try {
            wanted[cls as ConfigurableClass] = canonicalDuration(duration);
          } catch (err) {
            return fail(`retention.${cls}: ${(err as Error).message}`);
          }
        }
        if (positionals.length === 0) return fail(`set: expected CLASS=DURATION (e.g. raw=90d)\n${USAGE}`);
        const report = await applyChanges(deps, { retention: wanted, actor: values.by ?? localActor(), ...(values.reason ? { reason: values.reason } : {}), source: 'cli' });
        for (const e of report.entries) process.stdout.write(`${JSON.stringify(e)}\n`);
        if (report.entries.length === 0) process.stderr.write('veilleur retention: already applied; nothing changed\n');
        for (const [cls, d] of Object.entries(wanted)) {
          const inFile = cfg.registry.retention?.[cls as ConfigurableClass];
          if (cfg.configFile && cfg.registry.retention && inFile !== d) process.stderr.write(`veilleur retention: note: ${cfg.configFile} asks for retention.${cls}: ${inFile}; update it, or the next start changes it back\n`);
        }
        return 0;
      }
      case 'log': {
        const from = time('--from', values.from);
        const to = time('--to', values.to);
        for (const t of [from, to]) if (t instanceof Error) return fail(t.message);
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return fail(`--limit: expected a positive whole number, got '${values.limit}'`);
        const entries = await listAudit(influx, {
          ...(values.tenant ? { tenant: values.tenant } : {}),
          ...(from ? { from: from as Date } : {}),
          ...(to ? { to: to as Date } : {}),
          ...(limit ? { limit } : {}),
        });
        for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
        return 0;
      }
      default:
        return fail(`unknown subcommand '${sub}'\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof RetentionError) return fail(err.message);
    if (err instanceof RetentionBackendError) {
      process.stderr.write(`veilleur retention: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
