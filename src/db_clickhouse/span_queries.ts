// The SQL of the span query API on ClickHouse, every value a bound query parameter ({name:Type});
// table names come from schema.ts (database and cluster names pass a strict grammar in config.ts).
// Reads use FINAL, so a row written twice is answered once even before the merge that collapses it.
// Times cross the wire as Int64 epoch microseconds, in both directions, so nothing is rounded.
import {
  type CompactSpanRow,
  compactSpanOf,
  DEBUGGER_SPAN_TYPES,
  STATE_EVENT,
  type WaterfallSpanRow,
  waterfallSpanOf,
} from '../spans/compact_span.ts';
import { OPENINFERENCE_KIND } from '../spans/llm_span.ts';
import type { LogRecordRow, SpanRow, StatePatchRow } from '../spans/rows.ts';
import { onCluster, recordDeletionStatement, type SchemaTarget, tableNames } from './schema.ts';

const micros = (column: string) => `toString(toUnixTimestamp64Micro(${column}))`;
/** An Int64 parameter of epoch microseconds as a DateTime64(6) value. */
export const at = (param: string) => `fromUnixTimestamp64Micro({${param}:Int64}, 'UTC')`;

export const SPAN_SELECT = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  'kind',
  micros('start_time'),
  micros('end_time'),
  'status_code',
  'status_message',
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
].join(', ');

export function spanFromRow(row: unknown[]): SpanRow {
  const r = row as string[];
  return {
    trace_id: r[0]!,
    span_id: r[1]!,
    parent_span_id: (row[2] as string | null) ?? null,
    service_name: r[3]!,
    name: r[4]!,
    kind: r[5]!,
    start_time: BigInt(r[6]!),
    end_time: BigInt(r[7]!),
    status_code: r[8]!,
    status_message: r[9]!,
    attributes_json: r[10]!,
    events_json: r[11]!,
    links_json: r[12]!,
    trace_flags: Number(row[13]),
    trace_state: (row[14] as string | null) ?? null,
    junjo_id: r[15]!,
    junjo_parent_id: r[16]!,
    junjo_span_type: r[17]!,
    junjo_wf_state_start: r[18]!,
    junjo_wf_state_end: r[19]!,
    junjo_wf_graph_structure: r[20]!,
    junjo_wf_store_id: r[21]!,
  };
}

const COMPACT_SELECT = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  'kind',
  micros('start_time'),
  micros('end_time'),
  'status_code',
  'status_message',
  `if(junjo_span_type IN (${DEBUGGER_SPAN_TYPES.map((t) => `'${t}'`).join(', ')})
      OR position(attributes_json, '${OPENINFERENCE_KIND}') > 0 OR position(attributes_json, 'gen_ai.') > 0,
     attributes_json, '{}')`,
  `if(position(events_json, '${STATE_EVENT}') > 0 OR position(events_json, 'exception') > 0, events_json, '[]')`,
  // Not part of a compact span: constants in their SPAN_SELECT positions, so spanFromRow reads the row.
  "'[]'",
  '0',
  'NULL',
  'junjo_id',
  'junjo_parent_id',
  'junjo_span_type',
  'junjo_wf_state_start',
  'junjo_wf_state_end',
  'junjo_wf_graph_structure',
  'junjo_wf_store_id',
].join(', ');

/** A row of COMPACT_SELECT as compact_span.ts defines it (compactSpanOf on the trimmed row). */
export function compactFromRow(row: unknown[]): CompactSpanRow {
  return compactSpanOf(spanFromRow(row));
}

/**
 * What waterfallSpanOf needs, in SPAN_SELECT's positions: attributes only when they mention an LLM
 * key, events only when they mention an exception; the debugger's columns are constants.
 */
const WATERFALL_SELECT = [
  "''",
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  "''",
  micros('start_time'),
  micros('end_time'),
  'status_code',
  "''",
  `if(position(attributes_json, '${OPENINFERENCE_KIND}') > 0 OR position(attributes_json, 'gen_ai.') > 0,
     attributes_json, '{}')`,
  "if(position(events_json, 'exception') > 0, events_json, '[]')",
  "'[]'",
  '0',
  'NULL',
  "''",
  "''",
  'junjo_span_type',
  "'{}'",
  "'{}'",
  "'{}'",
  "''",
].join(', ');

