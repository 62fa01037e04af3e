/** The configuration entry of an API key (keys.ts explains the key format and why the hash is fast). */
import { z } from 'zod';

export const API_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export const KEY_ID = /^[a-z0-9]{8,32}$/;

export const apiKeyEntry = z.strictObject({
  id: z.string().regex(KEY_ID, 'expected 8-32 lower-case letters or digits'),
  /** Who or what holds the key ("Grafana mairie", "astreinte eau"), for the audit trail. */
  name: z.string().min(1).max(100),
  role: z.enum(API_ROLES),
  /** Tenants the key may read or change; ['*'] is the whole instance (the agglomeration's own team). */
  tenants: z.array(z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$/, "expected a tenant id or '*'")).min(1),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected 'sha256:' and 64 hexadecimal characters (veilleur keys create prints it)"),
  /** After this date the key is refused: rotation keeps the old key valid until the new one is deployed. */
  expires: z.iso.datetime({ offset: true }).optional(),
  /** When the key was made (`veilleur keys create --print` writes it), shown by `veilleur keys list`. */
  created: z.iso.datetime({ offset: true }).optional(),
});
export type ApiKeyEntry = z.infer<typeof apiKeyEntry>;

/** `apiKeys:` of the configuration file: an id given twice is an error naming both entries, not a silent replacement. */
export const apiKeyList = z.array(apiKeyEntry).superRefine((keys, ctx) => {
  const first = new Map<string, number>();
  keys.forEach((k, i) => {
    const j = first.get(k.id);
    if (j === undefined) first.set(k.id, i);
    else ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `key id '${k.id}' (name '${k.name}') is already the id of apiKeys[${j}] (name '${keys[j]!.name}'): each key needs its own id` });
  });
});
