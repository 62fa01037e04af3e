import { describe, expect, it } from 'vitest';
import { apiRegistry } from '../../services/api/deps.ts';
import { fileSchema } from '../../services/config/schema.ts';

describe('what the API is given of the configuration file', () => {
  it('keeps communes, devices, sites and the reports section, and leaves keys, codecs, notifications and single sign-on out', () => {
    const file = fileSchema.parse({
      tenants: [{ id: 'saint-veilleur', name: 'Commune de Saint-Veilleur' }],
      devices: [{ devEui: '0011223344556677', tenant: 'saint-veilleur', site: 'gymnase' }],
      sites: [{ tenant: 'saint-veilleur', site: 'gymnase', name: 'Gymnase municipal' }],
      codecs: [{ name: 'compteur', file: 'compteur.js' }],
      notifications: { channels: { bus: { type: 'mqtt', topic: 'communes/{tenant}' } }, routes: [{ channels: ['bus'] }] },
      reports: { datacenters: [{ site: 'mairie', category: 2 }] },
    });
    const given = apiRegistry(file);
    expect(Object.keys(given).sort()).toEqual(['devices', 'reports', 'sites', 'tenants']);
    expect(given.sites).toBe(file.sites);
    expect(given.reports?.datacenters).toEqual([{ site: 'mairie', category: 2 }]);
    expect(JSON.stringify(given)).not.toMatch(/compteur\.js|communes\/\{tenant\}|apiKeys|oidc/);
  });
});
