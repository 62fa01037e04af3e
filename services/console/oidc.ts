/**
 * OpenID Connect sign-in to the console with openid-client: authorization code flow with PKCE (S256), state and
 * nonce. A sign-in starts with a random login id in a short-lived cookie (SameSite=Lax: the provider's redirect back
 * is a cross-site navigation); the state, nonce, PKCE verifier and destination stay on the server, under the login
 * id's hash, and are used once. The callback must come back to the provider's own path (no mix-up between
 * providers), with that cookie, within 10 minutes.
 *
 * The provider's metadata is discovered on first use and kept; a provider that does not answer is tried again at
 * the next sign-in. http:// issuers are accepted on loopback only (oidc-config.ts), for tests and a first try.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import type { Lang } from '../registry/names.ts';
import type { OidcConfig, OidcProviderConfig } from './oidc-config.ts';

export const LOGIN_COOKIE = 'veilleur_oidc';
/** How long a person may take at the provider (login, second factor) before the callback is refused. */
export const LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

export interface PendingLogin {
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go once signed in (a console path, already checked). */
  next: string;
  lang: Lang;
  createdAt: number;
}

export interface SignedInPerson {
  claims: Record<string, unknown>;
  subject: string;
  /** When the ID token expires (ms since the epoch). */
  expiresAt: number;
}

