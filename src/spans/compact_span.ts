// The compact span: what the trace waterfall and the workflow debugger need of every span of a
// trace up front. A span's attributes and its other events (LLM prompts, stack traces, tool output)
// can be hundreds of KB; the UI fetches them for one span when it is opened, so a trace of LLM
// calls loads as fast as one without.
//
// The definitions here are the contract every store keeps (span_store.ts compactTrace);
// compactSpanOf is the reference, on a whole row, that the contract suite compares stores with.
import { isLlmAttributesJson } from './llm_span.ts';
import type { SpanRow } from './rows.ts';

/** The span event the debugger steps through (telemetry.md §3, §6). */
export const STATE_EVENT = 'set_state';

/**
 * The attributes of workflow, subflow and agent spans that the debugger reads: the store a subflow
 * writes into, the node count in the run's header, and an agent's store and states. Only these
 * span types carry them, so a store looks nowhere else.
 */
export const DEBUGGER_ATTRIBUTES = [
  'junjo.workflow.parent_store.id',
  'junjo.workflow.node.count',
  'junjo.agent.store.id',
  'junjo.agent.state.start',
  'junjo.agent.state.end',
] as const;
export const DEBUGGER_SPAN_TYPES = ['workflow', 'subflow', 'agent'] as const;

/** A span without its attributes, links and ordinary events (SpanRow's columns keep their meaning). */
export interface CompactSpanRow
  extends Omit<SpanRow, 'attributes_json' | 'events_json' | 'links_json' | 'trace_flags' | 'trace_state'> {
  /** An event is named `exception` or has an `exception.type` attribute (e.g. junjo.hook_error). */
  has_exception: boolean;
  /** The span is an LLM span (llm_span.ts). */
  is_llm: boolean;
  /** JSON array text: the span's `set_state` events, whole, in the span's order. */
  state_events_json: string;
  /**
   * JSON object text: the DEBUGGER_ATTRIBUTES the span has, with their values, when its
   * junjo_span_type is one of DEBUGGER_SPAN_TYPES; `{}` otherwise.
   */
  junjo_attributes_json: string;
}

/**
 * What the trace waterfall draws of a span: a compact span without the debugger's columns (state,
 * graph, state events, Junjo ids and attributes), which are most of a workflow trace's bytes.
 */
export type WaterfallSpanRow = Pick<
  CompactSpanRow,
  | 'span_id'
  | 'parent_span_id'
  | 'service_name'
  | 'name'
  | 'start_time'
  | 'end_time'
  | 'status_code'
  | 'junjo_span_type'
  | 'has_exception'
  | 'is_llm'
>;

/** The reference: a compact span as the waterfall span every store returns for it. */
export function waterfallSpanOf(span: CompactSpanRow): WaterfallSpanRow {
  return {
    span_id: span.span_id,
    parent_span_id: span.parent_span_id,
    service_name: span.service_name,
    name: span.name,
    start_time: span.start_time,
    end_time: span.end_time,
    status_code: span.status_code,
    junjo_span_type: span.junjo_span_type,
    has_exception: span.has_exception,
    is_llm: span.is_llm,
  };
}

interface EventLike {
  name?: unknown;
  attributes?: Record<string, unknown> | null;
}

/**
 * The event facts of a span from its events_json text. Text that mentions neither a state event
 * nor an exception (nearly every span) is not parsed.
 */
export function eventFacts(eventsJson: string | null): { hasException: boolean; stateEventsJson: string } {
  if (eventsJson === null || (!eventsJson.includes(STATE_EVENT) && !eventsJson.includes('exception'))) {
    return { hasException: false, stateEventsJson: '[]' };
  }
  const events = JSON.parse(eventsJson) as EventLike[];
  const stateEvents = events.filter((event) => event.name === STATE_EVENT);
  return {
    hasException: events.some(
      (event) => event.name === 'exception' || Object.hasOwn(event.attributes ?? {}, 'exception.type'),
    ),
    stateEventsJson:
      stateEvents.length === 0
        ? '[]'
        : stateEvents.length === events.length
          ? eventsJson
          : stateEventsText(eventsJson),
  };
}

/**
 * The `set_state` elements of an events array as JSON text, cut out of the original text so that
 * nanosecond times keep every digit (a JS number would round them).
 */
function stateEventsText(eventsJson: string): string {
  const kept: string[] = [];
  for (const element of topLevelElements(eventsJson)) {
    const event = JSON.parse(element) as EventLike;
    if (event.name === STATE_EVENT) kept.push(element);
  }
  return `[${kept.join(',')}]`;
}

/** The text of each element of a JSON array (strict JSON, as the span processor stores it). */
function topLevelElements(arrayJson: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < arrayJson.length; i++) {
    const c = arrayJson[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (depth === 1 && start < 0) start = i;
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 1 && start >= 0) {
        elements.push(arrayJson.slice(start, i + 1));
        start = -1;
      }
    }
  }
  return elements;
}

/** The reference: a whole row as the compact span every store returns for it. */
export function compactSpanOf(row: SpanRow): CompactSpanRow {
  const { hasException, stateEventsJson } = eventFacts(row.events_json);
  return {
    trace_id: row.trace_id,
    span_id: row.span_id,
    parent_span_id: row.parent_span_id,
    service_name: row.service_name,
    name: row.name,
    kind: row.kind,
    start_time: row.start_time,
    end_time: row.end_time,
    status_code: row.status_code,
    status_message: row.status_message,
    junjo_id: row.junjo_id,
    junjo_parent_id: row.junjo_parent_id,
    junjo_span_type: row.junjo_span_type,
    junjo_wf_store_id: row.junjo_wf_store_id,
    junjo_wf_state_start: row.junjo_wf_state_start,
    junjo_wf_state_end: row.junjo_wf_state_end,
    junjo_wf_graph_structure: row.junjo_wf_graph_structure,
    has_exception: hasException,
    is_llm: isLlmAttributesJson(row.attributes_json),
    state_events_json: stateEventsJson,
    junjo_attributes_json: debuggerAttributesOf(row),
  };
}

function debuggerAttributesOf(row: SpanRow): string {
  if (!(DEBUGGER_SPAN_TYPES as readonly string[]).includes(row.junjo_span_type)) return '{}';
  const attributes = JSON.parse(row.attributes_json) as Record<string, unknown>;
  const picked = DEBUGGER_ATTRIBUTES.filter((key) => Object.hasOwn(attributes, key)).map(
    (key) => [key, attributes[key]] as const,
  );
  return JSON.stringify(Object.fromEntries(picked));
}
