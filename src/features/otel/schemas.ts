// The span-query payloads (api.md §5.1 with the Decisions applied). One schema per payload: it
// validates responses, documents them in /openapi.json and gives the web UI its types.
import { type Static, Type } from 'typebox';
import { SPAN_HEAD_KEYS } from '../../spans/span_json.ts';

const Json = Type.Unknown({ description: 'parsed JSON value' });
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const Timestamp = Type.String({
  description: 'RFC 3339 UTC with microseconds, e.g. 2025-10-12T17:33:48.123456Z',
  examples: ['2025-10-12T17:33:48.123456Z'],
});

export const SpanEvent = Type.Object({
  name: Type.String(),
  timeUnixNano: Type.Integer({
    description:
      'nanoseconds since the Unix epoch, a JSON number with every digit (a float64 parser may round the last ones)',
  }),
  droppedAttributesCount: Type.Integer(),
  attributes: JsonObject,
});

export const SpanLink = Type.Object({
  traceId: Type.String(),
  spanId: Type.String(),
  traceState: Type.String(),
  attributes: JsonObject,
  droppedAttributesCount: Type.Integer(),
  flags: Type.Integer(),
});

export const Span = Type.Object({
  trace_id: Type.String({ description: '32 lowercase hex' }),
  span_id: Type.String({ description: '16 lowercase hex' }),
  parent_span_id: Type.Union([Type.String(), Type.Null()], { description: 'null for a root span' }),
  service_name: Type.String(),
  name: Type.String(),
  kind: Type.String({ description: 'INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED' }),
  start_time: Timestamp,
  end_time: Timestamp,
  status_code: Type.String({ description: 'STATUS_CODE_UNSET, STATUS_CODE_OK or STATUS_CODE_ERROR' }),
  status_message: Type.String(),
  attributes_json: JsonObject,
  events_json: Type.Array(SpanEvent),
  links_json: Type.Array(SpanLink),
  trace_flags: Type.Integer(),
  trace_state: Type.Union([Type.String(), Type.Null()]),
  junjo_id: Type.String(),
  junjo_parent_id: Type.String(),
  junjo_span_type: Type.String({ description: 'workflow, subflow, node, run_concurrent, agent or ""' }),
  junjo_wf_state_start: Json,
  junjo_wf_state_end: Json,
  junjo_wf_graph_structure: Json,
  junjo_wf_store_id: Type.String(),
});
export type Span = Static<typeof Span>;

/** The opening fields of a Span: what a list needs to name, place and link a span. */
export const SpanSummary = Type.Pick(Span, [...SPAN_HEAD_KEYS], {
  description: 'A span without its attributes, events, links and Junjo columns',
});
export type SpanSummary = Static<typeof SpanSummary>;

export const CompactSpan = Type.Object(
  {
    trace_id: Span.properties.trace_id,
    span_id: Span.properties.span_id,
    parent_span_id: Span.properties.parent_span_id,
    service_name: Type.String(),
    name: Type.String(),
    kind: Span.properties.kind,
    start_time: Timestamp,
    end_time: Timestamp,
    status_code: Span.properties.status_code,
    status_message: Type.String(),
    junjo_id: Type.String(),
    junjo_parent_id: Type.String(),
    junjo_span_type: Span.properties.junjo_span_type,
    junjo_wf_store_id: Type.String(),
    junjo_wf_state_start: Json,
    junjo_wf_state_end: Json,
    junjo_wf_graph_structure: Json,
    has_exception: Type.Boolean({
      description: 'an event is named `exception` or has an `exception.type` attribute',
    }),
    is_llm: Type.Boolean({
      description:
        'an LLM span: `openinference.span.kind` = `LLM`, or a `gen_ai.operation.name` or `gen_ai.provider.name` attribute',
    }),
    state_events: Type.Array(SpanEvent, { description: 'the span’s `set_state` events, in its order' }),
    junjo_attributes: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'on workflow, subflow and agent spans, those of junjo.workflow.parent_store.id, junjo.workflow.node.count, ' +
        'junjo.agent.store.id, junjo.agent.state.start and junjo.agent.state.end the span has; {} on other spans',
    }),
  },
  { description: 'A span without its attributes, links and other events' },
);
export type CompactSpan = Static<typeof CompactSpan>;

