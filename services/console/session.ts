/**
 * Console sessions, held by the server: an API key is pasted once at sign-in and never stored; the browser gets a
 * random session id in an HttpOnly, SameSite=Strict cookie, and the server keeps only its SHA-256 (a memory dump
 * does not give usable cookies). A session remembers the key's id, not its rights: each request rebuilds the
 * principal from the key ring, so a key that expires or is removed ends its sessions at once. A person signed in
 * through single sign-on (oidc.ts) has no key: the session holds the person's principal, as the identity provider's
 * claims mapped it, until the ID token expires or the session's limits end it, whichever comes first. Sessions live
 * in memory: a restart signs everyone out, which is the safe side for an instance shared by several communes.
 * Cluster mode: the replicas share them through a NATS bucket (`SharedSessionRecords`, services/cluster/
 * shared-sessions.ts), keyed by the same SHA-256, so any replica behind the proxy honours a session and a sign-out
 * on one ends it on all; this memory is then each replica's cache of the bucket.
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

/**
 * Sessions shared by the replicas (cluster mode): records (`encodeSession`) keyed by the session id's digest,
 * never by the id itself. `follow` reports every change made by any replica (value undefined: ended).
 */
export interface SharedSessionRecords {
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  remove(key: string): Promise<void>;
  follow(onChange: (key: string, value: string | undefined) => void): void;
}

/** Last-seen times are written to the shared records at most this often: idle expiry is 2 h, a minute is noise. */
export const SHARED_TOUCH_MS = 60_000;

export class SessionStore {
  private readonly byDigest = new Map<string, Session>();
  /** Shared mode: the last-seen time and language last written for each session. */
  private readonly written = new Map<string, { lastSeenAt: number; lang: Lang }>();

  constructor(
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly shared?: SharedSessionRecords,
    private readonly onSharedError: (err: Error) => void = () => undefined,
  ) {
    shared?.follow((key, value) => this.onRemote(key, value));
  }

  /**
   * A new session; returns the id for the cookie (the only copy of it). `stored` resolves once the other replicas
   * can find it (at once without sharing): answer the sign-in after it.
   */
  create(keyId: string, lang: Lang, now = Date.now(), person?: Session['person']): { id: string; session: Session; stored: Promise<void> } {
    this.sweep(now);
    this.makeRoom();
    const id = randomBytes(32).toString('base64url');
    const session: Session = { keyId, ...(person ? { person } : {}), csrf: randomBytes(24).toString('base64url'), lang, createdAt: now, lastSeenAt: now };
    const key = digest(id);
    this.byDigest.set(key, session);
    return { id, session, stored: this.write(key, session) };
  }

