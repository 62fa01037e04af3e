/** Sites: per commune, each site with tiles that answer the daily questions. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../plugin.ts';

export function sitePages(_app: FastifyInstance, _deps: ConsoleDeps): void {}
