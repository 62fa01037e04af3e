/**
 * Evaluates the windowed rules every few minutes (and over history for a backtest), feeding the same alert book
 * as the stream rules. Only InfluxDB is read; a failed evaluation is logged and tried again next round.
 */
import type { Logger } from 'pino';
import type { FileConfig } from '../config/schema.ts';
import type { InfluxTarget } from '../storage/influx.ts';
import { siteCalendars, siteIndex } from '../time/sites.ts';
import type { AlertBook, AlertEvent } from './lifecycle.ts';
import type { SiteNames } from './model.ts';
import type { RulesLookup, SiteRules } from './settings.ts';
import type { WindowContext, WindowedRule } from './rules/define.ts';

/** The occupancy calendar of each site (services/time/sites.ts: the one site lookup, built once per registry). */
export function calendarLookup(sites: FileConfig['sites']): WindowContext['calendarFor'] {
  return siteCalendars(sites).calendar;
}

/** The `rules` settings of each configured site (an entry naming its tenant wins over one for any tenant). */
export function siteRulesLookup(sites: FileConfig['sites']): RulesLookup {
  return siteIndex(sites, (s): SiteRules | undefined => s.rules);
}

/** One round: every rule at `now`; the findings go through the alert book. */
export async function evaluateWindowed(rules: WindowedRule[], book: AlertBook, ctx: WindowContext, log?: Logger): Promise<AlertEvent[]> {
  const events: AlertEvent[] = [];
  for (const rule of rules) {
    try {
      for (const f of await rule.evaluate(ctx)) events.push(...book.apply(f));
    } catch (err) {
      log?.warn({ rule: rule.info.id, err: (err as Error).message }, 'windowed rule not evaluated this round');
    }
  }
  return events;
}

export class WindowedScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly rules: WindowedRule[],
    private readonly book: AlertBook,
    private readonly influx: InfluxTarget,
    private readonly calendarFor: WindowContext['calendarFor'],
    private readonly onEvents: (events: AlertEvent[]) => void,
    private readonly everyMs: number,
    private readonly log: Logger,
    /** Per-site thresholds and `enabled: false` (siteRulesLookup); absent: defaults everywhere. */
    private readonly rulesFor?: RulesLookup,
    /** Display names of the sites for the messages; absent: identifiers. */
    private readonly siteName?: SiteNames,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce(new Date()).finally(() => {
        this.running = undefined;
      });
    };
    // First round soon after start-up (restored alerts are in place by then), then every `everyMs`.
    this.timer = setInterval(tick, this.everyMs);
    setTimeout(tick, Math.min(this.everyMs, 30_000)).unref();
    this.timer.unref();
  }

  async runOnce(now: Date): Promise<AlertEvent[]> {
    const events = await evaluateWindowed(this.rules, this.book, { now, query: (q) => this.influx.query(q), calendarFor: this.calendarFor, rulesFor: this.rulesFor, siteName: this.siteName }, this.log);
    if (events.length) this.onEvents(events);
    return events;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
