import { parseArgs } from 'node:util';
import { backtest } from '../alerts/backtest.ts';
import { calendarLookup, siteRulesLookup } from '../alerts/scheduler.ts';
import { defaultWindowedRules } from '../alerts/rules/index.ts';
import { loadConfig } from '../config/load.ts';
import { displayNames } from '../registry/names.ts';
import { createInfluxTarget } from '../storage/influx.ts';

/** `veilleur backtest --rule W1 [--from T] [--to T] [--step-hours H]`: the alerts a rule would have raised. */
export async function backtestCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { rule: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'step-hours': { type: 'string', default: '1' } } });
  const rules = defaultWindowedRules();
  const rule = rules.find((r) => r.info.id.toLowerCase() === (values.rule ?? '').toLowerCase());
  const fail = (m: string) => {
    process.stderr.write(`veilleur backtest: ${m}\n`);
    return 2;
  };
  if (!rule) return fail(`--rule: expected one of ${rules.map((r) => r.info.id).join(', ')}`);
  const to = values.to ? new Date(values.to) : new Date();
  const from = values.from ? new Date(values.from) : new Date(to.getTime() - 90 * 86_400_000);
  const step = Number(values['step-hours']);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) return fail('--from/--to: expected RFC 3339 times, from before to');
  if (!Number.isFinite(step) || step <= 0) return fail(`--step-hours: expected a positive number, got '${values['step-hours']}'`);
  const cfg = loadConfig();
  const influx = createInfluxTarget(cfg.influx);
  const events = await backtest([rule], { query: (q) => influx.query(q), calendarFor: calendarLookup(cfg.registry.sites), rulesFor: siteRulesLookup(cfg.registry.sites), siteName: displayNames(cfg.registry).site }, { from, to, stepMs: step * 3_600_000 });
  for (const e of events) {
    process.stdout.write(`${JSON.stringify({ event: e.type, at: e.at.toISOString(), rule: e.alert.ruleId, subject: e.alert.subject, message: e.alert.message, measured: e.alert.measured })}\n`);
  }
  process.stderr.write(`backtest ${rule.info.id}: ${events.filter((e) => e.type === 'opened').length} alert(s) opened between ${from.toISOString()} and ${to.toISOString()}\n`);
  return 0;
}
