// The span domain's rows, whatever the store: the seed's `spans` and `state_patches` columns
// (names verbatim from db_duckdb/schemas/*.sql, which is the contract every store keeps).
// Timestamps are microseconds since the Unix epoch as bigint; JSON columns hold JSON text produced by
// the span processor.

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service_name: string;
  name: string;
  kind: string;
  start_time: bigint;
  end_time: bigint;
  status_code: string;
  status_message: string;
  attributes_json: string;
  events_json: string;
  links_json: string;
  trace_flags: number;
  trace_state: string | null;
  junjo_id: string;
  junjo_parent_id: string;
  junjo_span_type: string;
  junjo_wf_state_start: string;
  junjo_wf_state_end: string;
  junjo_wf_graph_structure: string;
  junjo_wf_store_id: string;
}

export interface StatePatchRow {
  patch_id: string;
  service_name: string;
  trace_id: string;
  span_id: string;
  workflow_id: string;
  node_id: string;
  event_time: bigint;
  patch_json: string;
  patch_store_id: string;
}

/**
 * An OTLP log record that belongs to a span (db_duckdb/schemas/log_records.sql), e.g. the prompt and
 * completion events of the GenAI instrumentations. log_id is deterministic (log_processor.ts), so a
 * replayed export stores nothing twice.
 */
export interface LogRecordRow {
  log_id: string;
  trace_id: string;
  span_id: string;
  service_name: string;
  /** time_unix_nano, or the observed time when the record has no time (epoch microseconds). */
  time: bigint;
  observed_time: bigint;
  /** Position in its export request: orders the records of one instant as the SDK emitted them. */
  sequence: number;
  severity_number: number;
  severity_text: string;
  event_name: string;
  /** The body as JSON (null when the record has none), by the span processor's value rules. */
  body_json: string;
  attributes_json: string;
}

/** What the span processor makes of one export, and what a store writes in one transaction. */
export interface SpanBatch {
  spans: SpanRow[];
  patches: StatePatchRow[];
  /** Log records of spans (an OTLP logs export); absent means none. */
  logRecords?: LogRecordRow[];
}
