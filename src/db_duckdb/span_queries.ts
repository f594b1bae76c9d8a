// The SQL of the span query API, one named constant per query, every value a bound parameter.
//
// Lists read `span_list_entries` (root and workflow spans with their JSON rendered at insert time; see
// schemas/query_support.sql), in one read transaction:
// 1. from the per-hour counts in span_list_hours, the hour from which on the service has enough
//    rows for the page (before the cursor), so that the zone maps on start_time skip every older
//    row group: DuckDB's top-N does not visit the newest row groups first, so without this bound
//    it reads the filter columns of the whole table;
// 2. a top-N over the narrow filter and sort columns picks the page's row ids, and only those rows'
//    deflated JSON is read (and inflated: list_json.ts). DuckDB's top-N would otherwise carry the JSON
//    of every candidate row; with the row ids it pushes a range and a Bloom filter into the scan.
// Traces and single spans are equality lookups on the seed's trace_id index.
import {
  type DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBTimestampTZValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { CompactSpanRow } from '../spans/compact_span.ts';
import { GEN_AI_KEYS } from '../spans/llm_span.ts';
import type { LogRecordRow, SpanRow, StatePatchRow } from '../spans/rows.ts';
import type { PageRequest, ServiceSummary, TimeWindow } from '../spans/span_store.ts';
import { inflateListPage } from './list_json.ts';
import {
  COMPACT_SPAN_COLUMNS,
  compactSpanRowFromResult,
  LLM_KEY_VALUES,
  LLM_KIND_JSON,
  LOG_RECORD_COLUMNS,
  logRecordRowFromResult,
  type ResultRow,
  SPAN_COLUMNS,
  STATE_PATCH_COLUMNS,
  spanRowFromResult,
  statePatchRowFromResult,
} from './result_rows.ts';
import { hourOf } from './summaries.ts';

const SPAN_SELECT = SPAN_COLUMNS.join(', ');
const NEWEST_FIRST = 'ORDER BY start_time DESC, span_id DESC';

export const SERVICE_NAMES = 'SELECT service_name FROM service_summaries ORDER BY service_name';

// The services' counters (query_support.sql) add up to the span count without scanning `spans`.
export const TOTAL_SPANS = 'SELECT coalesce(sum(span_count), 0)::BIGINT FROM service_summaries';

export const SERVICES = `
  SELECT service_name, span_count, trace_count, epoch_us(last_seen)
  FROM service_summaries ORDER BY service_name`;

export const TRACE_SPANS = `SELECT ${SPAN_SELECT} FROM spans WHERE trace_id = $trace_id ${NEWEST_FIRST}`;

export const COMPACT_TRACE = `
  SELECT ${COMPACT_SPAN_COLUMNS.join(', ')} FROM spans WHERE trace_id = $trace_id ${NEWEST_FIRST}`;

// The waterfall view is rendered here, as span_json.ts renderWaterfallSpan renders it: reading a
// 10,000-span trace's rows into JS values and rendering them there cost ~4x the CPU of this query
// (~150 against ~38 ms), and the trace page waits for it. to_json of a struct writes its keys in
// order and escapes as JSON.stringify does (control characters as \u001F instead of \u001f: the
// same JSON). One struct rather than the text pieces joined with || : a 10-span trace's query is
// mostly DuckDB planning it, and the pieces took ~1–2 ms more to plan (docs/memory.md). The window
// is applied outside the materialized CTE, which keeps the trace_id index scan (see ONE_SPAN below).
const isoTimestamp = (column: string) =>
  `strftime(make_timestamp(epoch_us(${column})), '%Y-%m-%dT%H:%M:%S.%fZ')`;
// eventFacts' hasException (spans/compact_span.ts): an event named exception or with exception.type.
const HAS_EXCEPTION = `coalesce(list_contains(json_extract_string(exception_events, '$[*].name'), 'exception')
  OR len(json_extract(exception_events, '$[*].attributes."exception.type"')) > 0, false)`;
// isLlmKeyValues (result_rows.ts) on LLM_KEY_VALUES' list.
const IS_LLM = `coalesce(llm[1] = '${LLM_KIND_JSON}'
  OR ${GEN_AI_KEYS.map((_, i) => `llm[${i + 2}] IS NOT NULL`).join(' OR ')}, false)`;
const WATERFALL_SPAN = `{
  'span_id': coalesce(span_id, ''), 'parent_span_id': parent_span_id,
  'service_name': coalesce(service_name, ''), 'name': coalesce(name, ''),
  'start_time': ${isoTimestamp('start_time')}, 'end_time': ${isoTimestamp('end_time')},
  'status_code': coalesce(status_code, ''), 'junjo_span_type': coalesce(junjo_span_type, ''),
  'has_exception': ${HAS_EXCEPTION}, 'is_llm': ${IS_LLM}}`;

/** The JSON array text of the trace's waterfall spans, newest first; NULL when no span is in the window. */
export const WATERFALL_TRACE_JSON = `
  WITH trace AS MATERIALIZED (
    SELECT span_id, parent_span_id, service_name, name, start_time, end_time, status_code, junjo_span_type,
      ${LLM_KEY_VALUES} AS llm,
      CASE WHEN contains(events_json, 'exception') THEN events_json END AS exception_events
    FROM spans WHERE trace_id = $trace_id)
  SELECT to_json(list(${WATERFALL_SPAN} ${NEWEST_FIRST}))::VARCHAR
  FROM trace WHERE start_time BETWEEN $window_start AND $window_end`;

// With a second condition in the same scan DuckDB gives up the trace_id index and reads the whole
// table (measured: 20 ms at 1M spans against 7 ms); the materialized CTE keeps the index scan.
export const ONE_SPAN = `
  WITH trace AS MATERIALIZED (
    SELECT ${SPAN_SELECT}, span_id AS wanted FROM spans WHERE trace_id = $trace_id)
  SELECT * EXCLUDE (wanted) FROM trace WHERE wanted = $span_id`;

// Patches at the same instant keep one deterministic order (patch ids are unique).
const PATCH_ORDER = 'ORDER BY event_time, patch_id';

export const TRACE_STATE_PATCHES = `
  SELECT ${STATE_PATCH_COLUMNS.join(', ')} FROM state_patches WHERE trace_id = $trace_id ${PATCH_ORDER}`;

export const SPAN_LOG_RECORDS = `
  SELECT ${LOG_RECORD_COLUMNS.join(', ')} FROM log_records
  WHERE trace_id = $trace_id AND span_id = $span_id ORDER BY time, sequence, log_id`;

export const TRACE_STORE_STATE_PATCHES = `
  WITH trace AS MATERIALIZED (
    SELECT ${STATE_PATCH_COLUMNS.join(', ')}, event_time, patch_store_id AS store
    FROM state_patches WHERE trace_id = $trace_id)
  SELECT * EXCLUDE (event_time, store) FROM trace WHERE store = $store_id ${PATCH_ORDER}`;

/** Which spans of a service a list shows. */
export type SpanList = 'root' | 'llm_root' | 'workflow';

const LIST_FILTERS: Record<SpanList, string> = {
  root: 'parent_span_id IS NULL',
  // has_llm: the trace holds an LLM span in any service (maintained at insert time).
  llm_root: 'parent_span_id IS NULL AND has_llm',
  workflow: "junjo_span_type = 'workflow'",
};

/** Keyset cursor: after the first page, spans strictly older than the last one shown. */
export type Cursor = 'first_page' | 'before_time' | 'before_time_and_span';

const CURSOR_FILTERS: Record<Cursor, string> = {
  first_page: '',
  before_time: 'AND start_time < $before',
  // The first conjunct alone prunes row groups by their start_time zone maps.
  before_time_and_span: 'AND start_time <= $before AND (start_time < $before OR span_id < $before_span_id)',
};

const HOUR_COUNTS: Record<SpanList, string> = {
  root: 'roots',
  llm_root: 'llm_roots',
  workflow: 'workflows',
};

/**
 * The latest hour such that the hours from it up to (not including) $until hold at least $limit
 * spans of the list; no row when all of them together hold fewer. The cursor's own hour is left
 * out of the count because only part of it precedes the cursor.
 */
function windowStart(list: SpanList): string {
  return `
    SELECT hour FROM (
      SELECT hour, sum(${HOUR_COUNTS[list]}) OVER (ORDER BY hour DESC ROWS UNBOUNDED PRECEDING) AS newer
      FROM span_list_hours WHERE service_name = $service_name AND hour < $until)
    WHERE newer >= $limit ORDER BY hour DESC LIMIT 1`;
}

export const WINDOW_STARTS: Record<SpanList, string> = {
  root: windowStart('root'),
  llm_root: windowStart('llm_root'),
  workflow: windowStart('workflow'),
};

// The second scan repeats the window bound, which every picked row meets: the row-id semi join alone
// visits every row group of the table (a 50-row root page at 10M spans: 14–17 ms of CPU, 8 with it).
function listPage(list: SpanList, cursor: Cursor): string {
  return `
    WITH page AS (
      SELECT rowid AS listed_row FROM span_list_entries
      WHERE service_name = $service_name AND start_time >= $window_start
        AND ${LIST_FILTERS[list]} ${CURSOR_FILTERS[cursor]}
      ${NEWEST_FIRST} LIMIT $limit)
    SELECT span_json_deflated FROM span_list_entries
    WHERE start_time >= $window_start AND rowid IN (SELECT listed_row FROM page)
    ${NEWEST_FIRST}`;
}

export const LIST_PAGES: Record<SpanList, Record<Cursor, string>> = {
  root: forEachCursor('root'),
  llm_root: forEachCursor('llm_root'),
  workflow: forEachCursor('workflow'),
};

function forEachCursor(list: SpanList): Record<Cursor, string> {
  return {
    first_page: listPage(list, 'first_page'),
    before_time: listPage(list, 'before_time'),
    before_time_and_span: listPage(list, 'before_time_and_span'),
  };
}

// ---- running them ------------------------------------------------------------------------------

/** Every row of one statement. */
export async function selectRows(conn: DuckDBConnection, sql: string, params?: Record<string, DuckDBValue>) {
  const reader = await conn.runAndReadAll(sql, params);
  return reader.getRows() as ResultRow[];
}

export async function selectServiceNames(conn: DuckDBConnection): Promise<string[]> {
  return (await selectRows(conn, SERVICE_NAMES)).map((row) => row[0] as string);
}

export async function selectTotalSpans(conn: DuckDBConnection): Promise<number> {
  return Number((await selectRows(conn, TOTAL_SPANS))[0]![0] as bigint);
}

export async function selectServices(conn: DuckDBConnection): Promise<ServiceSummary[]> {
  return (await selectRows(conn, SERVICES)).map((row) => ({
    serviceName: row[0] as string,
    spanCount: Number(row[1] as bigint),
    traceCount: Number(row[2] as bigint),
    lastSeenMicros: row[3] as bigint,
  }));
}

export function selectListPage(
  conn: DuckDBConnection,
  list: SpanList,
  serviceName: string,
  page: PageRequest,
): Promise<Uint8Array[]> {
  const params: Record<string, DuckDBValue> = { service_name: serviceName, limit: page.limit };
  let cursor: Cursor = 'first_page';
  let until = DuckDBTimestampTZValue.PosInf;
  if (page.before) {
    params.before = new DuckDBTimestampTZValue(page.before.startTime);
    until = new DuckDBTimestampTZValue(hourOf(page.before.startTime));
    cursor = 'before_time';
    if (page.before.spanId !== undefined) {
      params.before_span_id = page.before.spanId;
      cursor = 'before_time_and_span';
    }
  }
  // One snapshot for both statements: the window must hold the rows the page then reads.
  return inReadTransaction(conn, async () => {
    const windowParams = { service_name: serviceName, limit: page.limit, until };
    const [start] = (await selectRows(conn, WINDOW_STARTS[list], windowParams))[0] ?? [];
    params.window_start = (start as DuckDBTimestampTZValue | undefined) ?? DuckDBTimestampTZValue.NegInf;
    const rows = await selectRows(conn, LIST_PAGES[list][cursor], params);
    return inflateListPage(rows.map((row) => (row[0] as DuckDBBlobValue).bytes));
  });
}

/** Runs `fn`'s statements in one snapshot. */
export async function inReadTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    return await fn();
  } finally {
    await conn.run('ROLLBACK');
  }
}

