/**
 * Start-up checks of issue 13: a configuration file holding secrets and readable by every user is warned about,
 * HTTP_TRUST_PROXY takes addresses or a hop count but never "trust everybody", and an API key id given twice in the
 * file is an error naming both entries.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { ConfigError, loadConfig, loadFile, secretPaths, startupWarnings } from '../../services/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'veilleur-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withSecret = `notifications:
  channels:
    mail:
      type: email
      smtp: { host: smtp.mairie.example.fr, user: veilleur, password: s3cret-in-the-file }
      from: veilleur@mairie.example.fr
      to: [st@mairie.example.fr]
    hook:
      type: webhook
      url: https://user:pa55@hooks.example.fr/veilleur
      secretEnv: HOOK_SECRET
`;

describe('configuration file permissions', () => {
  it('warns when the file holds secrets and others may read it, and not otherwise', () => {
    const file = join(dir, 'secrets.yaml');
    writeFileSync(file, withSecret);
    const env = { INFLUX_DB: 'veilleur', VEILLEUR_CONFIG: file, HOOK_SECRET: 'x' };
    chmodSync(file, 0o644);
    const warnings = startupWarnings(loadConfig(env));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`config file ${file} holds secrets (notifications.channels.mail.smtp.password, notifications.channels.hook.url)`);
    expect(warnings[0]).toContain('mode 644');
    expect(warnings[0]).not.toContain('s3cret-in-the-file');
    chmodSync(file, 0o640);
    expect(startupWarnings(loadConfig(env))).toEqual([]);

    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, 'tenants: [{ id: saint-veilleur }]\n');
    chmodSync(plain, 0o644);
    expect(startupWarnings(loadConfig({ INFLUX_DB: 'veilleur', VEILLEUR_CONFIG: plain }))).toEqual([]);
  });

  it('finds passwords, shared secrets, tokens and URLs with credentials', () => {
    expect(secretPaths({ a: { password: 'p', passwordEnv: 'P' }, b: [{ secret: 's' }, { url: 'mqtts://u:p@h' }, { url: 'https://h/x' }], token: 't' })).toEqual(['a.password', 'b[0].secret', 'b[1].url', 'token']);
  });
});

describe('HTTP_TRUST_PROXY', () => {
  const parse = (v?: string) => loadConfig({ INFLUX_DB: 'veilleur', ...(v !== undefined ? { HTTP_TRUST_PROXY: v } : {}) }).http.trustProxy;

  it('takes the proxy addresses or a hop count, off by default', () => {
    expect(parse()).toBe(false);
    expect(parse('127.0.0.1, 10.0.0.0/8,::1')).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(parse('1')).toBe(1);
    expect(parse('false')).toBe(false);
  });

  it('refuses "true" and what is not an address', () => {
    expect(() => parse('true')).toThrow(ConfigError);
    expect(() => parse('true')).toThrow(/variable HTTP_TRUST_PROXY: expected the proxy's addresses or CIDRs/);
    expect(() => parse('proxy.local')).toThrow(/got 'proxy\.local'/);
  });
});

describe('API keys in the configuration file', () => {
  it('refuses an id given twice, naming both entries', () => {
    const k = generateKey('doublon01');
    const file = join(dir, 'keys.yaml');
    writeFileSync(
      file,
      `apiKeys:\n  - { id: ${k.id}, name: Grafana, role: viewer, tenants: [a], hash: "${k.hash}" }\n  - { id: ${k.id}, name: astreinte, role: operator, tenants: [a], hash: "${k.hash}" }\n`,
    );
    expect(() => loadFile(file)).toThrow(ConfigError);
    expect(() => loadFile(file)).toThrow(`${file}, path apiKeys[1].id: key id '${k.id}' (name 'astreinte') is already the id of apiKeys[0] (name 'Grafana'): each key needs its own id`);
  });
});
