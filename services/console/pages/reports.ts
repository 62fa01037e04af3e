/** Rapports: the yearly REEN review, parsimony and datacenter reports, in the page and as downloads. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../plugin.ts';

export function reportPages(_app: FastifyInstance, _deps: ConsoleDeps): void {}
