// The filtered workflow-run list (spans/workflow_run_filter.ts) on ClickHouse: one statement
// assembled from fixed fragments, one per condition, every value a bound parameter. A JSON path is
// walked one segment per step, each step's key (String) or index (Int64) its own parameter, so a
// path never becomes SQL text; each step is a named expression, so the document is parsed once per
// step however many tests a condition makes.
//
// What bounds the work: it reads the workflow spans of one service (service_name leads the sort
// key) within the bounds of one slice (the store runs it slice by slice, newest first, until the
// page is full: spans/run_slices.ts; day partitions and the start_time key prune the rest).
// Node conditions join one array of (name, start, failed) per trace, built from the node spans of
// the candidate runs' traces only (the bloom filter on trace_id skips the other granules). Only the
// page's keys leave the filter; its rows are then read by key.
import type { PageRequest } from '../spans/span_store.ts';
import type { JsonPath, StateCondition, WorkflowRunFilter } from '../spans/workflow_run_filter.ts';
import type { TableNames } from './schema.ts';
import { at, SPAN_SELECT } from './span_queries.ts';

type Params = Record<string, unknown>;

const NUMBER = (v: string) => `JSONType(${v}) IN ('Int64', 'UInt64', 'Double')`;

/**
 * Named expressions walking `path` through `column`, the last one named `v` ('' when the path
 * leads nowhere, else the value's JSON text). An index step reads an array element, or on an
 * object the member named by the index's digits (as a JSON pointer does).
 */
function walk(column: string, path: JsonPath, v: string, params: Params): string[] {
  let previous = column;
  return path.segments.map((segment, k) => {
    const name = k === path.segments.length - 1 ? v : `${v}_${k}`;
    const param = `${v}_${k}`;
    let step: string;
    if ('key' in segment) {
      params[param] = segment.key;
      step = `JSONExtractRaw(${previous}, {${param}:String})`;
    } else {
      // ClickHouse counts array elements from 1.
      params[`${param}_i`] = segment.index + 1;
      params[`${param}_k`] = String(segment.index);
      step = `if(JSONType(${previous}) = 'Array', JSONExtractRaw(${previous}, {${param}_i:Int64}), JSONExtractRaw(${previous}, {${param}_k:String}))`;
    }
    previous = name;
    return `${step} AS ${name}`;
  });
}

/** SQL over `v`, a value's JSON text ('' when missing): the value equals the parameter. */
function equalsValue(v: string, value: StateCondition['value'], param: string): string {
  if (value === null) return `${v} = 'null'`;
  if (typeof value === 'string')
    return `(JSONType(${v}) = 'String' AND JSONExtractString(${v}) = {${param}:String})`;
  if (typeof value === 'boolean') return `${v} = {${param}:String}`;
  return `(${NUMBER(v)} AND JSONExtractFloat(${v}) = {${param}:Float64})`;
}

// Length of the array or string at the path; NULL for any other value (or none).
const lengthOf = (v: string) =>
  `multiIf(${v} = '', NULL, JSONType(${v}) = 'Array', toInt64(JSONLength(${v})), JSONType(${v}) = 'String', toInt64(lengthUTF8(JSONExtractString(${v}))), NULL)`;

/** Condition `n` as SQL over its value `v`, adding its parameters. */
function stateTest(condition: StateCondition, v: string, params: Params): string {
  const param = `${v}_value`;
  const { operator, value } = condition;
  if (operator === 'exists') return condition.path.length ? `${lengthOf(v)} IS NOT NULL` : `${v} != ''`;
  if (condition.path.length) {
    params[param] = value;
    const comparison = `${lengthOf(v)} ${operator === '!=' ? '!=' : operator} {${param}:Float64}`;
    return operator === '!=' ? `coalesce(${comparison}, true)` : `coalesce(${comparison}, false)`;
  }
  if (operator === '=' || operator === '!=') {
    if (value !== null) params[param] = typeof value === 'boolean' ? String(value) : value;
    const equal = equalsValue(v, value ?? null, param);
    return operator === '!=' ? `NOT (${equal})` : equal;
  }
  if (operator === '<' || operator === '>') {
    params[param] = value;
    return `(${NUMBER(v)} AND JSONExtractFloat(${v}) ${operator} {${param}:Float64})`;
  }
  // contains: a substring of a string, or an element equal to the value in an array.
  if (value !== null) params[param] = typeof value === 'boolean' ? String(value) : value;
  const substring =
    typeof value === 'string' ? `position(JSONExtractString(${v}), {${param}:String}) > 0` : 'false';
  return `multiIf(JSONType(${v}) = 'String', ${substring},
    JSONType(${v}) = 'Array', arrayExists(e -> ${equalsValue('e', value ?? null, param)}, JSONExtractArrayRaw(${v})),
    false)`;
}

const DURATION = 'toUnixTimestamp64Micro(end_time) - toUnixTimestamp64Micro(start_time)';

