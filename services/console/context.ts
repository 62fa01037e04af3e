/**
 * What every console page needs to render: who is signed in (the principal, as the auth hook found it), the
 * session (language, CSRF token), the messages and formatters of the language, and the display names of communes
 * and sites. Built once per request by the console plugin.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../api/keys.ts';
import { requestedTenants } from '../api/scope.ts';
import type { DisplayNames, Lang } from '../registry/names.ts';
import { formatter, type Formatter } from './format.ts';
import { MESSAGES, type Messages } from './i18n/index.ts';
import type { Session } from './session.ts';

export interface PageContext {
  principal: Principal;
  session: Session;
  lang: Lang;
  t: Messages;
  fmt: Formatter;
  names: DisplayNames;
  /** The request's path and query, for links that come back here (language switch, sign-in). */
  url: string;
  /** The tenants the principal may read, sorted; undefined for an instance-wide key (see tenantsOf). */
  tenants: string[] | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession?: Session;
    page?: PageContext;
  }
}

export function buildContext(req: FastifyRequest, session: Session, names: DisplayNames): PageContext {
  const principal = req.principal!;
  const lang = session.lang;
  return {
    principal,
    session,
    lang,
    t: MESSAGES[lang],
    fmt: formatter(lang),
    names,
    url: req.url,
    tenants: requestedTenants(principal, undefined)?.sort(),
  };
}

export function pageOf(req: FastifyRequest): PageContext {
  if (!req.page) throw new Error('console page context missing: the route lacks config.console');
  return req.page;
}
