// The span query API (api.md §5, Decisions 1, 7, 8): session-protected GET routes, each a thin
// adapter from the request to OtelQueryService. The hyphenated spellings of the Go-era frontend are
// aliases served by the same handlers.
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { HttpPlugin } from '../../http/app.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import {
  CompactSpan,
  CompactTraceQuerystring,
  ErrorMessage,
  ListQuerystring,
  LogRecord,
  Service,
  ServiceParams,
  Span,
  SpanSummary,
  StatePatch,
  StatePatchQuerystring,
  TraceParams,
  TraceSpanParams,
  WaterfallSpan,
  WorkflowListQuerystring,
} from './schemas.ts';
import { DEFAULT_LIST_LIMIT, OtelQueryService } from './service.ts';

const TAGS = ['otel'];
const SpanList = Type.Array(Span);
const BadRequest = { 400: ErrorMessage };
const PAGING = `Newest first (start_time, then span_id, descending); \`limit\` defaults to ${DEFAULT_LIST_LIMIT}. \
For the next page pass the last span's start_time as \`before\` and its span_id as \`before_span_id\`.`;

/**
 * Sends JSON the service has already assembled (text, or its UTF-8 bytes). Fastify passes a string
 * or buffer with a JSON content type through unchanged, so the response schemas document these
 * routes without re-serializing.
 */
export function sendJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/**
 * Await the store's prepare() before serving. It is not done here because preparing an existing
 * database (a back-fill) can outlast Fastify's plugin start-up timeout.
 */