export class OidcError extends Error {
  constructor(
    /** `unavailable`: the provider did not answer (503); `refused`: the answer did not check out (400). */
    readonly kind: 'unavailable' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

interface Runtime {
  cfg: OidcProviderConfig;
  auth: () => Promise<client.ClientAuth>;
  configuration?: Promise<client.Configuration> | undefined;
}

/**
 * Pending logins shared by the replicas (cluster mode, services/cluster/shared-sessions.ts), so that the provider's
 * redirect back may reach any of them: `take` reads and removes a record atomically (one replica gets it, once).
 */
export interface SharedLoginRecords {
  put(key: string, value: string): Promise<void>;
  take(key: string): Promise<string | undefined>;
}

export interface OidcOptions {
  /** Where clientSecretEnv is read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Cluster mode: pending logins kept in NATS rather than in this process. */
  shared?: SharedLoginRecords | undefined;
}

export class OidcLogins {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly pending = new Map<string, PendingLogin>();
  private readonly shared: SharedLoginRecords | undefined;

  /** Reads secrets and key files now, so that a missing one stops the start-up with the path at fault. */
  constructor(
    readonly config: OidcConfig,
    opts: OidcOptions = {},
  ) {
    const env = opts.env ?? process.env;
    this.shared = opts.shared;
    config.providers.forEach((p, i) => {
      const where = `oidc.providers[${i}]`;
      let auth: () => Promise<client.ClientAuth>;
      if (p.privateKeyJwt) {
        const file = p.privateKeyJwt.keyFile;
        let der: Buffer;
        try {
          der = createPrivateKey(readFileSync(file)).export({ type: 'pkcs8', format: 'der' });
        } catch (err) {
          throw new Error(`${where}.privateKeyJwt.keyFile: cannot read a private key from ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
        const alg = p.privateKeyJwt.alg;
        const algorithm = alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : alg === 'PS256' ? { name: 'RSA-PSS', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
        const kid = p.privateKeyJwt.kid;
        auth = async () => {
          // The global Web Crypto: its CryptoKey is the type openid-client takes (node:crypto's differs in @types/node 24).
          const key = await crypto.subtle.importKey('pkcs8', new Uint8Array(der), algorithm, false, ['sign']);
          return client.PrivateKeyJwt(kid ? { key, kid } : key);
        };
      } else {
        const secret = p.clientSecretEnv ? env[p.clientSecretEnv] : p.clientSecret;
        if (!secret) throw new Error(`${where}.clientSecretEnv: the environment variable ${p.clientSecretEnv} is not set (the client secret of ${p.id})`);
        auth = async () => client.ClientSecretBasic(secret);
      }
      this.runtimes.set(p.id, { cfg: p, auth });
    });
  }

  get keysInConsole(): boolean {
    return this.config.keysInConsole;
  }

  providers(): { id: string; label: string }[] {
    return this.config.providers.map((p) => ({ id: p.id, label: p.label }));
  }

  provider(id: string): OidcProviderConfig | undefined {
    return this.runtimes.get(id)?.cfg;
  }

  /** The provider's metadata and this client, discovered once (again after a failure). */
  private configuration(rt: Runtime): Promise<client.Configuration> {
    rt.configuration ??= (async () => {
      const issuer = new URL(rt.cfg.issuer);
      const insecure = issuer.protocol === 'http:';
      return client.discovery(issuer, rt.cfg.clientId, undefined, await rt.auth(), { timeout: 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) });
    })().catch((err: unknown) => {
      rt.configuration = undefined;
      throw new OidcError('unavailable', `identity provider ${rt.cfg.id} (${rt.cfg.issuer}) did not answer its discovery: ${(err as Error).message}`);
    });
    return rt.configuration;
  }

  /** Starts a sign-in: the login id for the cookie and the provider's authorization URL to send the browser to. */
  async start(providerId: string, next: string, lang: Lang, now = Date.now()): Promise<{ loginId: string; url: URL }> {
    const rt = this.runtimes.get(providerId);
    if (!rt) throw new OidcError('refused', `no identity provider '${providerId}'`);
    const configuration = await this.configuration(rt);
    const login: PendingLogin = { provider: providerId, state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), next, lang, createdAt: now };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: rt.cfg.redirectUrl,
      scope: rt.cfg.scopes.join(' '),
      state: login.state,
      nonce: login.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
    });
    this.sweep(now);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const loginId = randomBytes(32).toString('base64url');
    if (this.shared) await this.shared.put(digest(loginId), JSON.stringify(login));
    else this.pending.set(digest(loginId), login);
    return { loginId, url };
  }

  /** The pending login of a cookie, removed (a callback is tried once); undefined when unknown, stale or another provider's. */
  async take(loginId: string | undefined, providerId: string, now = Date.now()): Promise<PendingLogin | undefined> {
    if (!loginId || loginId.length > 100) return undefined;
    const key = digest(loginId);
    const login = this.shared ? pendingLoginOf(await this.shared.take(key)) : this.pending.get(key);
    if (!login) return undefined;
    this.pending.delete(key);
    if (login.provider !== providerId || now - login.createdAt > LOGIN_TTL_MS) return undefined;
    return login;
  }

  /**
   * Checks the callback (state, issuer, code exchanged with the PKCE verifier, ID token signature, audience, nonce,
   * expiry) and returns the person's claims: the ID token's, completed by the userinfo endpoint when the mapped claim
   * or a name is not in the ID token (providers that keep the ID token small).
   */
  async finish(login: PendingLogin, callbackUrl: URL): Promise<SignedInPerson> {
    const rt = this.runtimes.get(login.provider)!;
    const configuration = await this.configuration(rt);
    // The URL the provider redirected to, as registered (behind a proxy the request's own host may differ).
    const current = new URL(rt.cfg.redirectUrl);
    current.search = callbackUrl.search;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, { pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true });
    } catch (err) {
      const e = err as Error & { code?: string; error?: string; error_description?: string };
      // openid-client wraps the precise reason (state that does not match, bad signature…) in `cause`.
      const cause = e.cause instanceof Error ? e.cause.message : undefined;
      const why = [e.code, e.error, e.error_description ?? e.message, cause].filter(Boolean).join(': ');
      throw new OidcError(e.code === 'OAUTH_TIMEOUT' || /fetch failed|ECONNREFUSED|timed? ?out/i.test(e.message) ? 'unavailable' : 'refused', why);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcError('refused', 'the token endpoint returned no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    const needsMore = !(rt.cfg.claim.split('.')[0]! in claims) || !['name', 'email', 'preferred_username'].some((k) => typeof claims[k] === 'string');
    if (needsMore && configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...info, ...claims };
      } catch (err) {
        throw new OidcError('unavailable', `userinfo of ${rt.cfg.id}: ${(err as Error).message}`);
      }
    }
    return { claims, subject: idClaims.sub, expiresAt: idClaims.exp * 1000 };
  }

  /** The provider's end-session URL (RP-initiated logout), when it has one and its metadata is known. */
  async endSessionUrl(providerId: string): Promise<URL | undefined> {
    const rt = this.runtimes.get(providerId);
    if (!rt) return undefined;
    try {
      const configuration = await this.configuration(rt);
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      return client.buildEndSessionUrl(configuration, { client_id: rt.cfg.clientId, ...(rt.cfg.postLogoutRedirectUrl ? { post_logout_redirect_uri: rt.cfg.postLogoutRedirectUrl } : {}) });
    } catch {
      return undefined;
    }
  }

  private sweep(now: number): void {
    for (const [k, l] of this.pending) if (now - l.createdAt > LOGIN_TTL_MS) this.pending.delete(k);
  }
}

/** A pending login as stored in the shared records; undefined when absent or not one. */
function pendingLoginOf(value: string | undefined): PendingLogin | undefined {
  if (value === undefined) return undefined;
  try {
    const l = JSON.parse(value) as Partial<PendingLogin>;
    const strings = [l.provider, l.state, l.nonce, l.verifier, l.next].every((v) => typeof v === 'string');
    return strings && (l.lang === 'fr' || l.lang === 'en') && typeof l.createdAt === 'number' ? (l as PendingLogin) : undefined;
  } catch {
    return undefined;
  }
}
