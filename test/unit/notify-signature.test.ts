import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../services/alerts/notify/signature.ts';
import { retryAfterMs } from '../../services/alerts/notify/webhook.ts';

const secret = 'a-shared-secret-of-32-characters';
const body = JSON.stringify({ id: 'alert-1:opened:1768208400000', event: 'opened', message: 'Présence d’eau' });
const t = 1_768_208_400;
const nowMs = t * 1000 + 20_000;

describe('webhook signature', () => {
  it('is HMAC-SHA256 of "t.body" in hex, as a receiver recomputes it independently', () => {
    const header = signatureHeader(secret, t, body);
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${expected}`);
    // Over the bytes received: a Buffer and the string give the same result.
    expect(verifySignature(secret, header, Buffer.from(body, 'utf8'), { nowMs })).toEqual({ ok: true, timestampS: t });
  });

  it('refuses a changed body, another secret, a replay outside the tolerance, and a malformed header', () => {
    const header = signatureHeader(secret, t, body);
    expect(verifySignature(secret, header, body.replace('opened', 'resolved'), { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('another-secret-0123456789', header, body, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(secret, header, body, { nowMs: (t + 301) * 1000 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(secret, header, body, { nowMs: (t + 3600) * 1000, toleranceS: 7200 })).toMatchObject({ ok: true });
    // The timestamp is signed: moving it forward to pass the tolerance breaks the signature.
    expect(verifySignature(secret, header.replace(`t=${t}`, `t=${t + 600}`), body, { nowMs: (t + 600) * 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    for (const bad of [undefined, '', 'v1=abc', `t=${t}`, `t=x,v1=${'0'.repeat(64)}`, `t=${t},v1=zz`]) {
      expect(verifySignature(secret, bad, body, { nowMs })).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('accepts any of several v1 values, so that a receiver can rotate its secret', () => {
    const header = signatureHeader(secret, t, body);
    const other = signatureHeader('the-previous-secret-0123', t, body).split('v1=')[1];
    expect(verifySignature(secret, `${header},v1=${other}`, body, { nowMs })).toMatchObject({ ok: true });
    expect(verifySignature(secret, `t=${t},v1=${other}`, body, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs('Mon, 12 Jan 2026 09:01:00 GMT', Date.parse('2026-01-12T09:00:00Z'))).toBe(60_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
