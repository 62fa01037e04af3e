/**
 * Console sessions, held by the server: an API key is pasted once at sign-in and never stored; the browser gets a
 * random session id in an HttpOnly, SameSite=Strict cookie, and the server keeps only its SHA-256 (a memory dump
 * does not give usable cookies). A session remembers the key's id, not its rights: each request rebuilds the
 * principal from the key ring, so a key that expires or is removed ends its sessions at once. A person signed in
 * through single sign-on (oidc.ts) has no key: the session holds the person's principal, as the identity provider's
 * claims mapped it, until the ID token expires or the session's limits end it, whichever comes first. Sessions live
 * in memory: a restart signs everyone out, which is the safe side for an instance shared by several communes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../api/keys.ts';
import type { Lang } from '../registry/names.ts';

export interface Session {
  /** The API key proven at sign-in; for a person, the principal's `oidc:<provider>:<subject>`. */
  keyId: string;
  /** Single sign-on: the person's principal (tenants and role from the provider's claims) and when it ends. */
  person?: { principal: Principal; expiresAt: number } | undefined;
  /** Synchroniser token of the session's forms (CSRF). */
  csrf: string;
  lang: Lang;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out after this long whatever happens (a working day). */
  absoluteMs: number;
  /** Sessions held at once; the oldest go first beyond it. */
  max: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 2 * 3_600_000, absoluteMs: 12 * 3_600_000, max: 10_000 };

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  private readonly byDigest = new Map<string, Session>();

  constructor(private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS) {}

  /** A new session; returns the id for the cookie (the only copy of it). */
  create(keyId: string, lang: Lang, now = Date.now(), person?: Session['person']): { id: string; session: Session } {
    this.sweep(now);
    while (this.byDigest.size >= this.limits.max) this.byDigest.delete(this.byDigest.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const session: Session = { keyId, ...(person ? { person } : {}), csrf: randomBytes(24).toString('base64url'), lang, createdAt: now, lastSeenAt: now };
    this.byDigest.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, refreshed; undefined when unknown, idle too long or too old. */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const key = digest(id);
    const s = this.byDigest.get(key);
    if (!s) return undefined;
    if (this.over(s, now)) {
      this.byDigest.delete(key);
      return undefined;
    }
    s.lastSeenAt = now;
    return s;
  }

  destroy(id: string | undefined): boolean {
    return id ? this.byDigest.delete(digest(id)) : false;
  }

  /** Ends every session of a key (a revoked key signs its holders out). */
  destroyKey(keyId: string): number {
    let n = 0;
    for (const [k, s] of this.byDigest) if (s.keyId === keyId && this.byDigest.delete(k)) n++;
    return n;
  }

  get size(): number {
    return this.byDigest.size;
  }

  private sweep(now: number): void {
    for (const [k, s] of this.byDigest) if (this.over(s, now)) this.byDigest.delete(k);
  }

  private over(s: Session, now: number): boolean {
    return now - s.lastSeenAt > this.limits.idleMs || now - s.createdAt > this.limits.absoluteMs || (s.person !== undefined && now >= s.person.expiresAt);
  }

  /** How long a new session may last at most (the cookie's lifetime). */
  get absoluteMs(): number {
    return this.limits.absoluteMs;
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
