/**
 * Which commune an event belongs to: the topic's mapped application decides, the body and the registry must agree
 * with it, and when nothing maps the topic the network server's tenant decides as before (README, "Communes and
 * network servers"). Events are built through the real envelope parsers, so what the topic carries is what they read.
 */
import { describe, expect, it } from 'vitest';
import { fileSchema, type FileConfig } from '../../services/config/schema.ts';
import { parseLnsMessage } from '../../services/lns/parse.ts';
import type { LnsEvent } from '../../services/lns/uplink.ts';
import { Registry } from '../../services/registry/registry.ts';
import { chirpstackV4Up, envelope, topicApplication } from '../../services/simulator/envelopes.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';

const APP_A = '0f4c6b2e-1d1a-4f5e-9a43-1b7f0e5a0a01';
const APP_B = '7d2e9c41-5b3f-4c8a-b6d0-2e8f1a9c0b02';
const EUI_A = '24e124136d490001';
const EUI_B = 'b4e124136d490001';
const EUI_NEW = '0018b2200000ffff';

/** A ChirpStack v4 uplink as its MQTT integration publishes it: the topic's application, then the body's claims. */
function v4(topicApp: string, devEui: string, body: { applicationId?: string; tenantName?: string; applicationName?: string } = {}): LnsEvent {
  const message = {
    deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
    time: '2026-03-02T08:00:00Z',
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: body.tenantName ?? 'Commune A',
      applicationId: body.applicationId ?? topicApp,
      applicationName: body.applicationName ?? 'eau',
      deviceProfileName: 'EM300-DI',
      deviceName: 'compteur',
      devEui,
    },
    fCnt: 12,
    fPort: 5,
    data: 'AQ==',
  };
  return event(`application/${topicApp}/device/${devEui}/event/up`, message);
}

/** A The Things Stack v3 uplink: `v3/{app}@{tenant}/…`, the body names its application again. */
function tts(topicApp: string, topicTenant: string | undefined, devEui: string, bodyApp = topicApp): LnsEvent {
  const message = {
    end_device_ids: { device_id: 'fuite-1', application_ids: { application_id: bodyApp }, dev_eui: devEui.toUpperCase() },
    received_at: '2026-03-02T08:00:00Z',
    uplink_message: { f_port: 1, f_cnt: 3, frm_payload: 'AQ==', received_at: '2026-03-02T08:00:00Z' },
  };
  return event(`v3/${topicApp}${topicTenant !== undefined ? `@${topicTenant}` : ''}/devices/fuite-1/up`, message);
}

/** A ChirpStack v3 uplink (`json_v3` marshaler: hex DevEUI): no tenant anywhere, the application id in both. */
function v3(topicApp: string, devEui: string, bodyApp = topicApp): LnsEvent {
  return event(`application/${topicApp}/device/${devEui}/event/up`, { applicationID: bodyApp, applicationName: 'eau', deviceName: 'compteur', devEUI: devEui, fCnt: 4, fPort: 5, data: 'AQ==' });
}

function event(topic: string, message: unknown): LnsEvent {
  const e = parseLnsMessage(topic, Buffer.from(JSON.stringify(message)));
  if (e.kind !== 'uplink') throw new Error(`fixture did not parse as an uplink: ${JSON.stringify(e)}`);
  return e;
}

function registry(file: Record<string, unknown>, defaultTenant = 'default'): Registry {
  return new Registry(fileSchema.parse(file), defaultTenant);
}

function tenantOf(r: Registry, e: LnsEvent): string {
  const placed = r.resolve(e);
  if ('kind' in placed) throw new Error(`unexpected tenant_mismatch: ${placed.detail}`);
  return placed.tenant;
}

function mismatchOf(r: Registry, e: LnsEvent): string {
  const placed = r.resolve(e);
  if (!('kind' in placed)) throw new Error(`expected tenant_mismatch, placed in ${placed.tenant}`);
  return placed.detail;
}

