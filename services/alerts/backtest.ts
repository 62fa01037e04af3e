/**
 * Runs windowed rules over history: the rule is evaluated as it would have been every `stepMs` between `from`
 * and `to`, with a fresh alert book, and the alerts it would have raised are returned ("backtest this rule over
 * the last 90 days" before changing a threshold).
 */
import { AlertBook, type AlertEvent } from './lifecycle.ts';
import { evaluateWindowed } from './scheduler.ts';
import type { WindowContext, WindowedRule } from './rules/define.ts';

export interface BacktestOptions {
  from: Date;
  to: Date;
  stepMs: number;
  /** Evaluations at most, a bound on the work one request can ask for. */
  maxSteps?: number;
}

export async function backtest(rules: WindowedRule[], ctx: Omit<WindowContext, 'now'>, opts: BacktestOptions): Promise<AlertEvent[]> {
  const steps = Math.floor((opts.to.getTime() - opts.from.getTime()) / opts.stepMs) + 1;
  const max = opts.maxSteps ?? 5000;
  if (steps > max) throw new RangeError(`backtest: ${steps} evaluations requested, at most ${max}: widen the step or shorten the period`);
  const book = new AlertBook();
  const events: AlertEvent[] = [];
  for (let t = opts.from.getTime(); t <= opts.to.getTime(); t += opts.stepMs) {
    events.push(...(await evaluateWindowed(rules, book, { ...ctx, now: new Date(t) })));
  }
  return events;
}
