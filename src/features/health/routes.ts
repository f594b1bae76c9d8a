// Liveness and readiness. `/ping` keeps the reference's plain-text answer for existing health checks;
// public `/health` says only that the server is alive, and the counters (ingestion, backlog, poller,
// retention) are at `/health/details` for a signed-in user.

import { Type } from 'typebox';
import type { HttpPlugin } from '../../http/app.ts';

/** Extra readiness facts (ingestion backlog, retention…) contributed by the running services. */
export type HealthSource = () => Promise<Record<string, unknown>> | Record<string, unknown>;

/**
 * This process's memory: `rss_bytes` counts every thread (the ingestion worker too) and DuckDB's
 * native allocations; the heap figures are the main thread's JavaScript share of it.
 */
export const processMemory: HealthSource = () => {
  const usage = process.memoryUsage();
  return {
    process: {
      rss_bytes: usage.rss,
      heap_used_bytes: usage.heapUsed,
      heap_total_bytes: usage.heapTotal,
      external_bytes: usage.external,
      array_buffers_bytes: usage.arrayBuffers,
    },
  };
};

export function healthRoutes(sources: HealthSource[]): HttpPlugin {
  return async (app) => {
    app.get(
      '/ping',
      { config: { public: true }, schema: { tags: ['health'], response: { 200: Type.String() } } },
      async (_request, reply) => reply.type('text/plain').send('pong'),
    );
    app.get(
      '/health',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'Liveness',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/details',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness with the role, ingestion, poller and retention counters',
          response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: true }) },
        },
      },
      async () => {
        const facts = await Promise.all(sources.map((source) => source()));
        return Object.assign({ status: 'ok' as const }, ...facts);
      },
    );
  };
}