/** A row of WATERFALL_SELECT as compact_span.ts defines it (the reference on the trimmed row). */
export function waterfallFromRow(row: unknown[]): WaterfallSpanRow {
  return waterfallSpanOf(compactSpanOf(spanFromRow(row)));
}

const PATCH_SELECT = `patch_id, service_name, trace_id, span_id, workflow_id, node_id, ${micros('event_time')}, patch_json, patch_store_id`;

export function patchFromRow(row: unknown[]): StatePatchRow {
  const r = row as string[];
  return {
    patch_id: r[0]!,
    service_name: r[1]!,
    trace_id: r[2]!,
    span_id: r[3]!,
    workflow_id: r[4]!,
    node_id: r[5]!,
    event_time: BigInt(r[6]!),
    patch_json: r[7]!,
    patch_store_id: r[8]!,
  };
}

const LOG_SELECT = `log_id, trace_id, span_id, service_name, ${micros('time')}, ${micros('observed_time')}, sequence, severity_number, severity_text, event_name, body_json, attributes_json`;

export function logRecordFromRow(row: unknown[]): LogRecordRow {
  const r = row as string[];
  return {
    log_id: r[0]!,
    trace_id: r[1]!,
    span_id: r[2]!,
    service_name: r[3]!,
    time: BigInt(r[4]!),
    observed_time: BigInt(r[5]!),
    sequence: Number(r[6]),
    severity_number: Number(r[7]),
    severity_text: r[8]!,
    event_name: r[9]!,
    body_json: r[10]!,
    attributes_json: r[11]!,
  };
}

/** Which spans of a service a list shows. */
export type SpanList = 'root' | 'llm_root' | 'workflow';
/** Keyset cursor: after the first page, spans strictly older than the last one shown. */
export type Cursor = 'first_page' | 'before_time' | 'before_time_and_span';
/**
 * How much of a service's spans a list page reads: `recent` only from {floor} on (the parts and
 * partitions before it are not read at all), `bounded` from the start of its oldest row as read
 * without FINAL, `whole` everything. A page is exact in each, or short: the store then widens.
 */
export type ListScope = 'recent' | 'bounded' | 'whole';

const CURSOR_FILTERS: Record<Cursor, string> = {
  first_page: '',
  before_time: `AND start_time < ${at('before')}`,
  before_time_and_span: `AND (start_time < ${at('before')} OR (start_time = ${at('before')} AND span_id < {before_span_id:String}))`,
};

