// The span-query payloads (api.md §5.1 with the Decisions applied). One schema per payload: it
// validates responses, documents them in /openapi.json and gives the web UI its types.
import { type Static, Type } from 'typebox';

const Json = Type.Unknown({ description: 'parsed JSON value' });
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const Timestamp = Type.String({
  description: 'RFC 3339 UTC with microseconds, e.g. 2025-10-12T17:33:48.123456Z',
  examples: ['2025-10-12T17:33:48.123456Z'],
});

export const SpanEvent = Type.Object({
  name: Type.String(),
  timeUnixNano: Type.String({ description: 'nanoseconds since the Unix epoch, as a decimal string' }),
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
