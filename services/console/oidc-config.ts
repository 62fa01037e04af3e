/**
 * Single sign-on for the console (OpenID Connect), as configured in VEILLEUR_CONFIG under `oidc:`: the communes'
 * identity providers (Keycloak, Microsoft Entra ID, regional platforms) and how a person's group or role claim maps
 * to communes and a role. Pure configuration and mapping; the protocol itself is services/console/oidc.ts.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { API_ROLES, type ApiRole } from '../api/keys-schema.ts';

/** The path of the callback of a provider: its redirect URL must end with it (one path per provider: no mix-up). */
export const callbackPath = (providerId: string) => `/connexion/oidc/${providerId}/retour`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http on the machine itself (a provider or a console on loopback, for tests and a first try). */
const httpsUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  } catch {
    return false;
  }
}, 'expected an https:// URL (http:// only on 127.0.0.1, localhost or [::1])');

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected 1-32 lower-case letters, digits or dashes');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name');

export const oidcMapEntry = z.strictObject({
  /** A value of the claim (a group name or id, a role name). */
  value: z.string().min(1).max(500),
  /** Communes it gives access to; ['*']: every commune of the instance. */
  tenants: z.array(z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$/, "expected a commune id or '*'")).min(1),
  role: z.enum(API_ROLES),
});

export const oidcProvider = z
  .strictObject({
    id,
    /** The text of the sign-in button: "Compte de la commune de Saint-Veilleur". */
    label: z.string().trim().min(1).max(80),
    /** The issuer identifier; its /.well-known/openid-configuration is read on first use. */
    issuer: httpsUrl,
    clientId: z.string().min(1),
    /** client_secret_basic; prefer clientSecretEnv so that it stays out of the file. */
    clientSecret: z.string().min(1).optional(),
    clientSecretEnv: envName.optional(),
    /** private_key_jwt: a PEM private key (PKCS#8 or PKCS#1/SEC1) whose public part the provider knows. */
    privateKeyJwt: z.strictObject({ keyFile: z.string().refine((f) => isAbsolute(f), 'expected an absolute path'), alg: z.enum(['RS256', 'PS256', 'ES256']).default('RS256'), kid: z.string().min(1).optional() }).optional(),
    /** This console's callback as registered at the provider: https://console.example.fr/connexion/oidc/{id}/retour. */
    redirectUrl: httpsUrl,
    /** Where the provider sends the person after signing out there (registered at the provider too); optional. */
    postLogoutRedirectUrl: httpsUrl.optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected a scope name')).default(['openid', 'profile', 'email']),
    /** The claim mapped, as a dotted path: `groups`, `roles` (Entra app roles), `realm_access.roles` (Keycloak). */
    claim: z.string().regex(/^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/, 'expected a claim name or a dotted path (realm_access.roles)').default('groups'),
    /** The first entry whose value the claim holds decides the communes and the role. */
    map: z.array(oidcMapEntry).min(1),
  })
  .superRefine((p, ctx) => {
    const ways = [p.clientSecret, p.clientSecretEnv, p.privateKeyJwt].filter((x) => x !== undefined).length;
    if (ways !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of clientSecret, clientSecretEnv or privateKeyJwt' });
    if (!p.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: "must include 'openid'" });
    try {
      if (new URL(p.redirectUrl).pathname !== callbackPath(p.id)) ctx.addIssue({ code: 'custom', path: ['redirectUrl'], message: `its path must be ${callbackPath(p.id)} (this provider's callback)` });
    } catch {
      // reported by the URL check
    }
  });

export const oidcSchema = z
  .strictObject({
    providers: z.array(oidcProvider).min(1),
    /** false: the sign-in page offers the providers only (no API key form). */
    keysInConsole: z.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.providers.forEach((p, i) => {
      if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['providers', i, 'id'], message: `'${p.id}' is already the id of another provider` });
      seen.add(p.id);
    });
  });

export type OidcConfig = z.infer<typeof oidcSchema>;
export type OidcProviderConfig = z.infer<typeof oidcProvider>;

/** The claim at a dotted path of the token's claims, as a list of strings (a string claim is a list of one). */
export function claimValues(claims: Record<string, unknown>, path: string): string[] {
  let v: unknown = claims;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

export interface Grant {
  tenants: string[] | undefined;
  role: ApiRole;
  /** The value that matched (for logs and the audit trail). */
  value: string;
}

/**
 * The communes and role a person's claims give: the first entry of `map` whose value the claim holds. First match
 * rather than a union: one entry says exactly what a person gets, never more than the configuration wrote.
 */
export function grantOf(provider: Pick<OidcProviderConfig, 'claim' | 'map'>, claims: Record<string, unknown>): Grant | undefined {
  const held = new Set(claimValues(claims, provider.claim));
  const entry = provider.map.find((e) => held.has(e.value));
  if (!entry) return undefined;
  return { tenants: entry.tenants.includes('*') ? undefined : [...entry.tenants], role: entry.role, value: entry.value };
}

/** What people read of a person: name, else e-mail, else preferred username, else the subject. */
export function personName(claims: Record<string, unknown>): string {
  for (const k of ['name', 'email', 'preferred_username', 'sub']) {
    const v = claims[k];
    if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 120);
  }
  return '';
}
