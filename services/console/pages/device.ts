/** Appareil: one device, its metadata, radio, charts per quantity and uplinks kept raw. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../plugin.ts';

export function devicePages(_app: FastifyInstance, _deps: ConsoleDeps): void {}