/** The statement and its parameters for one page of the filtered list. */
export function workflowRunPageQuery(
  spans: TableNames,
  serviceName: string,
  filter: WorkflowRunFilter,
  page: PageRequest,
): { sql: string; params: Params } {
  const params: Params = { service_name: serviceName, limit: page.limit };
  const bounds: string[] = [];
  // A node of a run starts within the run, so never before the runs' lower bound.
  let nodeBound = '';
  if (filter.fromMicros !== undefined) {
    nodeBound = `AND start_time >= ${at('from')}`;
    bounds.push(nodeBound);
    params.from = String(filter.fromMicros);
  }
  if (filter.toMicros !== undefined) {
    bounds.push(`AND start_time < ${at('to')}`);
    params.to = String(filter.toMicros);
  }
  const candidates = [...bounds];
  if (filter.workflow !== undefined) {
    candidates.push('AND name = {workflow:String}');
    params.workflow = filter.workflow;
  }
  if (filter.minDurationMicros !== undefined) {
    candidates.push(`AND ${DURATION} >= {min_duration:Int64}`);
    params.min_duration = String(filter.minDurationMicros);
  }
  if (filter.maxDurationMicros !== undefined) {
    candidates.push(`AND ${DURATION} <= {max_duration:Int64}`);
    params.max_duration = String(filter.maxDurationMicros);
  }
  if (page.before) {
    params.before = String(page.before.startTime);
    if (page.before.spanId === undefined) candidates.push(`AND start_time < ${at('before')}`);
    else {
      candidates.push(
        `AND start_time <= ${at('before')} AND (start_time < ${at('before')} OR span_id < {before_span_id:String})`,
      );
      params.before_span_id = page.before.spanId;
    }
  }
  const stateColumn = filter.stateOf === 'start' ? 'junjo_wf_state_start' : 'junjo_wf_state_end';
  const extracted: string[] = [];
  const conditions: string[] = [];
  filter.state.forEach((condition, n) => {
    const v = `state_${n}`;
    if (condition.path.segments.length === 0) extracted.push(`${stateColumn} AS ${v}`);
    else extracted.push(...walk(stateColumn, condition.path, v, params));
    conditions.push(`AND ${stateTest(condition, v, params)}`);
  });
  const nodeRan = (param: string, failed = false) =>
    `arrayExists(x -> x.1 = {${param}:String} AND x.2 >= r.start_time AND x.2 <= r.end_time${failed ? ' AND x.3' : ''}, nodes)`;
  filter.nodes.forEach((node, n) => {
    conditions.push(`AND ${nodeRan(`node_${n}`)}`);
    params[`node_${n}`] = node;
  });
  filter.notNodes.forEach((node, n) => {
    conditions.push(`AND NOT ${nodeRan(`not_node_${n}`)}`);
    params[`not_node_${n}`] = node;
  });
  filter.failedNodes.forEach((node, n) => {
    conditions.push(`AND ${nodeRan(`failed_node_${n}`, true)}`);
    params[`failed_node_${n}`] = node;
  });
  const runs = `
      SELECT trace_id, span_id, start_time, end_time ${extracted.map((e) => `, ${e}`).join('')}
      FROM ${spans.local} FINAL
      WHERE service_name = {service_name:String} AND junjo_span_type = 'workflow' ${candidates.join(' ')}`;
  const nodeConditions = filter.nodes.length + filter.notNodes.length + filter.failedNodes.length > 0;
  // A trace without node spans joins an empty array (join_use_nulls is off).
  const nodes = nodeConditions
    ? `LEFT JOIN (
        SELECT trace_id, groupArray((name, start_time, status_code = 'STATUS_CODE_ERROR')) AS nodes
        FROM ${spans.local} FINAL
        WHERE junjo_span_type = 'node' ${nodeBound}
          AND trace_id IN (SELECT trace_id FROM (${runs}))
        GROUP BY trace_id) AS n ON n.trace_id = r.trace_id`
    : '';
  // On a cluster the outer read is the Distributed table and the filter runs on each shard over its
  // local table (a run's node spans share its shard: sharded by trace id); each shard's first page
  // holds its share of the global one, so the outer ORDER BY … LIMIT gives the global page.
  const sql = `
    SELECT ${SPAN_SELECT} FROM ${spans.read} FINAL
    WHERE service_name = {service_name:String} AND junjo_span_type = 'workflow' ${bounds.join(' ')}
      AND (trace_id, span_id) IN (
        SELECT r.trace_id, r.span_id FROM (${runs}) AS r ${nodes}
        WHERE true ${conditions.join(' ')}
        ORDER BY r.start_time DESC, r.span_id DESC LIMIT {limit:UInt32})
    ORDER BY start_time DESC, span_id DESC LIMIT {limit:UInt32}`;
  return { sql, params };
}
