// The filtered workflow-run list (spans/workflow_run_filter.ts): one statement assembled from fixed
// SQL fragments, one per condition, every value a bound parameter, JSON paths included (as JSON
// pointers, the form DuckDB's JSON functions take from a parameter).
//
// What keeps it fast:
// - it reads workflow spans only (a small share of `spans`) of one service, and the time bounds on
//   start_time let the zone maps skip the row groups outside them (rows are stored in about time
//   order);
// - newest slices first (spans/run_slices.ts), cut by the per-hour workflow counts of
//   span_list_hours;
// - the state document is parsed only when its raw text can match: requiredStateTexts (substrings
//   every matching document without backslashes contains) are tested on the text first, and a
//   substring search costs far less than parsing;
// - each state path is extracted once per candidate run (the `state_n` columns), so the document
//   is parsed once however many tests a condition makes; node conditions are semi-joins on node
//   spans of the same traces, bounded by the slice's start;
// - only the page's rows read their rendered (deflated) JSON from span_list_entries, by row id (as
//   span_queries.ts's list pages do): joined directly, the scan reads the JSON of every entry in the
//   page's time range.
import {
  type DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBTimestampTZValue,
  type DuckDBValue,
  listValue,
} from '@duckdb/node-api';
import { gatherSlices, newestRunStart, sliceStarts } from '../spans/run_slices.ts';
import type { PageRequest } from '../spans/span_store.ts';
import {
  type JsonPath,
  requiredStateTexts,
  type StateCondition,
  type WorkflowRunFilter,
} from '../spans/workflow_run_filter.ts';
import { inflateListPage } from './list_json.ts';
import { inReadTransaction, selectRows } from './span_queries.ts';
import { hourOf } from './summaries.ts';

