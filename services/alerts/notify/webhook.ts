/**
 * Webhook channel: one signed JSON POST per notification (docs/notifications.md). A 2xx reply is a delivery;
 * 408, 425, 429 and 5xx replies, timeouts and network errors are retried; other replies (a 4xx, a redirect) mean
 * the receiver refuses this request as it is, and are not.
 */
import type { WebhookChannelConfig } from './config.ts';
import { DeliveryError, type Channel, type SendContext } from './channel.ts';
import { notificationBody, type Notification } from './payload.ts';
import { signatureHeader } from './signature.ts';

export const USER_AGENT = 'Veilleur-Webhook/1';

export function webhookChannel(name: string, cfg: WebhookChannelConfig, secret: string): Channel {
  const u = new URL(cfg.url);
  return {
    name,
    type: 'webhook',
    target: `${u.protocol}//${u.host}`,
    async send(n: Notification, ctx: SendContext) {
      const body = notificationBody(n);
      // Signed at each attempt, so that the timestamp is fresh even after a long back-off.
      const t = Math.floor(Date.now() / 1000);
      // A timer of our own rather than AbortSignal.any([…, AbortSignal.timeout()]): on Node 20 a timeout signal only
      // held by a composite can be garbage-collected before it fires, and the request then hangs.
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, cfg.timeoutMs);
      const onShutdown = () => abort.abort();
      ctx.signal.addEventListener('abort', onShutdown, { once: true });
      let res: Response;
      try {
        res = await fetch(cfg.url, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': USER_AGENT,
            'idempotency-key': n.id,
            'x-veilleur-event': n.kind === 'event' ? n.event.type : 'summary',
            'x-veilleur-attempt': String(ctx.attempt),
            'x-veilleur-signature': signatureHeader(secret, t, body),
          },
          // A redirect would replay the signed request to another address: not followed.
          redirect: 'manual',
          signal: abort.signal,
        });
        // Only the status matters: the reply body is discarded unread.
        await res.body?.cancel().catch(() => undefined);
      } catch (err) {
        throw new DeliveryError(timedOut ? `no response within ${cfg.timeoutMs} ms` : ctx.signal.aborted ? 'aborted at shutdown' : describeFetchError(err));
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onShutdown);
      }
      if (res.ok) return;
      const status = res.status;
      if (status >= 300 && status < 400) throw new DeliveryError(`HTTP ${status}: redirects are not followed; configure the final URL`, true);
      const transient = status === 408 || status === 425 || status === 429 || status >= 500;
      throw new DeliveryError(`HTTP ${status}`, !transient, transient ? retryAfterMs(res.headers.get('retry-after')) : undefined);
    },
    async close() {},
  };
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** "fetch failed" says nothing: the cause's code (ECONNREFUSED, ENOTFOUND…) does. The URL is never included. */
function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message} (${cause})` : (e?.message ?? String(err));
}
