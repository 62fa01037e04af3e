/** What the dispatcher needs from a channel: send one notification (one attempt), and close. */
import type { Lang } from './config.ts';
import type { Notification } from './payload.ts';

export interface SendContext {
  attempt: number;
  lang: Lang;
  /** Aborted when shutdown gives up on what is still in flight. */
  signal: AbortSignal;
}

export interface Channel {
  readonly name: string;
  readonly type: 'webhook' | 'email' | 'mqtt';
  /** Where it goes, safe to log: scheme and host only, never a path (webhook URLs often embed a token) or a secret. */
  readonly target: string;
  send(n: Notification, ctx: SendContext): Promise<void>;
  close(): Promise<void>;
}

/** A failed attempt. `permanent`: the receiver refused this notification for good; retrying would not help. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent = false,
    /** The receiver asked to wait this long (HTTP Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function asDeliveryError(err: unknown): DeliveryError {
  return err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err));
}
