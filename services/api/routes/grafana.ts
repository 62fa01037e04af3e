/**
 * Grafana's read path (docs/grafana.md): `/api/v1/grafana/query` answers like InfluxDB 1.x's `/query`, which is
 * what Grafana's InfluxDB datasource in InfluxQL mode calls (GET with `q`, or POST with `q` in a form body; `db`
 * and `epoch=ms` in the query string). Each commune's Grafana organisation has a datasource whose URL is
 * `…/api/v1/grafana` and whose header carries that commune's read-only key: every statement goes through
 * services/api/grafana-guard.ts, which accepts only the dashboards' query shapes and confines them to the
 * key's communes. The `db` Grafana sends is not used (the service reads its own database); times are epoch ms.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { confine, MAX_QUERY_LENGTH, QueryRefused } from '../grafana-guard.ts';
import type { ApiDeps } from '../deps.ts';
import { principalOf, requestedTenants } from '../scope.ts';

const statement = z.string().min(1, 'expected an InfluxQL statement').max(MAX_QUERY_LENGTH, `expected at most ${MAX_QUERY_LENGTH} characters`);
const common = {
  /** The datasource's database name: checked for shape, not used. */
  db: z.string().regex(/^[A-Za-z0-9_.-]{0,64}$/, 'expected a database name: letters, digits, _ . - (not used: Veilleur reads its own)').optional(),
  epoch: z.enum(['ms'], { error: "expected 'ms' (Grafana's InfluxDB datasource asks for epoch milliseconds)" }).optional(),
  /** Grafana sends the query's retention policy only when one was chosen; rollups are named in the statement. */
  rp: z.enum(['', 'default'], { error: "expected no retention policy (rollups are named in the statement: \"rollup_1d\".\"water_1d\")" }).optional(),
};

export const grafanaRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  // Grafana posts `q=…` as a form; parsed here only (this plugin is encapsulated), with a bound on its size.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4 * MAX_QUERY_LENGTH }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const answer = async (req: FastifyRequest, reply: FastifyReply, q: string) => {
    const tenants = requestedTenants(principalOf(req), undefined);
    let confined;
    try {
      confined = confine(q, tenants);
    } catch (err) {
      if (!(err instanceof QueryRefused)) throw err;
      req.log.info({ keyId: req.principal?.keyId ?? null, reason: err.message }, 'grafana query refused');
      // InfluxDB's error shape: Grafana shows `error` under the panel ("InfluxDB returned error: …").
      return reply.code(400).send({ statusCode: 400, error: `q: ${err.message}`, message: `q: ${err.message}` });
    }
    if (confined.kind === 'connectionTest') return { results: [{ statement_id: 0 }] };
    try {
      const series = await deps.influx.query(confined.influxql);
      return { results: [{ statement_id: 0, ...(series.length ? { series } : {}) }] };
    } catch (err) {
      const message = (err as Error).message;
      // An error InfluxDB found in a well-formed statement (a type mismatch…) goes back as InfluxDB would send it.
      if (message.startsWith('InfluxQL error:')) return { results: [{ statement_id: 0, error: message.slice('InfluxQL error:'.length).trim() }] };
      throw err;
    }
  };

  app.get(
    '/grafana/query',
    {
      schema: {
        summary: "Grafana's InfluxDB datasource (InfluxQL, InfluxDB 1.x /query API): the dashboards' queries only, confined to the key's communes",
        tags: ['grafana'],
        querystring: z.strictObject({ q: statement, ...common }),
      },
    },
    async (req, reply) => answer(req, reply, req.query.q),
  );

  app.post(
    '/grafana/query',
    {
      schema: {
        summary: "Grafana's InfluxDB datasource in POST mode: `q` in the form body",
        tags: ['grafana'],
        querystring: z.strictObject(common),
        body: z.strictObject({ q: statement }),
      },
    },
    async (req, reply) => answer(req, reply, req.body.q),
  );
};
