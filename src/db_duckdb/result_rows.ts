// DuckDB result rows ↔ the span domain's rows: the columns every span and state-patch query selects,
// and how a result row reads back as a SpanRow or StatePatchRow.
import type { DuckDBListValue } from '@duckdb/node-api';
import {
  type CompactSpanRow,
  DEBUGGER_ATTRIBUTES,
  DEBUGGER_SPAN_TYPES,
  eventFacts,
} from '../spans/compact_span.ts';
import { GEN_AI_KEYS, OPENINFERENCE_KIND, OPENINFERENCE_LLM } from '../spans/llm_span.ts';
import type { LogRecordRow, SpanRow, StatePatchRow } from '../spans/rows.ts';

/** The columns whole and compact spans both start with (timestamps as epoch microseconds). */
const SPAN_HEAD_COLUMNS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  'kind',
  'epoch_us(start_time)',
  'epoch_us(end_time)',
  'status_code',
  'status_message',
] as const;

/** The span columns every span query selects, in this order. */
export const SPAN_COLUMNS = [
  ...SPAN_HEAD_COLUMNS,
  'attributes_json',
  'events_json',
  'links_json',
  'trace_flags',
  'trace_state',
  'junjo_id',
  'junjo_parent_id',
  'junjo_span_type',
  'junjo_wf_state_start',
  'junjo_wf_state_end',
  'junjo_wf_graph_structure',
  'junjo_wf_store_id',
] as const;

/**
 * The attributes that decide isLlmAttributes (spans/llm_span.ts), extracted in one parse of the
 * JSON (a prompt can be 100 KB); only from text that mentions one of them. A list of each key's
 * value as JSON text (NULL where absent): the OpenInference kind, then the GenAI keys.
 */
const LLM_KEYS = [OPENINFERENCE_KIND, ...GEN_AI_KEYS];
export const LLM_KEY_VALUES = `CASE WHEN contains(attributes_json, '${OPENINFERENCE_KIND}') OR contains(attributes_json, 'gen_ai.')
  THEN json_extract(attributes_json, [${LLM_KEYS.map((key) => `'$."${key}"'`).join(', ')}]) END`;
export const LLM_KIND_JSON = JSON.stringify(OPENINFERENCE_LLM);

const DEBUGGER_SPAN = `junjo_span_type IN (${DEBUGGER_SPAN_TYPES.map((type) => `'${type}'`).join(', ')})`;

/**
 * The columns of a compact span (spans/compact_span.ts). The attributes are parsed only where a
 * cheap substring test says they may hold what is asked for; events_json reaches JS only when it
 * mentions a state event or an exception.
 */
export const COMPACT_SPAN_COLUMNS = [
  ...SPAN_HEAD_COLUMNS,
  'junjo_id',
  'junjo_parent_id',
  'junjo_span_type',
  'junjo_wf_store_id',
  'junjo_wf_state_start',
  'junjo_wf_state_end',
  'junjo_wf_graph_structure',
  LLM_KEY_VALUES,
  "CASE WHEN contains(events_json, 'set_state') OR contains(events_json, 'exception') THEN events_json END",
  ...DEBUGGER_ATTRIBUTES.map(
    (key) => `CASE WHEN ${DEBUGGER_SPAN} THEN json_extract(attributes_json, '$."${key}"') END`,
  ),
] as const;

export const STATE_PATCH_COLUMNS = [
  'patch_id',
  'service_name',
  'trace_id',
  'span_id',
  'workflow_id',
  'node_id',
  'epoch_us(event_time)',
  'patch_json',
  'patch_store_id',
] as const;

export const LOG_RECORD_COLUMNS = [
  'log_id',
  'trace_id',
  'span_id',
  'service_name',
  'epoch_us(time)',
  'epoch_us(observed_time)',
  'sequence',
  'severity_number',
  'severity_text',
  'event_name',
  'body_json',
  'attributes_json',
] as const;

/** One result row of SPAN_COLUMNS or STATE_PATCH_COLUMNS (VARCHAR/JSON as string, BIGINT as bigint). */
export type ResultRow = readonly unknown[];

/**
 * The SPAN_HEAD_COLUMNS of a result row. NULL in a column the contract does not make nullable
 * (rows written by other tools) reads as the column's empty value, here and below.
 */
