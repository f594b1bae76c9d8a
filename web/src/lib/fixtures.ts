// Span builders for the lib tests and the UI benchmark: spans shaped exactly like the API's
// (api.md §5.1), with only the fields a test cares about spelled out.
import type { CompactSpan, Span, SpanEvent } from '../../../src/features/otel/schemas.ts';
import { DEBUGGER_ATTRIBUTES, DEBUGGER_SPAN_TYPES, STATE_EVENT } from '../../../src/spans/compact_span.ts';
import { isLlmAttributes } from '../../../src/spans/llm_span.ts';

const EPOCH_MS = Date.UTC(2025, 9, 12, 17, 0, 0);

/** `2025-10-12T17:00:00.000000Z` plus the given microseconds. */
export function isoAt(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const base = new Date(EPOCH_MS + ms).toISOString().slice(0, 19);
  const fraction = String((ms % 1000) * 1000 + (micros % 1000)).padStart(6, '0');
  return `${base}.${fraction}Z`;
}

/**
 * Nanosecond event time at the given microseconds after the fixture epoch, as JSON.parse in the
 * browser reads the server's JSON number: a float64, rounded to a multiple of 256 ns.
 */
export function nanosAt(micros: number): number {
  return Number((BigInt(EPOCH_MS) * 1000n + BigInt(micros)) * 1000n);
}

export function makeSpan(
  fields: Partial<Span> & { span_id: string; startUs?: number; endUs?: number },
): Span {
  const { startUs = 0, endUs = startUs + 1000, ...rest } = fields;
  return {
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    parent_span_id: null,
    service_name: 'my-ai-workflow',
    name: fields.span_id,
    kind: 'INTERNAL',
    start_time: isoAt(startUs),
    end_time: isoAt(endUs),
    status_code: 'STATUS_CODE_UNSET',
    status_message: '',
    attributes_json: {},
    events_json: [],
    links_json: [],
    trace_flags: 1,
    trace_state: null,
    junjo_id: '',
    junjo_parent_id: '',
    junjo_span_type: '',
    junjo_wf_state_start: {},
    junjo_wf_state_end: {},
    junjo_wf_graph_structure: {},
    junjo_wf_store_id: '',
    ...rest,
  };
}

/** makeSpan as GET /otel/trace/{id}/compact returns it (src/spans/compact_span.ts says what it keeps). */
export function makeCompactSpan(fields: Parameters<typeof makeSpan>[0]): CompactSpan {
  const { attributes_json, events_json, links_json, trace_flags, trace_state, ...shared } = makeSpan(fields);
  const debuggerSpan = (DEBUGGER_SPAN_TYPES as readonly string[]).includes(shared.junjo_span_type);
  return {
    ...shared,
    has_exception: events_json.some((e) => e.name === 'exception' || 'exception.type' in e.attributes),
    is_llm: isLlmAttributes(attributes_json),
    state_events: events_json.filter((e) => e.name === STATE_EVENT),
    junjo_attributes: Object.fromEntries(
      DEBUGGER_ATTRIBUTES.filter((key) => debuggerSpan && key in attributes_json).map((key) => [
        key,
        attributes_json[key],
      ]),
    ),
  };
}

export function setStateEvent(options: {
  atUs: number;
  storeId: string;
  patch: string;
  action?: string;
  storeName?: string;
  id?: string;
  sequence?: number;
}): SpanEvent {
  const attributes: Record<string, unknown> = {
    'junjo.store.id': options.storeId,
    'junjo.store.name': options.storeName ?? 'SampleWorkflowStore',
    'junjo.store.action': options.action ?? 'set_state',
    'junjo.state_json_patch': options.patch,
  };
  if (options.id) attributes.id = options.id;
  if (options.sequence !== undefined) attributes['junjo.store.transition.sequence'] = options.sequence;
  return { name: 'set_state', timeUnixNano: nanosAt(options.atUs), droppedAttributesCount: 0, attributes };
}