  /** The live session of a cookie value in this process, refreshed; undefined when unknown, idle too long or too old. */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const key = digest(id);
    const s = this.byDigest.get(key);
    if (!s) return undefined;
    if (this.over(s, now)) {
      this.forget(key);
      return undefined;
    }
    // Another replica's clock may be a little ahead: last-seen never goes back.
    s.lastSeenAt = Math.max(s.lastSeenAt, now);
    const w = this.written.get(key);
    if (this.shared && w && (now - w.lastSeenAt >= SHARED_TOUCH_MS || w.lang !== s.lang)) void this.write(key, s).catch((err: Error) => this.onSharedError(err));
    return s;
  }

  /** Like `get`, and in shared mode a session another replica created and this one has not seen yet. */
  async lookup(id: string | undefined, now = Date.now()): Promise<Session | undefined> {
    const local = this.get(id, now);
    if (local || !this.shared || !id || id.length > 100) return local;
    const key = digest(id);
    let record: string | undefined;
    try {
      record = await this.shared.get(key);
    } catch (err) {
      // NATS unreachable: not signed in on this replica (the person is sent to the sign-in page), and said so.
      this.onSharedError(err as Error);
      return undefined;
    }
    const found = decodeSession(record);
    if (!found || this.over(found, now)) return undefined;
    // Ended meanwhile (a sign-out followed while the record was read): the end wins.
    if (this.ended.has(key)) return undefined;
    this.makeRoom();
    this.byDigest.set(key, found);
    this.written.set(key, { lastSeenAt: found.lastSeenAt, lang: found.lang });
    return this.get(id, now);
  }

  /** The person's language changed (written to the other replicas in shared mode). */
  setLang(id: string | undefined, lang: Lang): void {
    const s = this.get(id);
    if (s) s.lang = lang;
    if (s && id) void this.write(digest(id), s).catch((err: Error) => this.onSharedError(err));
  }

  /** Ends a session here; `end` also on every replica. */
  destroy(id: string | undefined): boolean {
    if (!id) return false;
    const key = digest(id);
    const had = this.byDigest.has(key);
    this.forget(key);
    if (this.shared) void this.shared.remove(key).catch((err: Error) => this.onSharedError(err));
    return had;
  }

  /** Sign-out: resolves once no replica honours the session any more. */
  async end(id: string | undefined): Promise<boolean> {
    if (!id) return false;
    const key = digest(id);
    const had = this.byDigest.has(key);
    this.forget(key);
    await this.shared?.remove(key);
    return had;
  }

  /** Ends every session of a key (a revoked key signs its holders out). */
  destroyKey(keyId: string): number {
    let n = 0;
    for (const [k, s] of this.byDigest) {
      if (s.keyId !== keyId) continue;
      this.forget(k);
      if (this.shared) void this.shared.remove(k).catch((err: Error) => this.onSharedError(err));
      n++;
    }
    return n;
  }

  get size(): number {
    return this.byDigest.size;
  }

  private sweep(now: number): void {
    for (const [k, s] of this.byDigest) if (this.over(s, now)) this.forget(k);
  }

  /** Digests ended recently, so a record read just before its removal is not taken back (bounded). */
  private readonly ended = new Set<string>();

  private forget(key: string): void {
    this.byDigest.delete(key);
    this.written.delete(key);
    if (!this.shared) return;
    this.ended.add(key);
    if (this.ended.size > 1000) this.ended.delete(this.ended.values().next().value!);
  }

  /** The oldest sessions go first beyond the limit (in shared mode they stay in NATS: only this cache forgets them). */
  private makeRoom(): void {
    while (this.byDigest.size >= this.limits.max) {
      const oldest = this.byDigest.keys().next().value!;
      this.byDigest.delete(oldest);
      this.written.delete(oldest);
    }
  }

  private async write(key: string, s: Session): Promise<void> {
    if (!this.shared) return;
    this.written.set(key, { lastSeenAt: s.lastSeenAt, lang: s.lang });
    await this.shared.put(key, encodeSession(s));
  }

  /** Another replica (or this one's echo) created, refreshed or ended a session. */
  private onRemote(key: string, value: string | undefined): void {
    const remote = decodeSession(value);
    if (!remote) {
      if (value === undefined) this.forget(key);
      return;
    }
    if (this.ended.has(key)) return;
    const local = this.byDigest.get(key);
    if (local) {
      local.lastSeenAt = Math.max(local.lastSeenAt, remote.lastSeenAt);
      local.lang = remote.lang;
    } else {
      this.makeRoom();
      this.byDigest.set(key, remote);
    }
    const w = this.written.get(key);
    this.written.set(key, { lastSeenAt: Math.max(w?.lastSeenAt ?? 0, remote.lastSeenAt), lang: remote.lang });
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

/** A session as stored in the shared records: JSON, the person's communes as a list. */
export function encodeSession(s: Session): string {
  const p = s.person;
  return JSON.stringify({
    ...s,
    ...(p ? { person: { expiresAt: p.expiresAt, principal: { ...p.principal, tenants: p.principal.tenants === undefined ? null : [...p.principal.tenants] } } } : {}),
  });
}

/** The session of a stored record; undefined when absent or not a session (a damaged record is no session). */
export function decodeSession(value: string | undefined): Session | undefined {
  if (value === undefined) return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!r || typeof r.keyId !== 'string' || typeof r.csrf !== 'string' || (r.lang !== 'fr' && r.lang !== 'en') || typeof r.createdAt !== 'number' || typeof r.lastSeenAt !== 'number') return undefined;
  const session: Session = { keyId: r.keyId, csrf: r.csrf, lang: r.lang, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt };
  if (r.person !== undefined) {
    const p = r.person as { expiresAt?: unknown; principal?: Record<string, unknown> };
    const pr = p?.principal;
    if (typeof p?.expiresAt !== 'number' || !pr || typeof pr.keyId !== 'string' || typeof pr.name !== 'string' || (pr.role !== 'viewer' && pr.role !== 'operator' && pr.role !== 'admin')) return undefined;
    if (pr.tenants !== null && !(Array.isArray(pr.tenants) && pr.tenants.every((t) => typeof t === 'string'))) return undefined;
    const principal: Principal = { keyId: pr.keyId, name: pr.name, role: pr.role, tenants: pr.tenants === null ? undefined : new Set(pr.tenants as string[]), ...(pr.person ? { person: pr.person as Principal['person'] } : {}) } as Principal;
    session.person = { principal, expiresAt: p.expiresAt };
  }
  return session;
}
