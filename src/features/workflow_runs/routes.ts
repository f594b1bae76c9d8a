// GET /otel/service/{service_name}/workflow_runs: the workflow runs of a service with optional filters
// (workflow, nodes run / not run / failed, duration, start/end state, time range), keyset-paged like
// /otel/spans/type/workflow/{service_name}, which stays as it is. Session-protected like every otel route.
import { Type } from 'typebox';
import type { HttpPlugin } from '../../http/app.ts';
import { jsonArrayBytes } from '../../spans/span_json.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import { isEmptyRunFilter } from '../../spans/workflow_run_filter.ts';
import { sendJson } from '../otel/routes.ts';
import { ErrorMessage, ServiceParams, Span } from '../otel/schemas.ts';
import { DEFAULT_LIST_LIMIT, pageRequest } from '../otel/service.ts';
import { runFilterFromQuery } from './run_filter_query.ts';
import { WorkflowRunsQuerystring } from './schemas.ts';

export function workflowRunRoutes(deps: { store: SpanReader }): HttpPlugin {
  const { store } = deps;
  return async (app) => {
    app.get(
      '/otel/service/:service_name/workflow_runs',
      {
        schema: {
          tags: ['otel'],
          summary:
            'Workflow runs of a service (subflows excluded), filtered by workflow, nodes, duration and state',
          description:
            'Every filter is optional and all of them must hold; without any, the answer is that of ' +
            '/otel/spans/type/workflow/{service_name}. Newest first (start_time, then span_id, descending); ' +
            `\`limit\` defaults to ${DEFAULT_LIST_LIMIT}; for the next page pass the last run's start_time as ` +
            '`before` and its span_id as `before_span_id`. A node filter matches node spans of that name in ' +
            'the run (same trace, started within the run). State conditions test the end state (or the start ' +
            'state with state_of=start): `=` compares JSON type and value, `!=` is its negation (a missing ' +
            'value is not equal), `<` `>` need numbers, `contains` is a substring of a string or an element ' +
            'of an array, `exists` holds for any value (null included). At most 20 node and state conditions ' +
            'together, 1024 characters each.',
          params: ServiceParams,
          querystring: WorkflowRunsQuerystring,
          response: { 200: Type.Array(Span), 400: ErrorMessage },
        },
      },
      async (request, reply) => {
        const page = pageRequest(request.query);
        const filter = runFilterFromQuery(request.query);
        const { service_name: service } = request.params;
        const runs = isEmptyRunFilter(filter)
          ? await store.workflowSpanPage(service, page)
          : await store.workflowRunPage(service, filter, page);
        return sendJson(reply, jsonArrayBytes(runs));
      },
    );
  };
}
