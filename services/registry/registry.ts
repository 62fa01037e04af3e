/**
 * Who a device is and where it belongs: tenant (commune), site, building, zone, role, decoder. Comes from the YAML
 * registry first, then from the network server (tenant, device tags `site`/`building`/`zone`), then defaults.
 * Every value here becomes a bounded InfluxDB tag.
 */
import type { DeviceEntry, FileConfig } from '../config/schema.ts';
import type { DeviceIdentity } from '../lns/uplink.ts';

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
  pulse?: DeviceEntry['pulse'];
}

export class Registry {
  private readonly byDevEui = new Map<string, FileConfig['devices'][number]>();
  private readonly byProfile = new Map<string, string>();
  private readonly tenantByLns = new Map<string, string>();
  private readonly tenantByApp = new Map<string, string>();
  private readonly slugCache = new Map<string, string>();
  /** Resolved metadata by identity: the same object for the same device, so callers can cache what they derive. */
  private readonly resolved = new Map<string, DeviceMeta>();

  constructor(
    file: FileConfig,
    private readonly defaultTenant: string,
  ) {
    for (const d of file.devices) this.byDevEui.set(d.devEui, d);
    for (const p of file.profiles) this.byProfile.set(p.profile.toLowerCase(), p.decoder);
    for (const t of file.tenants) {
      for (const l of t.lnsTenants) this.tenantByLns.set(l, t.id);
      for (const a of t.applications) this.tenantByApp.set(a, t.id);
    }
  }

  resolve(id: DeviceIdentity): DeviceMeta {
    const t = id.tags;
    const key = `${id.devEui}|${id.lnsTenant}|${id.applicationId}|${id.applicationName}|${id.deviceName}|${id.deviceProfile}|${t.site ?? ''}|${t.building ?? t.batiment ?? ''}|${t.zone ?? ''}|${t.role ?? ''}`;
    let meta = this.resolved.get(key);
    if (!meta) {
      meta = this.compute(id);
      if (this.resolved.size > 100_000) this.resolved.clear();
      this.resolved.set(key, meta);
    }
    return meta;
  }

  private compute(id: DeviceIdentity): DeviceMeta {
    const entry = this.byDevEui.get(id.devEui);
    const tenant =
      entry?.tenant ??
      this.tenantByApp.get(id.applicationId) ??
      this.tenantByApp.get(id.applicationName) ??
      this.tenantByLns.get(id.lnsTenant) ??
      (id.lnsTenant ? this.slug(id.lnsTenant) : this.defaultTenant);
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