export async function selectTraceSpans(conn: DuckDBConnection, traceId: string): Promise<SpanRow[]> {
  return (await selectRows(conn, TRACE_SPANS, { trace_id: traceId })).map(spanRowFromResult);
}

/**
 * Reads the traces' spans again without fetching them (a file just opened has none of their index
 * nodes and blocks loaded), one after the other until `budgetMs` has passed; returns how many.
 */
export async function readTracesAgain(
  conn: DuckDBConnection,
  traceIds: readonly string[],
  budgetMs: number,
): Promise<number> {
  const started = performance.now();
  let read = 0;
  for (const traceId of traceIds) {
    if (performance.now() - started > budgetMs) break;
    await conn.run(TRACE_SPANS, { trace_id: traceId });
    read++;
  }
  return read;
}

/** The first page of each list (DuckDbSpanStore: after a reopen); how many were read. */
export async function readListsAgain(
  conn: DuckDBConnection,
  lists: ReadonlyArray<{ list: SpanList; serviceName: string }>,
): Promise<number> {
  for (const { list, serviceName } of lists)
    await selectListPage(conn, list, serviceName, { limit: FIRST_PAGE_ROWS });
  return lists.length;
}

/** The UI's page size (web/src: 50-row pages). */
const FIRST_PAGE_ROWS = 50;

