/**
 * The one topic templater: the alert topic (ALERT_MQTT_TOPIC) and the topics of MQTT notification routes are
 * templates such as 'veilleur/alerts/{tenant}/{rule}', validated when the configuration is read and filled here.
 */
import { z } from 'zod';

/** What a template may name; the alert events give every one of them. */
export const TOPIC_PLACEHOLDERS = ['tenant', 'site', 'rule', 'severity', 'event'] as const;
export type TopicPlaceholder = (typeof TOPIC_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{(\w+)\}/g;
const listed = TOPIC_PLACEHOLDERS.map((p) => `{${p}}`).join(' ');

/** Why a template cannot be used, or undefined when it is fine. */
export function topicTemplateProblem(template: string): string | undefined {
  if (template.length === 0) return 'expected a topic';
  // A wildcard is for subscribing: publishing on it is refused by the broker.
  if (/[+#]/.test(template)) return `expected a topic without wildcards (placeholders: ${listed})`;
  const unknown = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).find((k) => !(TOPIC_PLACEHOLDERS as readonly string[]).includes(k));
  if (unknown !== undefined) return `unknown placeholder {${unknown}} in '${template}' (placeholders: ${listed})`;
  return undefined;
}

/** A topic template in a configuration (environment variable or file), refused with the reason when unusable. */
export const topicTemplate = z.string({ error: 'expected a topic' }).superRefine((t, ctx) => {
  const message = topicTemplateProblem(t);
  if (message) ctx.addIssue({ code: 'custom', message });
});

/**
 * 'veilleur/alerts/{tenant}/{rule}' with { tenant: 'saint-veilleur', rule: 'W7' } → 'veilleur/alerts/saint-veilleur/W7'.
 * Data never adds topic levels or wildcards: '/', '+' and '#' in a value become '_', and so does an empty value.
 */
export function fillTopic(template: string, values: Partial<Record<TopicPlaceholder, string>>): string {
  return template.replace(PLACEHOLDER, (_, k: string) => (values[k as TopicPlaceholder] ?? '').replace(/[/+#]/g, '_') || '_');
}
