import { describe, expect, it } from 'vitest';
import { fillTopic, topicTemplate, topicTemplateProblem } from '../../services/mqtt/topic.ts';
import { envSchema } from '../../services/config/schema.ts';
import { mqttChannelSchema } from '../../services/alerts/notify/config.ts';

describe('the topic templater (services/mqtt/topic.ts)', () => {
  it('fills every placeholder, and a missing or empty value with _', () => {
    expect(fillTopic('veilleur/alerts/{tenant}/{rule}', { tenant: 'saint-veilleur', rule: 'W7' })).toBe('veilleur/alerts/saint-veilleur/W7');
    expect(fillTopic('{tenant}/{site}/{rule}/{severity}/{event}', { tenant: 't', site: 's', rule: 'E4', severity: 'warning', event: 'opened' })).toBe('t/s/E4/warning/opened');
    expect(fillTopic('a/{site}/{rule}', { site: '' })).toBe('a/_/_');
    expect(fillTopic('fixed/topic', { tenant: 't' })).toBe('fixed/topic');
  });

  it('never lets data add a topic level or a wildcard', () => {
    expect(fillTopic('a/{site}/b', { site: 'x/y+z#' })).toBe('a/x_y_z_/b');
  });

  it('refuses a template with a wildcard, an unknown placeholder or nothing, saying why', () => {
    expect(topicTemplateProblem('veilleur/alerts/{tenant}/{rule}')).toBeUndefined();
    expect(topicTemplateProblem('a/+/b')).toBe('expected a topic without wildcards (placeholders: {tenant} {site} {rule} {severity} {event})');
    expect(topicTemplateProblem('a/#')).toMatch(/without wildcards/);
    expect(topicTemplateProblem('a/{commune}')).toBe("unknown placeholder {commune} in 'a/{commune}' (placeholders: {tenant} {site} {rule} {severity} {event})");
    expect(topicTemplateProblem('')).toBe('expected a topic');
    expect(topicTemplate.safeParse(3).error?.issues[0]?.message).toBe('expected a topic');
  });

  it('checks ALERT_MQTT_TOPIC and the MQTT notification channels with the same rule', () => {
    expect(envSchema.parse({}).ALERT_MQTT_TOPIC).toBe('veilleur/alerts/{tenant}/{rule}');
    const env = envSchema.safeParse({ ALERT_MQTT_TOPIC: 'veilleur/{commune}' });
    expect(env.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['ALERT_MQTT_TOPIC', "unknown placeholder {commune} in 'veilleur/{commune}' (placeholders: {tenant} {site} {rule} {severity} {event})"]]);
    const channel = mqttChannelSchema.safeParse({ type: 'mqtt', topic: 'veilleur/{commune}' });
    expect(channel.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['topic', "unknown placeholder {commune} in 'veilleur/{commune}' (placeholders: {tenant} {site} {rule} {severity} {event})"]]);
  });
});
