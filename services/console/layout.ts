/**
 * The page shell every console page shares: language, skip link, header with the navigation (the current page
 * marked with aria-current), who is signed in, the language switch and sign-out; then the page's own content.
 */
import { html, type Html } from './html.ts';
import type { PageContext } from './context.ts';

export type Section = 'alerts' | 'sites' | 'fleet' | 'reports' | 'retention';

const NAV: { section: Section; href: string }[] = [
  { section: 'alerts', href: '/' },
  { section: 'sites', href: '/sites' },
  { section: 'fleet', href: '/parc' },
  { section: 'reports', href: '/rapports' },
  { section: 'retention', href: '/conservation' },
];

export function languageLink(ctx: { lang: 'fr' | 'en'; url: string; t: PageContext['t'] }): Html {
  const other = ctx.lang === 'fr' ? 'en' : 'fr';
  return html`<a class="lang" href="/langue/${other}?suite=${encodeURIComponent(ctx.url)}" lang="${other}" hreflang="${other}" aria-label="${ctx.t.switchLanguageLabel}">${ctx.t.switchLanguage}</a>`;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.session.csrf}">`;
}

function shell(lang: string, title: string, header: Html, body: Html): Html {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} – Veilleur</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/uPlot.iife.min.js" defer></script>
<script src="/assets/console.js" defer></script>
</head>
<body>
${header}
${body}
</body>
</html>`;
}

export function layout(ctx: PageContext, opts: { title: string; section: Section | undefined; content: Html; notice?: Html | undefined }): Html {
  const t = ctx.t;
  const header = html`<a class="skip" href="#contenu">${t.skipToContent}</a>
<header class="top">
  <p class="brand"><a href="/">${t.appName}</a> <span>${t.appTagline}</span></p>
  <nav aria-label="${t.mainNav}"><ul>
    ${NAV.map((n) => html`<li><a href="${n.href}"${n.section === opts.section ? html` aria-current="page"` : ''}>${t.nav[n.section]}</a></li>`)}
  </ul></nav>
  <div class="who">
    <span>${t.signedInAs(ctx.principal.name, t.roles[ctx.principal.role] ?? ctx.principal.role)}</span>
    ${languageLink(ctx)}
    <form method="post" action="/deconnexion">${csrfField(ctx)}<button type="submit" class="link">${t.signOut}</button></form>
  </div>
</header>`;
  const body = html`<main id="contenu" tabindex="-1">
<h1>${opts.title}</h1>
${opts.notice ?? ''}
${opts.content}
</main>
<footer><p>Veilleur · ${t.appTagline}</p></footer>`;
  return shell(t.langAttr, opts.title, header, body);
}

/** A page without the signed-in header: sign-in and refusals of requests without a session. */
export function barePage(ctx: { lang: 'fr' | 'en'; url: string; t: PageContext['t'] }, title: string, content: Html): Html {
  const header = html`<a class="skip" href="#contenu">${ctx.t.skipToContent}</a>
<header class="top"><p class="brand"><a href="/">${ctx.t.appName}</a> <span>${ctx.t.appTagline}</span></p><div class="who">${languageLink(ctx)}</div></header>`;
  return shell(ctx.t.langAttr, title, header, html`<main id="contenu" tabindex="-1" class="narrow"><h1>${title}</h1>${content}</main>`);
}

export function notice(kind: 'ok' | 'error' | 'info', text: string): Html {
  return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
}
