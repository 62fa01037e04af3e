import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'veilleur-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const error = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('applies defaults and picks the InfluxDB API from the variables given', () => {
    const v1 = loadConfig({ INFLUX_DB: 'veilleur' });
    expect(v1).toMatchObject({ mqtt: { url: 'mqtt://127.0.0.1:1883', clientId: 'veilleur', protocolVersion: 5 }, influx: { api: 'v1', db: 'veilleur' }, http: { port: 8080 } });
    const v2 = loadConfig({ INFLUX_TOKEN: 't', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_URL: 'https://influx.example:8086' });
    expect(v2.influx).toMatchObject({ api: 'v2', bucket: 'b', url: 'https://influx.example:8086' });
  });

  it('names the variable and what was expected', () => {
    expect(error({ INFLUX_DB: 'x', MQTT_URL: 'localhost:1883' })).toContain('variable MQTT_URL: expected a URL starting with mqtt://');
    expect(error({ INFLUX_DB: 'x', HTTP_PORT: '80a' })).toContain('variable HTTP_PORT: expected a whole number');
    expect(error({})).toContain('variable INFLUX_DB: no InfluxDB target');
    expect(error({ INFLUX_TOKEN: 't' })).toContain('variable INFLUX_ORG, INFLUX_BUCKET: required for InfluxDB 2.x/3.x');
  });

  it('names the file, the path and what was expected in the YAML registry', () => {
    const bad = file('bad.yaml', 'devices:\n  - devEui: 24e124136d49\n    decoder: milesight/em300-zld\n');
    expect(error({ INFLUX_DB: 'x', VEILLEUR_CONFIG: bad })).toContain(`${bad}, path devices[0].devEui: expected a DevEUI of 16 hexadecimal characters`);
    const unknown = file('unknown.yaml', 'devices:\n  - devEui: 24e124136d490001\n    decoder: acme/x1\nprofiles:\n  - profile: P\n    decoder: codec:nope\n');
    const msg = error({ INFLUX_DB: 'x', VEILLEUR_CONFIG: unknown });
    expect(msg).toContain(`${unknown}, path devices[0].decoder: unknown decoder 'acme/x1'`);
    expect(msg).toContain(`${unknown}, path profiles[0].decoder: no codec named 'nope'`);
    expect(error({ INFLUX_DB: 'x', VEILLEUR_CONFIG: join(dir, 'missing.yaml') })).toContain('missing.yaml: cannot be read (ENOENT)');
    const calendar = file('cal.yaml', 'sites:\n  - site: ecole\n    calendar: { timeZone: Europe/Pariss }\n');
    expect(error({ INFLUX_DB: 'x', VEILLEUR_CONFIG: calendar })).toContain(`${calendar}, path sites[0].calendar.timeZone`);
  });

  it('reads a valid registry', () => {
    const ok = file('ok.yaml', 'devices:\n  - devEui: 24E124136D490001\n    decoder: Milesight/EM300-DI\n    site: mairie\n    pulse: { quantity: metering.water.total, perPulse: 10 }\n');
    expect(loadConfig({ INFLUX_DB: 'x', VEILLEUR_CONFIG: ok }).registry.devices[0]).toMatchObject({ devEui: '24e124136d490001', site: 'mairie', pulse: { perPulse: 10 } });
  });
});
