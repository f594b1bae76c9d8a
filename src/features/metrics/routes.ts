// GET /metrics for Prometheus: off (404) unless JUNJO_METRICS_TOKEN is set, then only with
// `Authorization: Bearer <token>`. Not a session route: scrapers have no cookie.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { notFound, unauthorized } from '../../errors.ts';
import type { HttpPlugin } from '../../http/app.ts';
import type { Metrics } from './metrics.ts';

/** Hashing first gives both sides one length, so the comparison leaks neither content nor length. */
const digest = (text: string) => createHash('sha256').update(text).digest();

export function metricsRoutes(deps: { token: string; metrics: Metrics }): HttpPlugin {
  const expected = deps.token ? digest(deps.token) : null;
  return async (app) => {
    app.get(
      '/metrics',
      {
        config: { public: true },
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format)',
          description: 'Enabled by JUNJO_METRICS_TOKEN (404 otherwise); send it as a bearer token.',
          security: [{ metricsToken: [] }],
          response: { 200: Type.String(), 401: Type.Object({ message: Type.String() }) },
        },
      },
      async (request, reply) => {
        if (!expected) throw notFound('Metrics are disabled (set JUNJO_METRICS_TOKEN)');
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !timingSafeEqual(digest(given), expected)) {
          throw unauthorized('Unauthorized: a valid metrics bearer token is required');
        }
        const { contentType, body } = await deps.metrics.scrape();
        return reply.type(contentType).send(body);
      },
    );
  };
}
