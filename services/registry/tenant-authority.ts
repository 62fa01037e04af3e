/**
 * Which commune an event belongs to, and when it must belong to none. The authority is what the broker can
 * enforce: the topic (ChirpStack `application/{applicationId}/…`, The Things Stack `v3/{app}@{tenant}/…`), which
 * ACLs bind to the network server that publishes it. The body (tenant name, application id and name) and the
 * registry's `devices[].tenant` only agree or disagree with it; when one disagrees, the event is kept raw as
 * `tenant_mismatch` and stored under neither commune. README.md, "Communes and network servers", says what is
 * authoritative in each kind of deployment.
 */
import type { DeviceIdentity } from '../lns/uplink.ts';

/** What the topic carries (DeviceIdentity.topicApplication / topicTenant). */
export interface TopicIds {
  application: string;
  /** The Things Stack tenant after '@'; absent on ChirpStack topics and TTS topics without one (open source). */
  tenant?: string;
}

export function topicIdsOf(id: DeviceIdentity): TopicIds | undefined {
  if (id.topicApplication === undefined || id.topicApplication === '') return undefined;
  return id.topicTenant !== undefined && id.topicTenant !== '' ? { application: id.topicApplication, tenant: id.topicTenant } : { application: id.topicApplication };
}

export interface TenantMaps {
  /** ChirpStack application id (as in the topic), TTS `app@tenant` or `app`, or a legacy application name. */
  byApplication: ReadonlyMap<string, string>;
  /** ChirpStack tenant name or id (from the body), TTS tenant id (from the topic). */
  byLnsTenant: ReadonlyMap<string, string>;
  /** Every commune id the configuration names: an unmapped LNS tenant whose slug is one of them claims it. */
  communes: ReadonlySet<string>;
  defaultTenant: string;
  slug(text: string): string;
}

export type Placement = { tenant: string } | { mismatch: string };

interface Claim {
  commune: string;
  what: string;
}

export function placeTenant(maps: TenantMaps, id: DeviceIdentity, topic: TopicIds | undefined, registered: string | undefined): Placement {
  // A body that names another application than its topic is not what that application's network server sent.
  if (topic && id.applicationId && id.applicationId !== topic.application) {
    return { mismatch: `the body names application '${id.applicationId}' but the topic carries application '${topic.application}'` };
  }
  const topicCommune = topic ? communeOfTopic(maps, topic) : undefined;
  const claims = bodyClaims(maps, id, topic === undefined);
  if (topicCommune) {
    const where = `the topic's application '${topicLabel(topic!)}' is mapped to ${topicCommune.commune}`;
    for (const c of claims) if (c.commune !== topicCommune.commune) return { mismatch: `${c.what} points to ${c.commune} but ${where}` };
    if (registered !== undefined && registered !== topicCommune.commune) {
      return { mismatch: `device ${id.devEui} is registered to ${registered} but ${where}` };
    }
    return { tenant: topicCommune.commune };
  }
  // No mapping of the topic: the network server's own tenant (ChirpStack writes it; only it may publish there).
  const communes = [...new Set(claims.map((c) => c.commune))];
  if (communes.length > 1) return { mismatch: `the body points to several communes: ${claims.map((c) => `${c.what} → ${c.commune}`).join(', ')}` };
  const claimed = claims[0];
  if (claimed && registered !== undefined && registered !== claimed.commune) {
    return { mismatch: `device ${id.devEui} is registered to ${registered} but ${claimed.what} points to ${claimed.commune}` };
  }
  return { tenant: registered ?? claimed?.commune ?? (id.lnsTenant ? maps.slug(id.lnsTenant) : maps.defaultTenant) };
}

/** Most specific first: TTS `app@tenant`, then the application alone, then the TTS tenant (it is in the topic too). */
function communeOfTopic(maps: TenantMaps, topic: TopicIds): { commune: string } | undefined {
  const commune =
    (topic.tenant !== undefined ? maps.byApplication.get(`${topic.application}@${topic.tenant}`) : undefined) ??
    maps.byApplication.get(topic.application) ??
    (topic.tenant !== undefined ? maps.byLnsTenant.get(topic.tenant) : undefined);
  return commune !== undefined ? { commune } : undefined;
}

/** What the body says about the commune, through the same mappings (never authoritative on its own). */
function bodyClaims(maps: TenantMaps, id: DeviceIdentity, noTopic: boolean): Claim[] {
  const claims: Claim[] = [];
  // A topic that carries no application (ThingPark, Live Objects): the body's application id is all there is.
  const byId = noTopic && id.applicationId ? maps.byApplication.get(id.applicationId) : undefined;
  if (byId !== undefined) claims.push({ commune: byId, what: `the application '${id.applicationId}'` });
  const byName = id.applicationName !== id.applicationId ? maps.byApplication.get(id.applicationName) : undefined;
  if (byName !== undefined) claims.push({ commune: byName, what: `the application name '${id.applicationName}'` });
  // ChirpStack writes its tenant in the body; TTS's is the topic's (then it only agrees with the topic's mapping).
  if (id.lnsTenant) {
    const mapped = maps.byLnsTenant.get(id.lnsTenant);
    const slug = mapped === undefined ? maps.slug(id.lnsTenant) : undefined;
    const commune = mapped ?? (slug !== undefined && maps.communes.has(slug) ? slug : undefined);
    if (commune !== undefined) claims.push({ commune, what: `the network-server tenant '${id.lnsTenant}'` });
  }
  return claims;
}

function topicLabel(topic: TopicIds): string {
  return topic.tenant !== undefined ? `${topic.application}@${topic.tenant}` : topic.application;
}
