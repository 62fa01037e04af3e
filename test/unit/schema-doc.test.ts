import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ALERT_EVENT, DEVICE_EVENT, DEVICE_LOCATION, DEVICE_STATUS, GATEWAY, LNS_OBJECT, UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from '../../services/storage/schema.ts';

// docs/schema.md is what operators and dashboard authors read: it must name every measurement and field the code writes.
describe('docs/schema.md', () => {
  const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');

  it('documents every uplink measurement and field', () => {
    for (const m of [UPLINK, UPLINK_UNDECODED, UPLINK_REJECTED, LNS_OBJECT, DEVICE_STATUS, DEVICE_EVENT, DEVICE_LOCATION, GATEWAY, ALERT_EVENT]) {
      expect(doc).toContain(`\`${m.measurement}\``);
      if (typeof m.fields === 'object') for (const f of Object.keys(m.fields)) expect(doc, `${m.measurement}.${f}`).toContain(`\`${f}\``);
    }
  });

  it('documents every reading field with its unit and quantity', () => {
    for (const [id, q] of Object.entries(QUANTITIES)) {
      expect(doc, id).toContain(`| \`${q.field}\` | ${q.type === 'boolean' ? 'boolean' : 'float'} | ${q.unit || '–'} | \`${id}\` |`);
      expect(doc).toContain(`### \`${q.measurement}\``);
    }
  });
});
