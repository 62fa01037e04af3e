/**
 * What the official reads of a report: the visible text before the technical appendix, and the configuration
 * identifiers or English role labels that leak into it. Shared by the unit and the integration tests.
 */
import { ROLES } from '../../decoders/model/roles.ts';
import { ROLE_LABELS } from '../../services/registry/names.ts';
import { ALERT_EVENT, DEVICE_EVENT, DEVICE_STATUS, LNS_OBJECT, READING_MEASUREMENTS, UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from '../../services/storage/schema.ts';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text nodes of the official's part of the HTML (up to the technical appendix), page title included. */
export function officialText(html: string): string[] {
  const end = html.indexOf('<section id="annexe"');
  const body = (end >= 0 ? html.slice(0, end) : html).replace(/<style>[\s\S]*?<\/style>/g, '');
  return body
    .split(/<[^>]*>/)
    .map((s) => s.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!).trim())
    .filter(Boolean);
}

/** Identifiers that are never meant for the reader, whatever the configuration: roles, measurements, 'unknown'. */
export const FIXED_IDENTIFIERS = [
  ...Object.values(ROLES),
  ...READING_MEASUREMENTS,
  ...[UPLINK, UPLINK_UNDECODED, UPLINK_REJECTED, LNS_OBJECT, DEVICE_STATUS, DEVICE_EVENT, ALERT_EVENT].map((m) => m.measurement),
  'unknown',
  'VEILLEUR_CONFIG',
];

export const ENGLISH_ROLES = Object.values(ROLE_LABELS).map((l) => l.en);

/**
 * Each identifier found in the texts, with the text it is in. An identifier counts as a whole word: letters,
 * digits, '_', '-' and apostrophes around it make another word ("d'air" is not the measurement `air`).
 */
export function leaks(texts: readonly string[], identifiers: readonly string[], phrases: readonly string[] = ENGLISH_ROLES): string[] {
  const found: string[] = [];
  for (const id of new Set(identifiers)) {
    if (!id) continue;
    const re = new RegExp(`(^|[^\\p{L}\\d_'’-])${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}\\d_'’-])`, 'u');
    for (const text of texts) if (re.test(text)) found.push(`${id} in «${text}»`);
  }
  for (const phrase of phrases) for (const text of texts) if (text.includes(phrase)) found.push(`English «${phrase}» in «${text}»`);
  return found;
}
