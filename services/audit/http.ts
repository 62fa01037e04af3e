/**
 * Audit of API actions in one hook: a route names its action (`config: { audit: 'alert.acknowledge' }`), its
 * handler notes the commune and target once it has checked them (`noteAudit`), and the hook records the outcome
 * from the status answered, before the answer leaves (the record is in the spool when the client reads it).
 * Requests refused by authentication never reach a route's action: they are logged as refusals (auth.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { INSTANCE, type AuditAction, type AuditLog, type AuditRecordInput } from './trail.ts';

export interface AuditNote {
  tenant?: AuditRecordInput['tenant'];
  target?: string;
  detail?: string;
  /** This request is not an action after all (e.g. a JSON page of the audit log itself). */
  skip?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The action this route performs, recorded in the audit trail with its outcome. */
    audit?: AuditAction;
  }
  interface FastifyRequest {
    auditNote?: AuditNote;
  }
}

export function noteAudit(req: FastifyRequest, note: AuditNote): void {
  req.auditNote = { ...req.auditNote, ...note };
}

function refusalText(payload: unknown): string {
  if (typeof payload !== 'string') return '';
  try {
    const body = JSON.parse(payload) as { error?: unknown; message?: unknown };
    return [body.error, body.message].filter((x) => typeof x === 'string').join(': ');
  } catch {
    return '';
  }
}

export function installAuditTrail(app: FastifyInstance, audit: AuditLog | undefined): void {
  if (!audit) return;
  app.addHook('onSend', async (req, reply, payload) => {
    const action = req.routeOptions.config?.audit;
    const principal = req.principal;
    const note = req.auditNote ?? {};
    if (!action || !principal || note.skip) return payload;
    const status = reply.statusCode;
    const outcome = status < 400 ? 'success' : status >= 500 ? 'failed' : 'refused';
    const params = (req.params ?? {}) as Record<string, unknown>;
    audit.record({
      actor: { keyId: principal.keyId, name: principal.name },
      action,
      // Refused before the handler found its commune (another commune's alert, a commune the key does not cover):
      // an instance-level record, so a commune's admin never reads another commune's identifiers in its trail.
      tenant: note.tenant ?? INSTANCE,
      target: note.target ?? (typeof params.id === 'string' ? params.id : undefined),
      ip: req.ip,
      outcome,
      status,
      detail: outcome === 'success' ? note.detail : [refusalText(payload), note.detail].filter(Boolean).join(' · '),
      source: 'api',
    });
    return payload;
  });
}