describe('application mapping: the topic decides', () => {
  const r = registry({
    tenants: [
      { id: 'commune-a', name: 'Commune A', lnsTenants: ['Commune A'], applications: [APP_A] },
      { id: 'commune-b', name: 'Commune B', lnsTenants: ['Commune B'], applications: [APP_B] },
    ],
    devices: [
      { devEui: EUI_A, tenant: 'commune-a' },
      { devEui: EUI_B, tenant: 'commune-b' },
    ],
  });

  it("places each commune's own devices, registered or not, in that commune", () => {
    expect(tenantOf(r, v4(APP_A, EUI_A))).toBe('commune-a');
    expect(tenantOf(r, v4(APP_B, EUI_B, { tenantName: 'Commune B' }))).toBe('commune-b');
    expect(tenantOf(r, v4(APP_A, EUI_NEW))).toBe('commune-a');
  });

  it("refuses B's registered device published through A's application", () => {
    expect(mismatchOf(r, v4(APP_A, EUI_B))).toBe(`device ${EUI_B} is registered to commune-b but the topic's application '${APP_A}' is mapped to commune-a`);
  });

  it("refuses a body that names B's application under A's topic, even for an unknown device", () => {
    expect(mismatchOf(r, v4(APP_A, EUI_NEW, { applicationId: APP_B, tenantName: 'Commune B' }))).toBe(`the body names application '${APP_B}' but the topic carries application '${APP_A}'`);
  });

  it("refuses a body that claims B's tenant name under A's application", () => {
    expect(mismatchOf(r, v4(APP_A, EUI_NEW, { tenantName: 'Commune B' }))).toBe(`the network-server tenant 'Commune B' points to commune-b but the topic's application '${APP_A}' is mapped to commune-a`);
  });

  it("refuses an unmapped tenant name whose slug is another commune's id", () => {
    expect(mismatchOf(r, v4(APP_A, EUI_NEW, { tenantName: 'Commune-B' }))).toContain("the network-server tenant 'Commune-B' points to commune-b");
  });

  it('leaves what no mapping knows as before: an unmapped application of an unmapped tenant gets its slug', () => {
    expect(tenantOf(r, v4('a3c1d2e4-0000-4000-8000-000000000003', EUI_NEW, { tenantName: 'Syndicat des Eaux' }))).toBe('syndicat-des-eaux');
  });
});

describe('The Things Stack: application and tenant from the topic', () => {
  const r = registry({
    tenants: [
      { id: 'commune-a', lnsTenants: ['sicoval'], applications: ['eau-a@agglo'] },
      { id: 'commune-b', applications: ['eau-b@agglo'] },
    ],
    devices: [{ devEui: EUI_B, tenant: 'commune-b' }],
  });

  it('maps app@tenant, and a tenant of its own through lnsTenants', () => {
    expect(tenantOf(r, tts('eau-a', 'agglo', EUI_NEW))).toBe('commune-a');
    expect(tenantOf(r, tts('eau-b', 'agglo', EUI_B))).toBe('commune-b');
    expect(tenantOf(r, tts('fuites', 'sicoval', EUI_NEW))).toBe('commune-a');
  });

  it("refuses B's device through A's application, and a body naming another application than the topic", () => {
    expect(mismatchOf(r, tts('eau-a', 'agglo', EUI_B))).toBe(`device ${EUI_B} is registered to commune-b but the topic's application 'eau-a@agglo' is mapped to commune-a`);
    expect(mismatchOf(r, tts('eau-a', 'agglo', EUI_NEW, 'eau-b'))).toBe("the body names application 'eau-b' but the topic carries application 'eau-a'");
  });

  it('maps a bare application id on a topic without tenant (open-source The Things Stack)', () => {
    const open = registry({ tenants: [{ id: 'commune-a', applications: ['eau-a'] }] });
    expect(tenantOf(open, tts('eau-a', undefined, EUI_NEW))).toBe('commune-a');
  });
});

