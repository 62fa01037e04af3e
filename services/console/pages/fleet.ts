/** Parc: silent devices, low batteries, airtime and over-reporting, rejected messages. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../plugin.ts';

export function fleetPages(_app: FastifyInstance, _deps: ConsoleDeps): void {}