function spanHeadFromResult(row: ResultRow) {
  const text = (i: number) => (row[i] as string | null) ?? '';
  return {
    trace_id: text(0),
    span_id: text(1),
    parent_span_id: row[2] as string | null,
    service_name: text(3),
    name: text(4),
    kind: text(5),
    start_time: row[6] as bigint,
    end_time: row[7] as bigint,
    status_code: text(8),
    status_message: text(9),
  };
}

/** A result row of SPAN_COLUMNS as a SpanRow. */
export function spanRowFromResult(row: ResultRow): SpanRow {
  const text = (i: number) => (row[i] as string | null) ?? '';
  const json = (i: number, empty: string) => (row[i] as string | null) ?? empty;
  return {
    ...spanHeadFromResult(row),
    attributes_json: json(10, '{}'),
    events_json: json(11, '[]'),
    links_json: json(12, '[]'),
    trace_flags: (row[13] as number | null) ?? 0,
    trace_state: row[14] as string | null,
    junjo_id: text(15),
    junjo_parent_id: text(16),
    junjo_span_type: text(17),
    junjo_wf_state_start: json(18, '{}'),
    junjo_wf_state_end: json(19, '{}'),
    junjo_wf_graph_structure: json(20, '{}'),
    junjo_wf_store_id: text(21),
  };
}

/** A result row of COMPACT_SPAN_COLUMNS as a CompactSpanRow (NULLs as spanRowFromResult reads them). */
export function compactSpanRowFromResult(row: ResultRow): CompactSpanRow {
  const text = (i: number) => (row[i] as string | null) ?? '';
  const json = (i: number) => (row[i] as string | null) ?? '{}';
  const { hasException, stateEventsJson } = eventFacts(row[18] as string | null);
  const attributes = DEBUGGER_ATTRIBUTES.flatMap((key, k) => {
    const value = row[19 + k] as string | null;
    return value === null ? [] : [`${JSON.stringify(key)}:${value}`];
  });
  return {
    ...spanHeadFromResult(row),
    junjo_id: text(10),
    junjo_parent_id: text(11),
    junjo_span_type: text(12),
    junjo_wf_store_id: text(13),
    junjo_wf_state_start: json(14),
    junjo_wf_state_end: json(15),
    junjo_wf_graph_structure: json(16),
    is_llm: isLlmKeyValues(row[17] as DuckDBListValue | null),
    has_exception: hasException,
    state_events_json: stateEventsJson,
    junjo_attributes_json: `{${attributes.join(',')}}`,
  };
}

/** LLM_KEY_VALUES' answer (JSON text of each key's value, NULL when absent) read as isLlmAttributes. */
function isLlmKeyValues(values: DuckDBListValue | null): boolean {
  if (values === null) return false;
  const [kind, ...genAi] = values.items;
  return kind === LLM_KIND_JSON || genAi.some((value) => value !== null);
}

/** A result row of STATE_PATCH_COLUMNS as a StatePatchRow (NULLs read as empty values too). */
export function statePatchRowFromResult(row: ResultRow): StatePatchRow {
  const text = (i: number) => (row[i] as string | null) ?? '';
  return {
    patch_id: text(0),
    service_name: text(1),
    trace_id: text(2),
    span_id: text(3),
    workflow_id: text(4),
    node_id: text(5),
    event_time: row[6] as bigint,
    patch_json: (row[7] as string | null) ?? '{}',
    patch_store_id: text(8),
  };
}

/** A result row of LOG_RECORD_COLUMNS as a LogRecordRow. */
export function logRecordRowFromResult(row: ResultRow): LogRecordRow {
  const text = (i: number) => (row[i] as string | null) ?? '';
  return {
    log_id: text(0),
    trace_id: text(1),
    span_id: text(2),
    service_name: text(3),
    time: row[4] as bigint,
    observed_time: row[5] as bigint,
    sequence: (row[6] as number | null) ?? 0,
    severity_number: (row[7] as number | null) ?? 0,
    severity_text: text(8),
    event_name: text(9),
    body_json: (row[10] as string | null) ?? 'null',
    attributes_json: (row[11] as string | null) ?? '{}',
  };
}