/** Every statement of the store, for one database (and cluster). */
export function storeQueries(target: SchemaTarget) {
  const spans = tableNames(target, 'spans_v2');
  const traceIndex = tableNames(target, 'trace_index_v2');
  const patches = tableNames(target, 'state_patches_v2');
  const logs = tableNames(target, 'log_records');
  const llm = tableNames(target, 'llm_traces');
  const ingest = tableNames(target, 'spans_ingest');
  const summary = tableNames(target, 'service_summary');
  const deletions = tableNames(target, 'span_deletions');
  // The list filters; the LLM one reads the shard-local llm_traces, which holds every trace of the
  // shard's spans because both are sharded by trace id.
  const listFilters: Record<SpanList, string> = {
    root: 'parent_span_id IS NULL',
    llm_root: `parent_span_id IS NULL AND trace_id IN (SELECT trace_id FROM ${llm.local})`,
    workflow: "junjo_span_type = 'workflow'",
  };
  /**
   * A page newest first. Unless `whole`: only from the start of the page's oldest row as read
   * without FINAL (a scalar subquery, so the partitions and granules before it are skipped), which
   * holds the whole page unless rows stored twice fill it: the caller then asks again unbounded.
   * That subquery itself reads the newest granules of the service in every part; `recent` spares
   * it the parts before {floor}.
   */
  const listPage = (list: SpanList, cursor: Cursor, scope: ListScope) => {
    const recent = scope === 'recent' ? `AND start_time >= ${at('floor')}` : '';
    const where = `service_name = {service_name:String} AND ${listFilters[list]} ${CURSOR_FILTERS[cursor]} ${recent}`;
    const bound =
      scope === 'whole'
        ? ''
        : `AND start_time >= (SELECT min(start_time) FROM (
          SELECT start_time FROM ${spans.read} WHERE ${where} ORDER BY start_time DESC LIMIT {limit:UInt32}))`;
    return `
    SELECT ${SPAN_SELECT} FROM ${spans.read} FINAL WHERE ${where} ${bound}
    ORDER BY start_time DESC, span_id DESC LIMIT {limit:UInt32}`;
  };
  const inRange = `start_time BETWEEN ${at('from')} AND ${at('to')}`;
  // A trace's time range from trace_index_v2, as a scalar subquery: evaluated before the spans read is
  // planned, so only the partitions and granules of that range are read (an unknown trace: none),
  // in one statement instead of a lookup and then the read.
  const traceRange = `WITH (
      SELECT (min(first_start), max(last_start)) FROM ${traceIndex.read} WHERE trace_id = {trace_id:String}
    ) AS trace_range`;
  const inTrace = (windowed: boolean) =>
    windowed
      ? `trace_id = {trace_id:String} AND start_time BETWEEN greatest(tupleElement(trace_range, 1), ${at('from')})
         AND least(tupleElement(trace_range, 2), ${at('to')})`
      : `trace_id = {trace_id:String}
         AND start_time BETWEEN tupleElement(trace_range, 1) AND tupleElement(trace_range, 2)`;
  const inSpan = `(trace_id, span_id) IN (SELECT trace_id, span_id FROM ${spans.local} WHERE start_time < ${at('limit')})`;
  return {
    /**
     * The summary's hours after the oldest stored span's hour, and that hour counted exactly from
     * spans (FINAL, one hour of one partition): retention deletes spans before a time, so every
     * later hour holds all the spans the summary counted (schema.ts SERVICE_SUMMARY).
     */
    services: `
      WITH (SELECT toStartOfHour(min(start_time)) FROM ${spans.read}) AS edge
      SELECT service_name, sum(n), sum(r), ${micros('max(last)')} FROM (
        SELECT service_name, spans AS n, roots AS r, last_start AS last
        FROM ${summary.read} WHERE hour > edge
        UNION ALL
        SELECT service_name, count(), countIf(parent_span_id IS NULL), max(start_time)
        FROM ${spans.read} FINAL
        WHERE start_time >= edge AND start_time < edge + INTERVAL 1 HOUR GROUP BY service_name
      ) GROUP BY service_name ORDER BY service_name`,
    /**
     * The same while no span was ever deleted (no retention step recorded in span_deletions, no
     * TTL): every hour of the summary is whole, and spans are not read at all.
     */
    servicesNothingDeleted: `
      SELECT service_name, sum(spans), sum(roots), ${micros('max(last_start)')}
      FROM ${summary.read} GROUP BY service_name ORDER BY service_name`,
    anySpanDeleted: `SELECT count() FROM ${deletions.read}`,
    /**
     * Newest first, the service's root spans per hour (the summary's stand-in for runs) from the
     * hour of `from` to before `until`: where the run filter cuts its slices (spans/run_slices.ts).
     */
    runHours: (bounds: { from: boolean; until: boolean }) => `
      SELECT toString(toInt64(toUnixTimestamp(hour)) * 1000000), toString(sum(roots))
      FROM ${summary.read} WHERE service_name = {service_name:String}
      ${bounds.from ? `AND hour >= toStartOfHour(${at('from')})` : ''}
      ${bounds.until ? `AND hour < ${at('until')}` : ''}
      GROUP BY hour ORDER BY hour DESC`,
    /** Before a retention step deletes spans: the service list then counts their hour from spans. */
    recordDeletion: recordDeletionStatement(target, at('limit')),
    totalSpans: `SELECT count() FROM ${spans.read} FINAL`,
    totalPatches: `SELECT count() FROM ${patches.read} FINAL`,
    bytesOnDisk: `SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {database:String} AND active`,
    listPage,
    /** Where the spans of each given trace started: the partitions a lookup must read. */
    traceRanges: `
      SELECT trace_id, ${micros('min(first_start)')}, ${micros('max(last_start)')}
      FROM ${traceIndex.read} WHERE trace_id IN {trace_ids:Array(String)} GROUP BY trace_id`,
    traceSpans: (windowed: boolean) => `
      ${traceRange} SELECT ${SPAN_SELECT} FROM ${spans.read} FINAL
      WHERE ${inTrace(windowed)} ORDER BY start_time DESC, span_id DESC`,
    /**
     * The trace's spans with only what compact_span.ts needs: events only when they mention a state
     * event or an exception, attributes only of debugger span types or when they mention an LLM key
     * (compactFromRow then applies the reference definition to them). The JSON columns are still
     * read, but large prompts are neither sent nor parsed.
     */
    compactTrace: (windowed: boolean) => `
      ${traceRange} SELECT ${COMPACT_SELECT} FROM ${spans.read} FINAL
      WHERE ${inTrace(windowed)} ORDER BY start_time DESC, span_id DESC`,
    /** The trace's spans with only what the waterfall draws (WATERFALL_SELECT). */
    waterfallTrace: (windowed: boolean) => `
      ${traceRange} SELECT ${WATERFALL_SELECT} FROM ${spans.read} FINAL
      WHERE ${inTrace(windowed)} ORDER BY start_time DESC, span_id DESC`,
    oneSpan: (windowed: boolean) => `
      ${traceRange} SELECT ${SPAN_SELECT} FROM ${spans.read} FINAL
      WHERE ${inTrace(windowed)} AND span_id = {span_id:String} LIMIT 1`,
    storedSpanKeys: `
      SELECT trace_id, span_id FROM ${spans.read}
      WHERE trace_id IN {trace_ids:Array(String)} AND ${inRange}`,
    storedPatchIds: `
      SELECT patch_id FROM ${patches.read}
      WHERE trace_id IN {trace_ids:Array(String)} AND patch_id IN {ids:Array(String)}`,
    storedLogIds: `
      SELECT log_id FROM ${logs.read}
      WHERE trace_id IN {trace_ids:Array(String)} AND log_id IN {ids:Array(String)}`,
    statePatches: (byStore: boolean, windowed: boolean) => `
      SELECT ${PATCH_SELECT} FROM ${patches.read} FINAL WHERE trace_id = {trace_id:String}
      ${byStore ? 'AND patch_store_id = {store_id:String}' : ''}
      ${windowed ? `AND event_time BETWEEN ${at('from')} AND ${at('to')}` : ''}
      ORDER BY event_time, patch_id`,
    spanLogRecords: `
      SELECT ${LOG_SELECT} FROM ${logs.read} FINAL
      WHERE trace_id = {trace_id:String} AND span_id = {span_id:String} ORDER BY time, sequence, log_id`,
    tables: { spans, ingest, patches, logs, llm, traceIndex },
    // ---- retention: counted first (DELETE reports no row count), then deleted ----
    anyExpiredSpan: `SELECT count() FROM ${spans.read} WHERE start_time < ${at('cutoff')}`,
    anyExpiredLog: `SELECT count() FROM ${logs.read} WHERE time < ${at('cutoff')}`,
    /** Start of the (offset+1)-th oldest expired span; no row when fewer have expired. */
    stepBoundary: `
      SELECT ${micros('start_time')} FROM ${spans.read} FINAL WHERE start_time < ${at('cutoff')}
      ORDER BY start_time LIMIT 1 OFFSET {offset:UInt64}`,
    countSpansBefore: `SELECT count() FROM ${spans.read} FINAL WHERE start_time < ${at('limit')}`,
    countPatchesOf: `SELECT count() FROM ${patches.read} FINAL WHERE ${inSpan}`,
    countLogsOf: `SELECT count() FROM ${logs.read} FINAL WHERE time < ${at('limit')} OR ${inSpan}`,
    deletePatchesOf: `DELETE FROM ${patches.local}${onCluster(target)} WHERE ${inSpan}`,
    deleteLogsOf: `DELETE FROM ${logs.local}${onCluster(target)} WHERE time < ${at('limit')} OR ${inSpan}`,
    deleteLlmTracesBefore: `DELETE FROM ${llm.local}${onCluster(target)} WHERE start_time < ${at('limit')}`,
    deleteSpansBefore: `DELETE FROM ${spans.local}${onCluster(target)} WHERE start_time < ${at('limit')}`,
  };
}

export type StoreQueries = ReturnType<typeof storeQueries>;
