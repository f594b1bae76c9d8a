// The SQL of a span search (spans/span_search.ts says what each condition means). A search has a
// varying set of conditions, so its statement is assembled, but only from the fixed fragments below:
// every value is a bound parameter, and the one thing spliced into the text is an attribute's JSON
// path, built from a key that matched ATTRIBUTE_KEY (no quote, no backslash can reach the SQL).
//
// What keeps it fast on a large table, in one read transaction:
// 1. the service and the start_time window are plain column filters, pushed into the scan: `spans`
//    is written in arrival order, close to time order, so the zone maps on start_time skip every
//    row group outside the window, whatever the table's size;
// 2. attribute and free-text conditions read span_attributes (span_attributes.ts: one narrow row per
//    attribute, also in arrival order, so the same window bounds it), not attributes_json: a
//    condition is a semi-join on the spans it finds there, and a search of attribute filters alone
//    reads its hits from that table without scanning `spans`. Only a value longer than the table's
//    cap is decided on attributes_json, and only for the spans that have one for the key;
// 3. the top-N keeps only (trace_id, span_id); the page's whole rows and its traces' root spans are
//    then read through the trace_id index.
import { type DuckDBConnection, DuckDBTimestampTZValue, type DuckDBValue } from '@duckdb/node-api';
import {
  ATTRIBUTE_KEY,
  type AttributeFilter,
  assembleSearchHits,
  type SpanSearch,
  type SpanSearchHit,
} from '../spans/span_search.ts';
import type { PageRequest } from '../spans/span_store.ts';
import { SPAN_COLUMNS, spanRowFromResult } from './result_rows.ts';
import { ATTRIBUTE_TEXT_CAP_BYTES } from './span_attributes.ts';
import { inReadTransaction, selectRows } from './span_queries.ts';

const NEWEST_FIRST = 'ORDER BY start_time DESC, span_id DESC';
const IN_WINDOW = 'service_name = $service_name AND start_time BETWEEN $window_start AND $window_end';

/** Spans of the window with an attribute row matching `condition` (on span_attributes' columns). */
function withAttribute(condition: string): string {
  return `(trace_id, span_id) IN (SELECT trace_id, span_id FROM span_attributes
    WHERE ${IN_WINDOW} AND ${condition})`;
}

/** Whether a text of at most the cap may be the condition's answer on a long value too. */
type LongValues = 'never' | 'always' | 'check';

/** One attribute filter as a condition on span_attributes rows, each deciding it for its span. */
interface AttributeMatch {
  row: string;
  /** The condition on attributes_json for a long value of the key, when its row cannot decide. */
  json?: string;
}

/** `p` prefixes the filter's parameters, `path` is the key's JSON path. */
function attributeMatch(filter: AttributeFilter, p: string, path: string): AttributeMatch {
  const key = `key = $${p}_key`;
  const text = `json_extract_string(attributes_json, ${path})`;
  const kept = (condition: string, long: LongValues, json: string): AttributeMatch => {
    if (long === 'never') return { row: `${key} AND NOT long AND ${condition}` };
    if (long === 'always') return { row: `${key} AND (long OR ${condition})` };
    return { row: `${key} AND NOT long AND ${condition}`, json };
  };
  switch (filter.op) {
    case 'equals':
      // A text longer than the cap equals only a value that long.
      return kept(`text = $${p}_value`, isLong(filter.value) ? 'check' : 'never', `${text} = $${p}_value`);
    case 'not_equals':
      // A long text differs from any shorter value.
      return kept(`text <> $${p}_value`, isLong(filter.value) ? 'check' : 'always', `${text} <> $${p}_value`);
    case 'contains':
      return kept(
        `contains(lower(text), lower($${p}_value))`,
        'check',
        `contains(lower(${text}), lower($${p}_value))`,
      );
    case 'exists':
      return { row: key };
    // Numbers are never long: their text is a JSON number's.
    case 'less_than':
      return { row: `${key} AND number < $${p}_value::DOUBLE` };
    case 'greater_than':
      return { row: `${key} AND number > $${p}_value::DOUBLE` };
    case 'between':
      return { row: `${key} AND number BETWEEN $${p}_low::DOUBLE AND $${p}_high::DOUBLE` };
  }
}

/** The filter as a condition on `spans`. */
function spansCondition(match: AttributeMatch, p: string): string {
  const found = withAttribute(match.row);
  if (match.json === undefined) return found;
  // Evaluated left to right: the JSON is parsed only for the spans with a long value of the key.
  return `${found} OR (${withAttribute(`key = $${p}_key AND long`)} AND ${match.json})`;
}

function isLong(value: string): boolean {
  return Buffer.byteLength(value, 'utf8') > ATTRIBUTE_TEXT_CAP_BYTES;
}

function attributeParams(filter: AttributeFilter, p: string): Record<string, DuckDBValue> {
  const params: Record<string, DuckDBValue> = { [`${p}_key`]: filter.key };
  if (filter.op === 'between') {
    params[`${p}_low`] = filter.low;
    params[`${p}_high`] = filter.high;
  } else if (filter.op !== 'exists') {
    params[`${p}_value`] = filter.value;
  }
  return params;
}

/** The JSON path of a top-level key, e.g. `$."http.method"` (dots inside the key are not steps). */
function jsonPath(key: string): string {
  if (!ATTRIBUTE_KEY.test(key)) throw new Error(`attribute key outside the search grammar: ${key}`);
  return `'$."${key}"'`;
}