describe('tenant-name mapping only (no application mapped): backward compatible', () => {
  const r = registry({
    tenants: [
      { id: 'commune-a', lnsTenants: ['Commune A'] },
      { id: 'commune-b', lnsTenants: ['Commune B'] },
    ],
    devices: [
      { devEui: EUI_A, tenant: 'commune-a' },
      { devEui: EUI_B, tenant: 'commune-b' },
      { devEui: EUI_NEW, site: 'mairie' },
    ],
  });

  it("places devices by the network server's tenant name, registered or not", () => {
    expect(tenantOf(r, v4(APP_A, EUI_A))).toBe('commune-a');
    expect(tenantOf(r, v4(APP_B, EUI_B, { tenantName: 'Commune B' }))).toBe('commune-b');
    expect(tenantOf(r, v4(APP_A, EUI_NEW))).toBe('commune-a');
  });

  it("refuses B's registered device under A's network-server tenant", () => {
    expect(mismatchOf(r, v4(APP_A, EUI_B))).toBe(`device ${EUI_B} is registered to commune-b but the network-server tenant 'Commune A' points to commune-a`);
  });

  it('still refuses a body naming another application than its topic', () => {
    expect(mismatchOf(r, v4(APP_A, EUI_NEW, { applicationId: APP_B, tenantName: 'Commune B' }))).toContain('the body names application');
  });
});

describe('ChirpStack v3 (no tenant in the event)', () => {
  it('uses the registry, else DEFAULT_TENANT, without any mapping', () => {
    const r = registry({ devices: [{ devEui: EUI_B, tenant: 'commune-b' }] }, 'ville');
    expect(tenantOf(r, v3('7', EUI_B))).toBe('commune-b');
    expect(tenantOf(r, v3('7', EUI_NEW))).toBe('ville');
  });

  it('maps its numeric application id from the topic, and refuses a registry entry of another commune', () => {
    const r = registry({ tenants: [{ id: 'commune-a', applications: ['7'] }, { id: 'commune-b', applications: ['8'] }], devices: [{ devEui: EUI_B, tenant: 'commune-b' }] });
    expect(tenantOf(r, v3('7', EUI_NEW))).toBe('commune-a');
    expect(tenantOf(r, v3('8', EUI_B))).toBe('commune-b');
    expect(mismatchOf(r, v3('7', EUI_B))).toContain("is registered to commune-b but the topic's application '7' is mapped to commune-a");
    expect(mismatchOf(r, v3('7', EUI_NEW, '8'))).toBe("the body names application '8' but the topic carries application '7'");
  });
});

describe('topics that carry no application (ThingPark, Live Objects)', () => {
  const r = registry({
    tenants: [
      { id: 'commune-a', applications: ['/collectivite/commune-a'] },
      { id: 'commune-b', lnsTenants: ['100012345'] },
    ],
    devices: [{ devEui: EUI_B, tenant: 'commune-b' }],
  });
  const identity = (devEui: string, applicationId: string, lnsTenant = ''): LnsEvent => ({
    kind: 'join', topic: 'fifo/veilleur', receivedAt: new Date(0), lns: 'liveobjects', lnsTenant, applicationId, applicationName: applicationId,
    devEui, deviceName: 'capteur', deviceProfile: '', tags: {},
  });

  it("places them by the body's application or tenant, and still refuses a registry entry of another commune", () => {
    expect(tenantOf(r, identity(EUI_NEW, '/collectivite/commune-a'))).toBe('commune-a');
    expect(tenantOf(r, identity(EUI_NEW, '', '100012345'))).toBe('commune-b');
    expect(mismatchOf(r, identity(EUI_B, '/collectivite/commune-a'))).toBe(`device ${EUI_B} is registered to commune-b but the application '/collectivite/commune-a' points to commune-a`);
    expect(mismatchOf(r, identity(EUI_NEW, '/collectivite/commune-a', '100012345'))).toContain('the body points to several communes');
  });
});

