/**
 * Who a device is and where it belongs: tenant (commune), site, building, zone, role, decoder. The commune comes from
 * the event's topic where it is mapped, else from the network server's tenant, agreeing with the registry
 * (tenant-authority.ts); the rest from the YAML registry first, then the network server (device tags
 * `site`/`building`/`zone`), then defaults. Every value here becomes a bounded InfluxDB tag.
 */
import type { DeviceIdentity } from '../lns/uplink.ts';
import { placeTenant, topicIdsOf, type TenantMaps } from './tenant-authority.ts';

/** What a pulse counter's pulses measure (`devices[].pulse`): each pulse is `perPulse` of the quantity. */
export interface PulseSettings {
  input?: string | undefined;
  quantity: 'metering.water.total' | 'metering.electricity.activeEnergy' | 'metering.heat.total';
  perPulse: number;
}

/** A `devices:` entry of the configuration file, as the registry reads it. */
export interface DeviceSettings {
  devEui: string;
  name?: string | undefined;
  tenant?: string | undefined;
  decoder?: string | undefined;
  site?: string | undefined;
  building?: string | undefined;
  zone?: string | undefined;
  role?: string | undefined;
  pulse?: PulseSettings | undefined;
}

/**
 * What the registry reads of the configuration file (VEILLEUR_CONFIG, validated by config/schema.ts): devices,
 * device profiles, communes and their network-server mappings, sites and their names.
 */
export interface RegistrySettings {
  devices: readonly DeviceSettings[];
  profiles: readonly { profile: string; decoder: string }[];
  tenants: readonly { id: string; name?: string | undefined; lnsTenants: readonly string[]; applications: readonly string[] }[];
  sites: readonly { tenant?: string | undefined; site: string; name?: string | undefined }[];
}

export interface DeviceMeta {
  tenant: string;
  site: string;
  building: string;
  zone: string;
  role: string;
  name: string;
  /** `vendor/model` of the built-in decoder chosen by DevEUI or device profile, if any. */
  decoder?: string;
  /** What a pulse counter's pulses measure, when configured. */
  pulse?: PulseSettings | undefined;
}

/** The event's topic or body places the device in another commune than its registry entry or topic: store nothing. */
export interface TenantMismatch {
  kind: 'tenant_mismatch';
  detail: string;
}

export class Registry {
  private readonly byDevEui = new Map<string, DeviceSettings>();
  private readonly byProfile = new Map<string, string>();
  private readonly tenantByLns = new Map<string, string>();
  private readonly tenantByApp = new Map<string, string>();
  private readonly slugCache = new Map<string, string>();
  private readonly tenantMaps: TenantMaps;
  /** Resolved metadata by identity: the same object for the same device, so callers can cache what they derive. */
  private readonly resolved = new Map<string, DeviceMeta | TenantMismatch>();

  constructor(
    file: RegistrySettings,
    defaultTenant: string,
  ) {
    for (const d of file.devices) this.byDevEui.set(d.devEui, d);
    for (const p of file.profiles) this.byProfile.set(p.profile.toLowerCase(), p.decoder);
    for (const t of file.tenants) {
      for (const l of t.lnsTenants) this.tenantByLns.set(l, t.id);
      for (const a of t.applications) this.tenantByApp.set(a, t.id);
    }
    const communes = new Set([...file.tenants.map((t) => t.id), ...file.devices.flatMap((d) => (d.tenant ? [d.tenant] : [])), ...file.sites.flatMap((s) => (s.tenant ? [s.tenant] : []))]);
    this.tenantMaps = { byApplication: this.tenantByApp, byLnsTenant: this.tenantByLns, communes, defaultTenant, slug: (text) => this.slug(text) };
  }

  /** Where the event's device belongs, or why it may be stored under no commune. */
  resolve(id: DeviceIdentity): DeviceMeta | TenantMismatch {
    const t = id.tags;
    const key = `${id.topicApplication ?? ''}@${id.topicTenant ?? ''}|${id.devEui}|${id.lnsTenant}|${id.applicationId}|${id.applicationName}|${id.deviceName}|${id.deviceProfile}|${t.site ?? ''}|${t.building ?? t.batiment ?? ''}|${t.zone ?? ''}|${t.role ?? ''}`;
    let meta = this.resolved.get(key);
    if (!meta) {
      meta = this.compute(id);
      if (this.resolved.size > 100_000) this.resolved.clear();
      this.resolved.set(key, meta);
    }
    return meta;
  }

  private compute(id: DeviceIdentity): DeviceMeta | TenantMismatch {
    const entry = this.byDevEui.get(id.devEui);
    const placed = placeTenant(this.tenantMaps, id, topicIdsOf(id), entry?.tenant);
    if ('mismatch' in placed) return { kind: 'tenant_mismatch', detail: placed.mismatch };
    const tenant = placed.tenant;
    const decoder = entry?.decoder ?? (id.deviceProfile ? this.byProfile.get(id.deviceProfile.toLowerCase()) : undefined);
    return {
      tenant,
      site: entry?.site ?? this.slug(id.tags.site ?? ''),
      building: entry?.building ?? this.slug(id.tags.building ?? id.tags.batiment ?? ''),
      zone: entry?.zone ?? this.slug(id.tags.zone ?? ''),
      role: entry?.role ?? this.slug(id.tags.role ?? ''),
      name: entry?.name ?? id.deviceName,
      ...(decoder ? { decoder } : {}),
      ...(entry?.pulse ? { pulse: entry.pulse } : {}),
    };
  }

  /** "Commune de Lézignan" → "commune-de-lezignan": stable, readable tag values. */
  private slug(text: string): string {
    let s = this.slugCache.get(text);
    if (s === undefined) {
      s = text
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9_.-]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 63);
      if (this.slugCache.size < 10_000) this.slugCache.set(text, s);
    }
    return s;
  }
}
