// The service overview charts' data (GET /otel/service/:service_name/workflow_stats): a thin
// adapter from the request to WorkflowStatsService; session-protected like every span query.
import type { HttpPlugin } from '../../http/app.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import { ErrorMessage, ServiceParams } from '../otel/schemas.ts';
import { WorkflowStats, WorkflowStatsQuerystring } from './schemas.ts';
import { WorkflowStatsService } from './service.ts';

export function workflowStatsRoutes(deps: { store: SpanReader; now?: () => bigint }): HttpPlugin {
  const service = new WorkflowStatsService(deps.store, deps.now);
  return async (app) => {
    app.get(
      '/otel/service/:service_name/workflow_stats',
      {
        schema: {
          tags: ['otel'],
          summary: "Runs, errors and p50/p95/p99 duration over time of a service's workflows",
          description:
            'One series per workflow (or the one named by `workflow`) with a bucket for every step of ' +
            'the range, empty ones included. A run counts in the bucket in which it started. The ' +
            'range is rounded out to whole buckets; it may span at most 400 days and 1000 buckets.',
          params: ServiceParams,
          querystring: WorkflowStatsQuerystring,
          response: { 200: WorkflowStats, 400: ErrorMessage },
        },
      },
      (request) => service.workflowStats(request.params.service_name, request.query),
    );
  };
}
