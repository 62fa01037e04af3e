/** Administration: decode again the uplinks kept raw (after registering devices or codecs). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps } from '../deps.ts';
import { devEui, instant, resolveRange, tenantId } from '../params.ts';
import { ApiError, principalOf, requestedTenants } from '../scope.ts';

export const adminRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/admin/redecode',
    {
      config: { role: 'admin', audit: 'data.redecode', heavy: true },
      schema: {
        summary: 'Decode again the uplinks kept raw in a period, with the current registry and decoders',
        tags: ['admin'],
        body: z.strictObject({ tenant: tenantId.optional(), devEui: devEui.optional(), from: instant.optional(), to: instant.optional() }),
      },
    },
    async (req) => {
      if (!deps.redecode) throw new ApiError(503, 'unavailable', 're-decoding is not available on this instance');
      const tenants = requestedTenants(principalOf(req), req.body.tenant);
      const range = resolveRange(req.body, 30, 366);
      req.log.info({ keyId: req.principal?.keyId, tenants, ...range }, 're-decode requested through the API');
      const period = `${range.from.toISOString()} – ${range.to.toISOString()}`;
      noteAudit(req, { tenant: tenants, target: req.body.devEui ?? 'uplinks', detail: period });
      const report = await deps.redecode({ ...range, ...(req.body.devEui ? { devEui: req.body.devEui } : {}), ...(tenants ? { tenants } : {}) });
      noteAudit(req, { detail: `${period}: ${report.decoded} decoded of ${report.examined} examined` });
      return report;
    },
  );
};