/** What the trace waterfall draws of every span; `?view=waterfall` of the compact trace. */
export const WaterfallSpan = Type.Pick(
  CompactSpan,
  [
    'span_id',
    'parent_span_id',
    'service_name',
    'name',
    'start_time',
    'end_time',
    'status_code',
    'junjo_span_type',
    'has_exception',
    'is_llm',
  ],
  { description: "A compact span without the debugger's fields (state events, workflow state and graph)" },
);
export type WaterfallSpan = Static<typeof WaterfallSpan>;

export const CompactTraceQuerystring = Type.Object({
  view: Type.Optional(
    Type.Union([Type.Literal('debugger'), Type.Literal('waterfall')], {
      description:
        '`debugger` (default): every compact field; `waterfall`: only what the trace timeline draws, ' +
        'a fraction of the bytes for traces of workflows with many state updates',
    }),
  ),
});
export type SpanEvent = Static<typeof SpanEvent>;

export const StatePatch = Type.Object({
  patch_id: Type.String(),
  service_name: Type.String(),
  trace_id: Type.String(),
  span_id: Type.String(),
  workflow_id: Type.String(),
  node_id: Type.String(),
  event_time: Timestamp,
  patch_json: Json,
  patch_store_id: Type.String(),
});
export type StatePatch = Static<typeof StatePatch>;

export const LogRecord = Type.Object({
  trace_id: Type.String(),
  span_id: Type.String(),
  service_name: Type.String(),
  time: Timestamp,
  observed_time: Timestamp,
  severity_number: Type.Integer({ description: 'OTLP SeverityNumber, 0 (unspecified) to 24' }),
  severity_text: Type.String(),
  event_name: Type.String({ description: 'e.g. gen_ai.user.message, gen_ai.choice' }),
  body: Type.Unknown({ description: 'the record body as JSON (null when it has none)' }),
  attributes: JsonObject,
});
export type LogRecord = Static<typeof LogRecord>;

export const Service = Type.Object({
  service_name: Type.String(),
  span_count: Type.Integer({ description: 'spans stored for this service' }),
  trace_count: Type.Integer({ description: 'traces whose root span belongs to this service' }),
  last_seen: Type.String({
    description: 'start of the newest span of this service, RFC 3339 UTC with microseconds',
    examples: ['2025-10-12T17:33:48.123456Z'],
  }),
});
export type Service = Static<typeof Service>;

// ---- requests -----------------------------------------------------------------------------------

const hexId = (digits: number, description: string) =>
  Type.String({ pattern: `^[0-9a-fA-F]{${digits}}$`, description });
const TraceId = hexId(32, '32 hexadecimal digits (upper case is read as lower case)');
const SpanId = hexId(16, '16 hexadecimal digits (upper case is read as lower case)');

export const ServiceParams = Type.Object({
  service_name: Type.String({ minLength: 1, description: 'URL-encoded service name' }),
});
export const TraceParams = Type.Object({ trace_id: TraceId });
export const TraceSpanParams = Type.Object({ trace_id: TraceId, span_id: SpanId });

export const ListQuerystring = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 10000, description: 'page size (default 500, at most 10000)' }),
  ),
  before: Type.Optional(
    Type.String({
      description:
        'keyset cursor: only spans that started before this instant (RFC 3339, e.g. the start_time of the last span shown)',
    }),
  ),
  before_span_id: Type.Optional(
    hexId(
      16,
      'with `before`: also the spans that started exactly at `before` with a smaller span id (the span id of the last span shown)',
    ),
  ),
});

export const WorkflowListQuerystring = Type.Object({
  ...ListQuerystring.properties,
  view: Type.Optional(
    Type.Union([Type.Literal('full'), Type.Literal('summary')], {
      description:
        '`full` (default): every span whole; `summary`: only the fields of SpanSummary (ids, name, ' +
        'kind, times, status), a few hundred bytes per run instead of its state and graph',
    }),
  ),
});

export const StatePatchQuerystring = Type.Object({
  store_id: Type.Optional(Type.String({ description: 'only the patches of this store (junjo.store.id)' })),
});

export const ErrorMessage = Type.Object({ message: Type.String() });
