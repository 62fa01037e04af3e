/**
 * The alert lifecycle: open → acknowledged (who, when, comment) → resolved (automatically once the condition has
 * stayed clear for the rule's `clearAfterMs`, so it does not flap; or by hand). One open alert per (rule, subject)
 * at a time: further firing findings update it, and only an escalation of severity is a new event to notify.
 * A hand-resolved alert whose condition still holds is not reopened until the condition has cleared once.
 */
import { randomUUID } from 'node:crypto';
import { SEVERITY_ORDER, subjectKey, type Alert, type Finding } from './model.ts';

export interface AlertEvent {
  type: 'opened' | 'escalated' | 'acknowledged' | 'resolved';
  at: Date;
  /** The alert as it stood at `at`: a copy, so later findings do not rewrite the history of earlier events. */
  alert: Alert;
}

function event(type: AlertEvent['type'], at: Date, alert: Alert): AlertEvent {
  return { type, at, alert: structuredClone(alert) };
}

export class AlertBook {
  private readonly active = new Map<string, Alert>();
  private readonly clearSince = new Map<string, number>();
  /** Resolved by hand while still firing: stays quiet until the condition clears. */
  private readonly waitForClear = new Set<string>();

  constructor(private readonly newId: () => string = randomUUID) {}

  apply(f: Finding): AlertEvent[] {
    const key = `${f.rule.id}|${subjectKey(f.subject)}`;
    const current = this.active.get(key);
    if (!f.firing && f.pending) {
      this.clearSince.delete(key);
      return [];
    }
    if (!f.firing) {
      this.waitForClear.delete(key);
      if (!current) return [];
      const since = this.clearSince.get(key) ?? f.at.getTime();
      this.clearSince.set(key, since);
      if (f.at.getTime() - since < f.rule.clearAfterMs) return [];
      current.state = 'resolved';
      current.endedAt = f.at;
      current.resolved = { by: 'veilleur', at: f.at, comment: 'condition cleared' };
      this.active.delete(key);
      this.clearSince.delete(key);
      return [event('resolved', f.at, current)];
    }
    this.clearSince.delete(key);
    if (this.waitForClear.has(key)) return [];
    if (!current) {
      const alert: Alert = {
        id: this.newId(),
        ruleId: f.rule.id,
        ruleVersion: f.rule.version,
        category: f.rule.category,
        title: f.rule.title,
        severity: f.severity,
        subject: f.subject,
        state: 'open',
        startedAt: f.window.from < f.at ? f.window.from : f.at,
        lastFiringAt: f.at,
        window: f.window,
        thresholds: f.thresholds,
        measured: f.measured,
        message: f.message,
        source: f.rule.source,
        action: f.rule.action,
      };
      this.active.set(key, alert);
      return [event('opened', f.at, alert)];
    }
    const escalated = SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[current.severity];
    current.lastFiringAt = f.at;
    current.window = { from: current.window.from, to: f.window.to };
    current.measured = f.measured;
    current.message = f.message;
    if (escalated) {
      current.severity = f.severity;
      current.thresholds = f.thresholds;
      return [event('escalated', f.at, current)];
    }
    return [];
  }

  acknowledge(id: string, by: string, comment: string, at = new Date()): AlertEvent | undefined {
    const alert = this.find(id);
    if (!alert || alert.state !== 'open') return undefined;
    alert.state = 'acknowledged';
    alert.acknowledged = { by, at, comment };
    return event('acknowledged', at, alert);
  }

  resolve(id: string, by: string, comment: string, at = new Date()): AlertEvent | undefined {
    for (const [key, alert] of this.active) {
      if (alert.id !== id) continue;
      alert.state = 'resolved';
      alert.endedAt = at;
      alert.resolved = { by, at, comment };
      this.active.delete(key);
      this.clearSince.delete(key);
      this.waitForClear.add(key);
      return event('resolved', at, alert);
    }
    return undefined;
  }

  /** Puts back alerts that were open before a restart (see store.ts); one raised since then takes precedence. */
  restore(alerts: Alert[]): void {
    for (const a of alerts) {
      const key = `${a.ruleId}|${subjectKey(a.subject)}`;
      if (!this.active.has(key)) this.active.set(key, a);
    }
  }

  /**
   * Cluster mode (services/cluster/alerts.ts): the state another replica recorded for this (rule, subject) replaces
   * this book's. `quiet`: resolved by a person while firing, so not reopened here before the condition clears.
   */
  adopt(alert: Alert, quiet = false): void {
    const key = `${alert.ruleId}|${subjectKey(alert.subject)}`;
    if (alert.state !== 'resolved') {
      this.active.set(key, alert);
      this.waitForClear.delete(key);
      return;
    }
    if (this.active.get(key)?.id === alert.id) {
      this.active.delete(key);
      this.clearSince.delete(key);
    }
    if (quiet) this.waitForClear.add(key);
  }

  find(id: string): Alert | undefined {
    for (const a of this.active.values()) if (a.id === id) return a;
    return undefined;
  }

  /** Open and acknowledged alerts. */
  list(): Alert[] {
    return [...this.active.values()];
  }
}