describe('configuration', () => {
  it('refuses an application or tenant name mapped to two communes, naming the path', () => {
    const parsed = fileSchema.safeParse({
      tenants: [
        { id: 'commune-a', lnsTenants: ['Commune A'], applications: [APP_A] },
        { id: 'commune-b', lnsTenants: ['Commune A'], applications: [APP_B, APP_A] },
      ],
    } satisfies Partial<Record<keyof FileConfig, unknown>>);
    expect(parsed.success).toBe(false);
    const issues = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual([
      "tenants.1.lnsTenants.0: 'Commune A' is already mapped to tenant 'commune-a': it can belong to one commune only",
      `tenants.1.applications.1: '${APP_A}' is already mapped to tenant 'commune-a': it can belong to one commune only`,
    ]);
  });
});

describe('the simulated town (what the demo and `veilleur simulate --registry` configure)', () => {
  // Two communes on one broker: a message claiming the other commune's tenant for a town device is refused.
  const r = new Registry(townRegistry(), 'default');
  const gym = TOWN.find((d) => d.name === 'compteur-eau-gymnase')!;

  it('registers every device to its commune', () => {
    expect(townRegistry().devices.map((d) => d.tenant)).toEqual(TOWN.map((d) => (d.lnsTenant === 'agglo-sud' ? 'agglo-sud' : 'saint-veilleur')));
    expect(tenantOf(r, v4('eau-batiments', gym.devEui, { tenantName: gym.lnsTenant }))).toBe('saint-veilleur');
  });

  it("refuses the gymnasium's meter claimed by the other commune's network-server tenant", () => {
    expect(mismatchOf(r, v4('9b0b2c1e-0000-4000-8000-00000000abcd', gym.devEui, { tenantName: 'agglo-sud' }))).toBe(
      `device ${gym.devEui} is registered to saint-veilleur but the network-server tenant 'agglo-sud' points to agglo-sud`,
    );
  });
});

describe('the simulated town maps its network-server applications (the recommended setup)', () => {
  const file = townRegistry();
  const r = new Registry(file, 'default');
  const gym = TOWN.find((d) => d.name === 'compteur-eau-gymnase')!;
  const radio = { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 };
  const frame = { fPort: 2, bytes: new Uint8Array([1, 2, 3]) };
  const at = new Date('2026-03-02T08:00:00Z');
  const parsed = (m: { topic: string; payload: string }) => event(m.topic, JSON.parse(m.payload));

  it('lists each commune’s applications as their topics carry them', () => {
    const apps = Object.fromEntries(file.tenants.map((t) => [t.id, t.applications]));
    expect(apps['saint-veilleur']).toContain(topicApplication(gym));
    expect(apps['saint-veilleur']).toHaveLength(new Set(TOWN.filter((d) => d.lnsTenant === gym.lnsTenant).map((d) => d.application)).size);
    expect(apps['agglo-sud']).toEqual(['eau-potable@agglo-sud']);
  });

  it('places every device of the town in its commune through its topic', () => {
    for (const d of TOWN) expect(tenantOf(r, parsed(envelope(d, 1, frame, at, radio))), d.name).toBe(d.lnsTenant === 'agglo-sud' ? 'agglo-sud' : 'saint-veilleur');
  });

  it("keeps out an unknown device published under Saint-Veilleur's application that claims the agglomeration's tenant", () => {
    const intruder = { ...gym, devEui: '0018b22000fff001', name: 'intrus' };
    const message = chirpstackV4Up(intruder, 1, frame, at, radio);
    const body = JSON.parse(message.payload) as { deviceInfo: { tenantName: string } };
    body.deviceInfo.tenantName = 'agglo-sud';
    const forged = event(message.topic, body);
    expect(mismatchOf(r, forged)).toBe(`the network-server tenant 'agglo-sud' points to agglo-sud but the topic's application '${topicApplication(gym)}' is mapped to saint-veilleur`);
    // With tenant names only (the earlier setup), nothing in the message could tell it from a genuine device.
    const namesOnly = new Registry({ ...file, tenants: file.tenants.map((t) => ({ ...t, applications: [] })) }, 'default');
    expect(tenantOf(namesOnly, forged)).toBe('agglo-sud');
  });
});
