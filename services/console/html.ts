/**
 * Server-rendered HTML with escaping by default: `html\`<p>${name}</p>\`` escapes `name`; only values that are
 * already `Html` (another template, or `trusted()` text the code itself wrote) pass through unchanged. A device name
 * or an alert comment coming from a network server or a user can therefore never become markup.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written by this code base itself (never data): passes through unescaped. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** Data for the page's script, in a non-executed JSON block (the CSP forbids inline scripts; this is not one). */
export function jsonBlock(id: string, data: unknown): Html {
  // `<` escaped so that no string in the data can close the element.
  return new Html(`<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`);
}