export function otelRoutes(deps: { store: SpanReader }): HttpPlugin {
  const service = new OtelQueryService(deps.store);
  return async (app) => {
    for (const url of ['/otel/span_service_names', '/otel/span-service-names']) {
      app.get(
        url,
        {
          schema: {
            tags: TAGS,
            summary: 'Names of the services that sent spans, in ascending order',
            response: { 200: Type.Array(Type.String()) },
          },
        },
        () => service.serviceNames(),
      );
    }

    app.get(
      '/otel/services',
      {
        schema: {
          tags: TAGS,
          summary: 'Every service with its span count, trace count and last activity',
          response: { 200: Type.Array(Service) },
        },
      },
      () => service.services(),
    );

    for (const url of ['/otel/service/:service_name/root_spans', '/otel/service/:service_name/root-spans']) {
      app.get(
        url,
        {
          schema: {
            tags: TAGS,
            summary: 'Root spans (one per trace) of a service',
            description: PAGING,
            params: ServiceParams,
            querystring: ListQuerystring,
            response: { 200: SpanList, ...BadRequest },
          },
        },
        async (request, reply) =>
          sendJson(reply, await service.rootSpans(request.params.service_name, request.query, false)),
      );
    }

    for (const url of [
      '/otel/service/:service_name/root_spans_filtered',
      '/otel/service/:service_name/root-spans-filtered',
    ]) {
      app.get(
        url,
        {
          schema: {
            tags: TAGS,
            summary: 'Root spans of a service whose trace contains an LLM span (in any service)',
            description: `An LLM span has \`openinference.span.kind\` = \`LLM\`, or a \`gen_ai.operation.name\` or \`gen_ai.provider.name\` attribute. ${PAGING}`,
            params: ServiceParams,
            querystring: ListQuerystring,
            response: { 200: SpanList, ...BadRequest },
          },
        },
        async (request, reply) =>
          sendJson(reply, await service.rootSpans(request.params.service_name, request.query, true)),
      );
    }

    app.get(
      '/otel/spans/type/workflow/:service_name',
      {
        schema: {
          tags: TAGS,
          summary: 'Workflow spans of a service (subflows excluded): its workflow executions',
          description: `${PAGING} \`view=summary\` answers each span's SpanSummary only.`,
          params: ServiceParams,
          querystring: WorkflowListQuerystring,
          response: { 200: Type.Union([SpanList, Type.Array(SpanSummary)]), ...BadRequest },
        },
      },
      async (request, reply) => {
        const { view, ...page } = request.query;
        return sendJson(reply, await service.workflowSpans(request.params.service_name, page, view));
      },
    );

    for (const url of ['/otel/trace/:trace_id/nested_spans', '/otel/trace/:trace_id/nested-spans']) {
      app.get(
        url,
        {
          schema: {
            tags: TAGS,
            summary: 'Every span of a trace as a flat list, newest first ([] for an unknown trace)',
            description: 'Build the tree from parent_span_id / span_id (and junjo_parent_id / junjo_id).',
            params: TraceParams,
            response: { 200: SpanList, ...BadRequest },
          },
        },
        async (request, reply) =>
          sendJson(reply, await service.traceSpans(request.params.trace_id.toLowerCase())),
      );
    }

    app.get(
      '/otel/trace/:trace_id/compact',
      {
        schema: {
          tags: TAGS,
          summary: 'Every span of a trace, compact: what a waterfall and the workflow debugger need',
          description:
            'The spans of nested_spans (same order) without attributes, links and events other than ' +
            '`set_state`; instead each says whether it has an exception event and whether it is an LLM ' +
            'span. Fetch /otel/trace/{trace_id}/span/{span_id} for a span’s attributes and events. ' +
            '`view=waterfall` answers only the fields the trace timeline draws.',
          params: TraceParams,
          querystring: CompactTraceQuerystring,
          response: {
            200: Type.Union([Type.Array(CompactSpan), Type.Array(WaterfallSpan)]),
            ...BadRequest,
            404: ErrorMessage,
          },
        },
      },
      async (request, reply) =>
        sendJson(
          reply,
          await service.compactTrace(request.params.trace_id.toLowerCase(), request.query.view),
        ),
    );

    app.get(
      '/otel/trace/:trace_id/otlp',
      {
        schema: {
          tags: TAGS,
          summary: 'The whole trace as an OTLP/JSON ExportTraceServiceRequest, as a file download',
          description:
            'POST the file to /v1/traces of another server (with an API key) to reproduce the trace: ' +
            'same span rows, same state patches. Rebuilt from the stored rows: one resource per service ' +
            '(service.name only), one unnamed scope, microsecond span times.',
          params: TraceParams,
          response: {
            200: Type.Object({ resourceSpans: Type.Array(Type.Unknown()) }),
            ...BadRequest,
            404: ErrorMessage,
          },
        },
      },
      async (request, reply) => {
        const traceId = request.params.trace_id.toLowerCase();
        const otlp = await service.traceOtlp(traceId);
        reply.header('content-disposition', `attachment; filename="trace-${traceId}.otlp.json"`);
        return sendJson(reply, otlp);
      },
    );

    app.get(
      '/otel/trace/:trace_id/span/:span_id',
      {
        schema: {
          tags: TAGS,
          summary: 'One span of a trace',
          params: TraceSpanParams,
          response: { 200: Span, ...BadRequest, 404: ErrorMessage },
        },
      },
      async (request, reply) =>
        sendJson(
          reply,
          await service.span(request.params.trace_id.toLowerCase(), request.params.span_id.toLowerCase()),
        ),
    );

    app.get(
      '/otel/trace/:trace_id/span/:span_id/logs',
      {
        schema: {
          tags: TAGS,
          summary: 'OTLP log records of a span, in the order they happened ([] when it has none)',
          description:
            'Log records exported with the span’s trace and span ids, e.g. the prompt and completion ' +
            'events (gen_ai.system.message, gen_ai.user.message, gen_ai.choice) of the OpenTelemetry ' +
            'GenAI instrumentations. Ordered by time; a record without a time has its observed time.',
          params: TraceSpanParams,
          response: { 200: Type.Array(LogRecord), ...BadRequest },
        },
      },
      async (request, reply) =>
        sendJson(
          reply,
          await service.spanLogRecords(
            request.params.trace_id.toLowerCase(),
            request.params.span_id.toLowerCase(),
          ),
        ),
    );

    app.get(
      '/otel/trace/:trace_id/state_patches',
      {
        schema: {
          tags: TAGS,
          summary: 'State patches (set_state events) of a trace, in the order they happened',
          description:
            'Ordered by event_time, then patch_id (a stable order for patches of the same instant). ' +
            'Apply the patches of one store, in this order, to its owner span’s junjo_wf_state_start.',
          params: TraceParams,
          querystring: StatePatchQuerystring,
          response: { 200: Type.Array(StatePatch), ...BadRequest },
        },
      },
      async (request, reply) =>
        sendJson(
          reply,
          await service.statePatches(request.params.trace_id.toLowerCase(), request.query.store_id),
        ),
    );
  };
}
