/**
 * Dates and numbers as people read them: French formats by default (« 6 déc. 2026 à 14:05 », « 1 234,5 »), in the
 * site's time zone, with the unit. Intl formatters are costly to build: one per (language, zone, style), kept.
 */
import type { Lang } from '../registry/names.ts';

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(lang: Lang, timeZone: string, style: 'datetime' | 'date' | 'time' | 'short'): Intl.DateTimeFormat {
  const key = `d|${lang}|${timeZone}|${style}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
    const options: Intl.DateTimeFormatOptions =
      style === 'datetime'
        ? { dateStyle: 'medium', timeStyle: 'short' }
        : style === 'date'
          ? { dateStyle: 'medium' }
          : style === 'time'
            ? { timeStyle: 'short' }
            : { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' };
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    cache.set(key, f);
  }
  return f;
}

function numberFormat(lang: Lang, digits: number): Intl.NumberFormat {
  const key = `n|${lang}|${digits}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: digits });
    cache.set(key, f);
  }
  return f;
}

export interface Formatter {
  lang: Lang;
  dateTime(t: Date | string | number | null | undefined, timeZone?: string): string;
  date(t: Date | string | number, timeZone?: string): string;
  short(t: Date | string | number, timeZone?: string): string;
  number(n: number | null | undefined, digits?: number): string;
  /** "18 L/h", "19,6 °C", "87 %" (French puts a space before % and units). */
  quantity(n: number | null | undefined, unit: string, digits?: number): string;
  /** "il y a 3 h" / "3 h ago". */
  ago(t: Date | string | number | null | undefined, now?: number): string;
}

const DEFAULT_ZONE = 'Europe/Paris';

export function formatter(lang: Lang, defaultZone = DEFAULT_ZONE): Formatter {
  const toDate = (t: Date | string | number) => (t instanceof Date ? t : new Date(t));
  const f: Formatter = {
    lang,
    dateTime: (t, tz) => (t === null || t === undefined ? (lang === 'fr' ? 'jamais' : 'never') : dateFormat(lang, tz ?? defaultZone, 'datetime').format(toDate(t))),
    date: (t, tz) => dateFormat(lang, tz ?? defaultZone, 'date').format(toDate(t)),
    short: (t, tz) => dateFormat(lang, tz ?? defaultZone, 'short').format(toDate(t)),
    number: (n, digits = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : numberFormat(lang, digits).format(n)),
    quantity: (n, unit, digits = 1) => {
      const v = f.number(n, digits);
      if (v === '–' || !unit) return v;
      return `${v}\u202f${unit}`;
    },
    ago: (t, now = Date.now()) => {
      if (t === null || t === undefined) return lang === 'fr' ? 'jamais' : 'never';
      const s = Math.max(0, Math.round((now - toDate(t).getTime()) / 1000));
      const [n, unit] = s < 90 ? [s, 's'] : s < 5400 ? [Math.round(s / 60), 'min'] : s < 172_800 ? [Math.round(s / 3600), 'h'] : [Math.round(s / 86_400), lang === 'fr' ? 'j' : 'd'];
      return lang === 'fr' ? `il y a ${n}\u202f${unit}` : `${n}\u202f${unit} ago`;
    },
  };
  return f;
}
