// What a span search asks for and what it finds, whatever the store (SpanReader.searchSpans). The
// meaning of every condition is fixed here, so that each store answers a search identically and the
// contract suite (span_store_contract.ts) can hold them all to it.
import type { SpanRow } from './rows.ts';

/**
 * One condition on a top-level attribute of attributes_json. An attribute's text is the string
 * itself for a string value, and its JSON text for any other value (`42`, `true`, `[1,2]`).
 * - equals / not_equals: the attribute is present and its text is / is not `value` (a span
 *   without the attribute matches neither);
 * - contains: the attribute is present and its text contains `value`, ignoring case;
 * - exists: the attribute is present (whatever its value, JSON null included);
 * - less_than / greater_than / between: the attribute is a JSON number and compares so with the
 *   bound(s); `between` includes both.
 */
export type AttributeFilter =
  | { key: string; op: 'equals' | 'not_equals' | 'contains'; value: string }
  | { key: string; op: 'exists' }
  | { key: string; op: 'less_than' | 'greater_than'; value: number }
  | { key: string; op: 'between'; low: number; high: number };

/**
 * Attribute keys a search accepts: OpenTelemetry's dotted names (`http.method`,
 * `llm.input_messages.0.message.role`, `junjo.span_type`). A store may build a JSON path from a
 * key that passed this check without quoting anything else.
 */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-:/@]{0,255}$/;

export interface SpanSearch {
  serviceName: string;
  /** Bounds start_time, epoch microseconds, both inclusive (span_store.ts TimeWindow). */
  window: { startMicros: bigint; endMicros: bigint };
  /** The span's name, exactly. */
  name?: string;
  /** junjo_span_type, exactly (workflow, subflow, node, run_concurrent, agent). */
  spanType?: string;
  /** Only spans whose status_code is STATUS_CODE_ERROR. */
  errorsOnly?: boolean;
  /** Bounds end_time − start_time, in microseconds, both inclusive. */
  minDurationMicros?: bigint;
  maxDurationMicros?: bigint;
  /** Every filter must hold. */
  attributes: AttributeFilter[];
  /** Contained, ignoring case, in the span's name or in the text of one of its attributes. */
  text?: string;
}

/** The root span of a found span's trace: enough to say which trace a result belongs to. */
export interface TraceRootSummary {
  spanId: string;
  name: string;
  serviceName: string;
  startTime: bigint;
  endTime: bigint;
}

export interface SpanSearchHit {
  span: SpanRow;
  traceRoot: TraceRootSummary | null;
}

/**
 * The search hits, in the order the store found them, from the rows it then read: each hit's span
 * and its trace's root (the earliest root span, when a broken export left two; null when none of
 * the rows is a root). A hit whose span is not among the rows (deleted between the two reads) is
 * left out.
 */
export function assembleSearchHits(
  hits: readonly [string, string][],
  rows: Iterable<SpanRow>,
): SpanSearchHit[] {
  const spans = new Map<string, SpanRow>();
  const rootOf = new Map<string, TraceRootSummary>();
  for (const span of rows) {
    spans.set(`${span.trace_id}:${span.span_id}`, span);
    const known = rootOf.get(span.trace_id);
    if (span.parent_span_id === null && (!known || span.start_time < known.startTime)) {
      rootOf.set(span.trace_id, {
        spanId: span.span_id,
        name: span.name,
        serviceName: span.service_name,
        startTime: span.start_time,
        endTime: span.end_time,
      });
    }
  }
  return hits.flatMap(([traceId, spanId]) => {
    const span = spans.get(`${traceId}:${spanId}`);
    return span ? [{ span, traceRoot: rootOf.get(traceId) ?? null }] : [];
  });
}
