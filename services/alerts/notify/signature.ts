/**
 * Webhook signatures. The header is `X-Veilleur-Signature: t=<unix seconds>,v1=<hex>` where hex is
 * HMAC-SHA256(secret, `${t}.${raw body}`). Signing the timestamp with the body lets a receiver refuse a captured
 * request replayed later (outside its tolerance), and an idempotency key (the event id) makes retries harmless.
 * docs/notifications.md shows a receiver's check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-veilleur-signature';
export const DEFAULT_TOLERANCE_S = 300;

/** Over the raw bytes: a receiver must check the body as received, before any JSON parsing. */
export function signature(secret: string, timestampS: number, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret).update(`${timestampS}.`, 'utf8');
  return (typeof body === 'string' ? hmac.update(body, 'utf8') : hmac.update(body)).digest('hex');
}

export function signatureHeader(secret: string, timestampS: number, body: string): string {
  return `t=${timestampS},v1=${signature(secret, timestampS, body)}`;
}

export type VerifyResult = { ok: true; timestampS: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * A receiver's check, exported for Node receivers and the tests: the header parses, the timestamp is within
 * `toleranceS` of now, and one of the v1 values matches (several v1 values are accepted, for secret rotation).
 */
export function verifySignature(secret: string, header: string | undefined, rawBody: string | Buffer, opts: { toleranceS?: number; nowMs?: number } = {}): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'malformed' };
  const now = (opts.nowMs ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signature(secret, t, rawBody), 'hex');
  // Constant-time comparison: the time taken does not tell how many leading bytes matched.
  const match = v1.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
  return match ? { ok: true, timestampS: t } : { ok: false, reason: 'mismatch' };
}