/** RFC 6901 pointer of the path (without `.length`): DuckDB reads `/a/0` as key or index alike. */
export function jsonPointer(path: JsonPath): string {
  return path.segments
    .map((s) => `/${'index' in s ? s.index : s.key.replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
}

const numeric = (v: string) => `json_type(${v}) IN ('BIGINT', 'UBIGINT', 'DOUBLE')`;

/** SQL over the column `v`, the JSON value at the path (SQL NULL when the path leads nowhere). */
function equalsValue(v: string, value: StateCondition['value'], param: string): string {
  if (value === null) return `json_type(${v}) = 'NULL'`;
  if (typeof value === 'string')
    return `(json_type(${v}) = 'VARCHAR' AND json_extract_string(${v}, '$') = ${param})`;
  if (typeof value === 'boolean')
    return `(json_type(${v}) = 'BOOLEAN' AND json_extract_string(${v}, '$') = ${param})`;
  return `(${numeric(v)} AND TRY_CAST(json_extract_string(${v}, '$') AS DOUBLE) = ${param})`;
}

// Length of the array or string at the path; NULL for any other value.
const lengthOf = (v: string) =>
  `CASE json_type(${v}) WHEN 'ARRAY' THEN json_array_length(${v}) WHEN 'VARCHAR' THEN length(json_extract_string(${v}, '$')) END`;

/** Condition `n` as SQL over its extracted column `state_n`, with its parameters. */
function stateTest(
  condition: StateCondition,
  n: number,
): { sql: string; params: Record<string, DuckDBValue> } {
  const v = `state_${n}`;
  const name = `state_value_${n}`;
  const param = `$${name}`;
  const { operator, value } = condition;
  if (operator === 'exists') {
    return { sql: condition.path.length ? `${lengthOf(v)} IS NOT NULL` : `${v} IS NOT NULL`, params: {} };
  }
  if (condition.path.length) {
    const comparison = `${lengthOf(v)} ${operator === '!=' ? '<>' : operator} ${param}`;
    return {
      sql: operator === '!=' ? `coalesce(${comparison}, true)` : comparison,
      params: { [name]: value as number },
    };
  }
  if (operator === '=' || operator === '!=') {
    const equal = equalsValue(v, value, param);
    const params =
      value === null ? {} : { [name]: typeof value === 'boolean' ? String(value) : (value ?? null) };
    return { sql: operator === '!=' ? `NOT coalesce(${equal}, false)` : equal, params };
  }
  if (operator === '<' || operator === '>') {
    return {
      sql: `(${numeric(v)} AND TRY_CAST(json_extract_string(${v}, '$') AS DOUBLE) ${operator} ${param})`,
      params: { [name]: value as number },
    };
  }
  // contains: a substring of a string, or an element equal to the value in an array.
  return {
    sql: `CASE json_type(${v}) WHEN 'VARCHAR' THEN coalesce(contains(json_extract_string(${v}, '$'), ${param}_text), false) WHEN 'ARRAY' THEN json_contains(${v}, ${param}_json) ELSE false END`,
    params: {
      [`${name}_text`]: typeof value === 'string' ? value : null,
      [`${name}_json`]: JSON.stringify(value),
    },
  };
}

const NODE_RAN = (param: string, extra = '') => `EXISTS (
      SELECT 1 FROM spans n
      WHERE n.trace_id = r.trace_id AND n.junjo_span_type = 'node' AND n.name = ${param} ${extra}
        AND n.start_time >= r.start_time AND n.start_time <= r.end_time
        AND n.start_time >= $from AND n.start_time >= $slice_from)`;

/**
 * The statement and its parameters that find the page's runs (trace id, span id, start) among
 * those that started in [$slice_from, $slice_to): parameters the caller adds, with $limit.
 */
export function workflowRunSliceQuery(
  serviceName: string,
  filter: WorkflowRunFilter,
  page: PageRequest,
): { sql: string; params: Record<string, DuckDBValue> } {
  const params: Record<string, DuckDBValue> = {
    service_name: serviceName,
    limit: page.limit,
    from: timestamp(filter.fromMicros, DuckDBTimestampTZValue.NegInf),
    to: timestamp(filter.toMicros, DuckDBTimestampTZValue.PosInf),
  };
  const stateColumn = filter.stateOf === 'start' ? 'junjo_wf_state_start' : 'junjo_wf_state_end';
  const candidates: string[] = [];
  const conditions: string[] = [];
  if (filter.workflow !== undefined) {
    candidates.push('AND name = $workflow');
    params.workflow = filter.workflow;
  }
  if (filter.minDurationMicros !== undefined) {
    candidates.push('AND epoch_us(end_time) - epoch_us(start_time) >= $min_duration');
    params.min_duration = filter.minDurationMicros;
  }
  if (filter.maxDurationMicros !== undefined) {
    candidates.push('AND epoch_us(end_time) - epoch_us(start_time) <= $max_duration');
    params.max_duration = filter.maxDurationMicros;
  }
  if (page.before) {
    params.before = new DuckDBTimestampTZValue(page.before.startTime);
    if (page.before.spanId === undefined) candidates.push('AND start_time < $before');
    else {
      candidates.push('AND start_time <= $before AND (start_time < $before OR span_id < $before_span_id)');
      params.before_span_id = page.before.spanId;
    }
  }
  const texts = [...new Set(filter.state.flatMap(requiredStateTexts))];
  if (texts.length) {
    const all = texts.map((text, n) => {
      params[`state_text_${n}`] = text;
      return `contains(${stateColumn}, $state_text_${n})`;
    });
    candidates.push(`AND (contains(${stateColumn}, '\\') OR (${all.join(' AND ')}))`);
  }
  const extracted = filter.state.map((condition, n) => {
    params[`state_path_${n}`] = jsonPointer(condition.path);
    const test = stateTest(condition, n);
    Object.assign(params, test.params);
    conditions.push(`AND ${test.sql}`);
    return `, json_extract(${stateColumn}, $state_path_${n}) AS state_${n}`;
  });
  filter.nodes.forEach((node, n) => {
    conditions.push(`AND ${NODE_RAN(`$node_${n}`)}`);
    params[`node_${n}`] = node;
  });
  filter.notNodes.forEach((node, n) => {
    conditions.push(`AND NOT ${NODE_RAN(`$not_node_${n}`)}`);
    params[`not_node_${n}`] = node;
  });
  filter.failedNodes.forEach((node, n) => {
    conditions.push(`AND ${NODE_RAN(`$failed_node_${n}`, "AND n.status_code = 'STATUS_CODE_ERROR'")}`);
    params[`failed_node_${n}`] = node;
  });
  const sql = `
    WITH runs AS (
      SELECT trace_id, span_id, start_time, end_time ${extracted.join('')}
      FROM spans
      WHERE service_name = $service_name AND junjo_span_type = 'workflow'
        AND start_time >= $from AND start_time < $to
        AND start_time >= $slice_from AND start_time < $slice_to ${candidates.join(' ')})
    SELECT trace_id, span_id, epoch_us(start_time) FROM runs r WHERE true ${conditions.join(' ')}
    ORDER BY start_time DESC, span_id DESC LIMIT $limit`;
  return { sql, params };
}

// The page's rendered JSON: the entries' row ids first, within the page's time range, so that
// only those rows' JSON is read.
const PAGE_JSON = `
  WITH page AS (SELECT unnest($trace_ids::VARCHAR[]) AS trace_id, unnest($span_ids::VARCHAR[]) AS span_id),
  listed AS (
    SELECT e.rowid AS listed_row FROM span_list_entries e
    JOIN page p ON e.trace_id = p.trace_id AND e.span_id = p.span_id
    WHERE e.service_name = $service_name AND e.junjo_span_type = 'workflow'
      AND e.start_time >= $oldest AND e.start_time <= $newest)
  SELECT span_json_deflated FROM span_list_entries
  WHERE rowid IN (SELECT listed_row FROM listed)
  ORDER BY start_time DESC, span_id DESC`;

function timestamp(micros: bigint | undefined, otherwise: DuckDBTimestampTZValue): DuckDBTimestampTZValue {
  return micros === undefined ? otherwise : new DuckDBTimestampTZValue(micros);
}

/** Newest first, the service's workflow runs per hour that may hold runs of the page. */
const RUN_HOURS = `
  SELECT epoch_us(hour), workflows FROM span_list_hours
  WHERE service_name = $service_name AND hour >= $from_hour AND hour < $until
  ORDER BY hour DESC`;

export async function selectWorkflowRunPage(
  conn: DuckDBConnection,
  serviceName: string,
  filter: WorkflowRunFilter,
  page: PageRequest,
): Promise<Uint8Array[]> {
  const slice = workflowRunSliceQuery(serviceName, filter, page);
  // One snapshot: the slices must see the runs the counts saw, and no run twice or never.
  return inReadTransaction(conn, async () => {
    const hours = await selectRows(conn, RUN_HOURS, {
      service_name: serviceName,
      from_hour: timestamp(
        filter.fromMicros === undefined ? undefined : hourOf(filter.fromMicros),
        DuckDBTimestampTZValue.NegInf,
      ),
      until: timestamp(newestRunStart(filter, page), DuckDBTimestampTZValue.PosInf),
    });
    const starts = sliceStarts(hours as [bigint, bigint][], page.limit, filter);
    const found = await gatherSlices(starts, page.limit, ({ from, to }, remaining) =>
      selectRows(conn, slice.sql, {
        ...slice.params,
        limit: remaining,
        slice_from: timestamp(from, DuckDBTimestampTZValue.NegInf),
        slice_to: timestamp(to, DuckDBTimestampTZValue.PosInf),
      }),
    );
    if (found.length === 0) return [];
    const json = await selectRows(conn, PAGE_JSON, {
      service_name: serviceName,
      trace_ids: listValue(found.map((row) => row[0] as string)),
      span_ids: listValue(found.map((row) => row[1] as string)),
      oldest: new DuckDBTimestampTZValue(found.at(-1)![2] as bigint),
      newest: new DuckDBTimestampTZValue(found[0]![2] as bigint),
    });
    return inflateListPage(json.map((row) => (row[0] as DuckDBBlobValue).bytes));
  });
}
