/** Conservation: retention per data class, its audit log, changes by instance admins with a reason. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../plugin.ts';

export function retentionPages(_app: FastifyInstance, _deps: ConsoleDeps): void {}
