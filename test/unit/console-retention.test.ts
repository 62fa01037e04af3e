import { describe, expect, it } from 'vitest';
import { formatter } from '../../services/console/format.ts';
import { MESSAGES } from '../../services/console/i18n/index.ts';
import { actorShown, durationWords, parseChange, settingLabel } from '../../services/console/pages/retention.ts';

const fr = MESSAGES.fr.retention;
const en = MESSAGES.en.retention;
const nfr = (n: number) => formatter('fr').number(n, 0);
const nen = (n: number) => formatter('en').number(n, 0);

describe('Conservation: durations in words', () => {
  it('says how long in days with what people count in: weeks, months, years', () => {
    expect(durationWords('90d', fr, nfr)).toBe('90 jours (environ 3 mois)');
    expect(durationWords('730d', fr, nfr)).toBe('730 jours (2 ans)');
    expect(durationWords('1900d', fr, nfr)).toBe('1\u202f900 jours (environ 5 ans et 2 mois)');
    expect(durationWords('3650d', fr, nfr)).toBe('3\u202f650 jours (10 ans)');
    expect(durationWords('14d', fr, nfr)).toBe('14 jours (2 semaines)');
    expect(durationWords('8d', fr, nfr)).toBe('8 jours');
    expect(durationWords('1d', fr, nfr)).toBe('1 jour');
    expect(durationWords('36h', fr, nfr)).toBe('36 heures');
    expect(durationWords('inf', fr, nfr)).toBe('sans limite');
    expect(durationWords('none', fr, nfr)).toBe('aucune (pas encore créée)');
    expect(durationWords('365d', en, nen)).toBe('365 days (1 year)');
    expect(durationWords('400d', en, nen)).toBe('400 days (about 1 year and 1 month)');
  });

  it('names settings, including a class added after this page was written', () => {
    expect(settingLabel('retention.raw', fr, 'fr')).toBe('Conservation des relevés bruts');
    expect(settingLabel('rollups.timeZone', en, 'en')).toBe('Time zone of the days');
    expect(settingLabel('retention.unheard-of', fr, 'fr')).toBe('Conservation : unheard-of');
  });
});

describe('Conservation: who changed it', () => {
  it('shows the instance’s key names and accounts to instance-wide keys only', () => {
    const api = { actor: 'équipe agglo (k1234567)', source: 'api' as const };
    expect(actorShown(api, true, fr)).toBe('équipe agglo (k1234567)');
    expect(actorShown(api, false, fr)).toBe('un administrateur de l’instance');
    expect(actorShown({ actor: 'root@srv-veilleur', source: 'cli' }, false, fr)).toBe('un administrateur de l’instance (ligne de commande)');
    expect(actorShown({ actor: 'configuration file /etc/veilleur/veilleur.yaml', source: 'config' }, false, fr)).toBe('le fichier de configuration');
    // The decision's author named in the configuration (changedBy) is the decision's signature: shown.
    expect(actorShown({ actor: 'Marie Dupont, DSI', source: 'config' }, false, fr)).toBe('Marie Dupont, DSI');
    expect(actorShown({ actor: 'unknown (changed outside Veilleur)', source: 'external' }, false, en)).toBe('unknown (changed directly in the database)');
  });
});

describe('Conservation: the change form', () => {
  const ok = { classe: 'raw', valeur: '60', unite: 'jours', raison: 'Délibération 2026-031' };

  it('turns the form into the duration the API takes, with its reason', () => {
    expect(parseChange(ok)).toEqual({ ok: true, cls: 'raw', value: '60d', reason: 'Délibération 2026-031' });
    expect(parseChange({ ...ok, valeur: '3', unite: 'semaines' })).toMatchObject({ ok: true, value: '21d' });
    expect(parseChange({ ...ok, classe: 'daily', valeur: '5', unite: 'annees' })).toMatchObject({ ok: true, value: '1825d' });
    expect(parseChange({ ...ok, classe: 'events', valeur: '', unite: 'illimite' })).toMatchObject({ ok: true, value: 'inf' });
  });

  it('refuses a missing or too short reason, whatever the change', () => {
    expect(parseChange({ ...ok, raison: '' })).toEqual({ ok: false, problem: 'reason' });
    expect(parseChange({ ...ok, raison: '  ab ' })).toEqual({ ok: false, problem: 'reason' });
    expect(parseChange({ ...ok, valeur: '365', raison: undefined })).toEqual({ ok: false, problem: 'reason' });
  });

  it('refuses an unknown class, a bad number and a duration below the class minimum', () => {
    expect(parseChange({ ...ok, classe: 'audit' })).toEqual({ ok: false, problem: 'cls' });
    expect(parseChange({ ...ok, valeur: '0' })).toEqual({ ok: false, problem: 'value' });
    expect(parseChange({ ...ok, valeur: '2.5' })).toEqual({ ok: false, problem: 'value' });
    expect(parseChange({ ...ok, unite: 'mois' })).toEqual({ ok: false, problem: 'value' });
    expect(parseChange({ ...ok, valeur: '7' })).toEqual({ ok: false, problem: { minimum: 'raw' } });
  });
});