export async function selectCompactTrace(conn: DuckDBConnection, traceId: string): Promise<CompactSpanRow[]> {
  return (await selectRows(conn, COMPACT_TRACE, { trace_id: traceId })).map(compactSpanRowFromResult);
}

export async function selectWaterfallTraceJson(
  conn: DuckDBConnection,
  traceId: string,
  window: TimeWindow | undefined,
): Promise<string | null> {
  const [row] = await selectRows(conn, WATERFALL_TRACE_JSON, {
    trace_id: traceId,
    window_start: window ? new DuckDBTimestampTZValue(window.startMicros) : DuckDBTimestampTZValue.NegInf,
    window_end: window ? new DuckDBTimestampTZValue(window.endMicros) : DuckDBTimestampTZValue.PosInf,
  });
  return (row?.[0] as string | null | undefined) ?? null;
}

export async function selectSpan(
  conn: DuckDBConnection,
  traceId: string,
  spanId: string,
): Promise<SpanRow | null> {
  const [row] = await selectRows(conn, ONE_SPAN, { trace_id: traceId, span_id: spanId });
  return row ? spanRowFromResult(row) : null;
}

export async function selectStatePatches(
  conn: DuckDBConnection,
  traceId: string,
  storeId: string | undefined,
): Promise<StatePatchRow[]> {
  const found =
    storeId === undefined
      ? await selectRows(conn, TRACE_STATE_PATCHES, { trace_id: traceId })
      : await selectRows(conn, TRACE_STORE_STATE_PATCHES, { trace_id: traceId, store_id: storeId });
  return found.map(statePatchRowFromResult);
}

export async function selectSpanLogRecords(
  conn: DuckDBConnection,
  traceId: string,
  spanId: string,
): Promise<LogRecordRow[]> {
  return (await selectRows(conn, SPAN_LOG_RECORDS, { trace_id: traceId, span_id: spanId })).map(
    logRecordRowFromResult,
  );
}
