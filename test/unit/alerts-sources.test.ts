/**
 * What users read as a rule's source must exist: the normative or published text itself (title and article),
 * never a file of ours or of anyone's working tree.
 */
import { describe, expect, it } from 'vitest';
import { ruleCatalogue } from '../../services/alerts/catalogue.ts';

/** A file name: a word followed by a file extension ("domain-rules.md", "settings.ts", "rules.yaml"). */
const FILE_NAME = /[\w-]+\.(md|markdown|ts|js|mjs|cjs|json|ya?ml|toml|txt|html?|csv|pdf|docx?|xlsx?|py)\b/i;

describe('rule sources', () => {
  const catalogue = ruleCatalogue();

  it('the file-name check catches what it must and spares real references', () => {
    for (const bad of ['domain-rules.md §6 W1', 'see settings.ts', 'rules.yaml', 'Annex.PDF']) expect(bad, bad).toMatch(FILE_NAME);
    for (const good of ["Code de l'énergie, article R241-27", 'ISO/IEC 30134-2 (EN 50600-4-2)', 'application note AN1200.13', 'Zeitschrift für Meteorologie 40 (1990)']) {
      expect(good, good).not.toMatch(FILE_NAME);
    }
  });

  it('no rule cites a file: each cites a published text with its title', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(20);
    for (const r of catalogue) {
      expect(r.source.reference, r.id).not.toMatch(FILE_NAME);
      for (const lang of ['fr', 'en'] as const) {
        expect(r.source.text[lang], `${r.id} ${lang}`).not.toMatch(FILE_NAME);
        expect(`${r.source.text[lang]} ${r.source.reference}`, r.id).not.toMatch(/domain-rules|shared\/reference|\[[HSUV]\]/);
      }
      // A title, not a pointer: several words, and not the rule's own id.
      expect(r.source.reference.split(/\s+/).length, r.id).toBeGreaterThanOrEqual(3);
      expect(r.source.reference, r.id).not.toMatch(new RegExp(`\\b${r.id}\\b`));
    }
  });

  it('says what the source says in French and in English', () => {
    for (const r of catalogue) {
      const { fr, en } = r.source.text;
      expect(fr.trim().length, `${r.id} fr`).toBeGreaterThan(20);
      expect(en.trim().length, `${r.id} en`).toBeGreaterThan(20);
      expect(fr, r.id).not.toBe(en);
      // French typography: a space before the colon and semicolon, none glued to the word before (no "source: …").
      expect(fr, r.id).not.toMatch(/\S[:;](\s|$)/);
      // Written in French, not an English sentence with a French name in it.
      expect(fr, r.id).not.toMatch(/\b(the|and|is|are|when|above|below|over)\b/i);
      expect(fr, r.id).toMatch(/\b(le|la|les|de|du|des|au|par)\b/);
    }
    // The English text stays that of the published source.
    expect(catalogue.find((r) => r.id === 'E2')!.source.text.en).toMatch(/^Unoccupied for 24 h to less than 48 h: 16 °C at most/);
    expect(catalogue.find((r) => r.id === 'E2')!.source.text.fr).toMatch(/^Inoccupation de 24 h à moins de 48 h : 16 °C au plus en moyenne/);
  });

  it('cites the articles of the Code de l’énergie and the standards by name', () => {
    const ref = (id: string) => catalogue.find((r) => r.id === id)!.source.reference;
    expect(ref('E1')).toBe("Code de l'énergie, article R241-26");
    expect(ref('E2')).toBe("Code de l'énergie, article R241-27");
    expect(ref('E3')).toBe("Code de l'énergie, article R241-30");
    expect(ref('D1')).toContain('ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments');
    expect(ref('D1')).toContain('EN 50600');
    expect(ref('D4')).toContain('ISO/IEC 30134-2');
    expect(ref('A1')).toContain('Haut Conseil de la santé publique, avis du 28 avril 2021');
    expect(ref('W2')).toContain('UKWIR');
    expect(ref('E5')).toContain('Décret n° 2019-771');
  });
});