/**
 * The conditions of a search beyond service and window, with their parameters: on `spans` (name,
 * type, status, duration, free text) and the attribute filters.
 */
function conditions(search: SpanSearch): {
  sql: string[];
  matches: AttributeMatch[];
  params: Record<string, DuckDBValue>;
} {
  const sql: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  if (search.name !== undefined) {
    sql.push('name = $name');
    params.name = search.name;
  }
  if (search.spanType !== undefined) {
    sql.push('junjo_span_type = $span_type');
    params.span_type = search.spanType;
  }
  if (search.errorsOnly) sql.push("status_code = 'STATUS_CODE_ERROR'");
  if (search.minDurationMicros !== undefined) {
    sql.push('epoch_us(end_time) - epoch_us(start_time) >= $min_duration');
    params.min_duration = search.minDurationMicros;
  }
  if (search.maxDurationMicros !== undefined) {
    sql.push('epoch_us(end_time) - epoch_us(start_time) <= $max_duration');
    params.max_duration = search.maxDurationMicros;
  }
  const matches = search.attributes.map((filter, i) => {
    Object.assign(params, attributeParams(filter, `attr${i}`));
    return attributeMatch(filter, `attr${i}`, jsonPath(filter.key));
  });
  if (search.text !== undefined) {
    // Every top-level value's text ('$.*' gives strings as themselves, the rest as JSON); long
    // values only from the JSON of the spans that have one.
    sql.push(`contains(lower(name), lower($text))
      OR ${withAttribute('NOT long AND contains(lower(text), lower($text))')}
      OR (${withAttribute('long')}
        AND len(list_filter(json_extract_string(attributes_json, '$.*'), lambda v: contains(lower(v), lower($text)))) > 0)`);
    params.text = search.text;
  }
  return { sql, matches, params };
}

function cursorCondition(page: PageRequest): { sql: string; params: Record<string, DuckDBValue> } {
  if (!page.before) return { sql: '', params: {} };
  const before = new DuckDBTimestampTZValue(page.before.startTime);
  if (page.before.spanId === undefined) return { sql: 'AND start_time < $before', params: { before } };
  return {
    // The first conjunct alone prunes row groups by their start_time zone maps.
    sql: 'AND start_time <= $before AND (start_time < $before OR span_id < $before_span_id)',
    params: { before, before_span_id: page.before.spanId },
  };
}

function searchStatement(search: SpanSearch, page: PageRequest) {
  const found = conditions(search);
  const cursor = cursorCondition(page);
  const [first, ...rest] = found.matches;
  // Only attribute filters, each decided by its rows: the hits are read from span_attributes
  // alone (its first filter's rows, the others as semi-joins), without scanning spans.
  const fromAttributes =
    first !== undefined && found.sql.length === 0 && found.matches.every((m) => m.json === undefined);
  const sql = fromAttributes
    ? `
    SELECT trace_id, span_id FROM span_attributes
    WHERE ${IN_WINDOW} ${cursor.sql} AND (${first.row})
      ${rest.map((match) => `AND ${withAttribute(match.row)}`).join(' ')}
    ${NEWEST_FIRST} LIMIT $limit`
    : `
    SELECT trace_id, span_id FROM spans
    WHERE ${IN_WINDOW} ${cursor.sql}
      ${[...found.sql, ...found.matches.map((match, i) => spansCondition(match, `attr${i}`))]
        .map((condition) => `AND (${condition})`)
        .join(' ')}
    ${NEWEST_FIRST} LIMIT $limit`;
  const params: Record<string, DuckDBValue> = {
    service_name: search.serviceName,
    window_start: new DuckDBTimestampTZValue(search.window.startMicros),
    window_end: new DuckDBTimestampTZValue(search.window.endMicros),
    limit: page.limit,
    ...cursor.params,
    ...found.params,
  };
  return { sql, params };
}

/**
 * The found spans' whole rows and their traces' root spans, one `$trace_N` / `$span_N` parameter
 * each. An IN list of parameters in a materialized CTE is what makes DuckDB use the trace_id index
 * (a few ms at 1M spans); reading the rows by rowid, `= ANY($list)`, or a second condition in the
 * same scan read far more of the table (100+ ms).
 */
function hitRowsStatement(traceIds: string[], spanIds: string[]) {
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
      SELECT ${SPAN_COLUMNS.join(', ')}, span_id AS wanted, parent_span_id AS parent
      FROM spans WHERE trace_id IN (${list('trace', traceIds)}))
    SELECT * EXCLUDE (wanted, parent) FROM trace
    WHERE wanted IN (${list('span', spanIds)}) OR parent IS NULL`;
  return { sql, params };
}

export function selectSearchHits(
  conn: DuckDBConnection,
  search: SpanSearch,
  page: PageRequest,
): Promise<SpanSearchHit[]> {
  const statement = searchStatement(search, page);
  // One snapshot: the rows found must still be there for the second statement.
  return inReadTransaction(conn, async () => {
    const hits = (await selectRows(conn, statement.sql, statement.params)) as [string, string][];
    if (hits.length === 0) return [];
    const traceIds = [...new Set(hits.map(([traceId]) => traceId))];
    const rows = hitRowsStatement(traceIds, [...new Set(hits.map(([, spanId]) => spanId))]);
    return assembleSearchHits(hits, (await selectRows(conn, rows.sql, rows.params)).map(spanRowFromResult));
  });
}
