// The SQL of the span query API, one named constant per query, every value a bound parameter.
//
// Lists read `span_list_entries` (the keys and filter columns of root and workflow spans; see
// schemas/query_support.sql), in one read transaction:
// 1. from the per-hour counts in span_list_hours, the hour from which on the service has enough
//    rows for the page (before the cursor), so that the zone maps on start_time skip every older
//    row group: DuckDB's top-N does not visit the newest row groups first, so without this bound
//    it reads the filter columns of the whole table;
// 2. a top-N over those narrow columns picks the page's keys;
// 3. the page's whole rows are read from `spans` through the trace_id index and rendered
//    (renderSpan), in the page's order.
// Traces and single spans are equality lookups on the seed's trace_id index.
import { type DuckDBConnection, DuckDBTimestampTZValue, type DuckDBValue } from '@duckdb/node-api';
import type { CompactSpanRow } from '../spans/compact_span.ts';
import type { LogRecordRow, SpanRow, StatePatchRow } from '../spans/rows.ts';
import { renderSpan } from '../spans/span_json.ts';
import type { PageRequest, ServiceSummary } from '../spans/span_store.ts';
import {
  COMPACT_SPAN_COLUMNS,
  compactSpanRowFromResult,
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

function listPage(list: SpanList, cursor: Cursor): string {
  return `
    SELECT trace_id, span_id FROM span_list_entries
    WHERE service_name = $service_name AND start_time >= $window_start
      AND ${LIST_FILTERS[list]} ${CURSOR_FILTERS[cursor]}
    ${NEWEST_FIRST} LIMIT $limit`;
}

/**
 * The rows of these traces' spans with these span ids, one `$trace_N` / `$span_N` parameter each.
 * An IN list of parameters in a materialized CTE is what makes DuckDB use the trace_id index; a
 * second condition in the same scan, or `= ANY($list)`, reads far more of the table.
 */
function keyedSpansStatement(traceIds: string[], spanIds: string[]) {
  const params: Record<string, DuckDBValue> = {};
  const list = (prefix: string, values: string[]) =>
    values
      .map((value, i) => {
        params[`${prefix}_${i}`] = value;
        return `$${prefix}_${i}`;
      })
      .join(', ');
  const sql = `
    WITH trace AS MATERIALIZED (
      SELECT ${SPAN_SELECT}, span_id AS wanted FROM spans WHERE trace_id IN (${list('trace', traceIds)}))
    SELECT * EXCLUDE (wanted) FROM trace WHERE wanted IN (${list('span', spanIds)})`;
  return { sql, params };
}

// DuckDB gives the trace_id index up for a scan of the whole table once a lookup would return more
// than index_scan_max_count (2048) rows or 0.1% of the table: a 500-row page in one statement did
// (seconds of CPU at 1M spans). 40 traces of a few dozen spans each stay below both.
const TRACES_PER_LOOKUP = 40;

/**
 * Each listed span's JSON (renderSpan, as UTF-8 bytes), in the order of `keys`. Run it in the
 * snapshot that found the keys: they are read again from `spans`.
 */
export async function renderListedSpans(
  conn: DuckDBConnection,
  keys: readonly (readonly [traceId: string, spanId: string])[],
): Promise<Uint8Array[]> {
  const found = new Map<string, SpanRow>();
  for (let i = 0; i < keys.length; i += TRACES_PER_LOOKUP) {
    const chunk = keys.slice(i, i + TRACES_PER_LOOKUP);
    const statement = keyedSpansStatement(
      chunk.map(([traceId]) => traceId),
      chunk.map(([, spanId]) => spanId),
    );
    for (const row of await selectRows(conn, statement.sql, statement.params)) {
      const span = spanRowFromResult(row);
      found.set(`${span.trace_id}/${span.span_id}`, span);
    }
  }
  // A key always has its row (both tables change in the same transactions); the filter only
  // keeps the types honest.
  return keys.flatMap(([traceId, spanId]) => {
    const span = found.get(`${traceId}/${spanId}`);
    return span ? [Buffer.from(renderSpan(span))] : [];
  });
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
    const keys = (await selectRows(conn, LIST_PAGES[list][cursor], params)) as [string, string][];
    return renderListedSpans(conn, keys);
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

export async function selectCompactTrace(conn: DuckDBConnection, traceId: string): Promise<CompactSpanRow[]> {
  return (await selectRows(conn, COMPACT_TRACE, { trace_id: traceId })).map(compactSpanRowFromResult);
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
