// The SQL of a span search on ClickHouse (spans/span_search.ts says what each condition means). The
// statement is assembled from the fixed fragments below; every value is a bound parameter, the
// attribute keys included (ClickHouse's JSON functions take a top-level key as a plain String
// argument, so a dotted key such as `http.method` is one step and nothing is quoted into the text).
//
// What bounds the work: `service_name` then `start_time` lead the spans table's sort key, so the
// window reads only the service's granules of the window's day partitions. Each attribute condition
// first tests that the key's quoted name occurs in the text (no parsing; ClickHouse evaluates AND
// short-circuit), so the JSON is parsed only on rows that can match. The top-N keeps (trace_id,
// span_id) only; the page's rows and its traces' root spans are then read by trace id, within the
// traces' ranges from the trace index (as every trace lookup of the store).
import type { AttributeFilter, SpanSearch } from '../spans/span_search.ts';
import type { PageRequest } from '../spans/span_store.ts';
import { at, SPAN_SELECT } from './span_queries.ts';

type Params = Record<string, unknown>;

const NUMBER_TYPES = "('Int64', 'UInt64', 'Double')";

/** An attribute's text: a string as itself, any other value as its JSON text. */
const attributeText = (key: string) =>
  `if(JSONType(attributes_json, ${key}) = 'String', JSONExtractString(attributes_json, ${key}), JSONExtractRaw(attributes_json, ${key}))`;

/** The condition of one attribute filter; `p` prefixes its parameters. */
function attributeCondition(filter: AttributeFilter, p: string): string {
  const key = `{${p}_key:String}`;
  const present = `position(attributes_json, {${p}_quoted_key:String}) > 0 AND JSONHas(attributes_json, ${key})`;
  const number = `JSONType(attributes_json, ${key}) IN ${NUMBER_TYPES} AND JSONExtractFloat(attributes_json, ${key})`;
  switch (filter.op) {
    case 'equals':
      return `${present} AND ${attributeText(key)} = {${p}_value:String}`;
    case 'not_equals':
      return `${present} AND ${attributeText(key)} != {${p}_value:String}`;
    case 'contains':
      return `${present} AND positionCaseInsensitiveUTF8(${attributeText(key)}, {${p}_value:String}) > 0`;
    case 'exists':
      return present;
    case 'less_than':
      return `${present} AND ${number} < {${p}_value:Float64}`;
    case 'greater_than':
      return `${present} AND ${number} > {${p}_value:Float64}`;
    case 'between':
      return `${present} AND ${number} BETWEEN {${p}_low:Float64} AND {${p}_high:Float64}`;
  }
}

function attributeParams(filter: AttributeFilter, p: string): Params {
  // Attributes are written with JSON.stringify (span_processor.ts), so a present key occurs in the
  // text exactly so; keys of ATTRIBUTE_KEY's grammar need no escaping.
  const params: Params = { [`${p}_key`]: filter.key, [`${p}_quoted_key`]: `"${filter.key}"` };
  if (filter.op === 'between') {
    params[`${p}_low`] = filter.low;
    params[`${p}_high`] = filter.high;
  } else if (filter.op !== 'exists') {
    params[`${p}_value`] = filter.value;
  }
  return params;
}

const DURATION = 'toUnixTimestamp64Micro(end_time) - toUnixTimestamp64Micro(start_time)';

/** The conditions of a search beyond service and window, with their parameters. */
function conditions(search: SpanSearch): { sql: string[]; params: Params } {
  const sql: string[] = [];
  const params: Params = {};
  if (search.name !== undefined) {
    sql.push('name = {name:String}');
    params.name = search.name;
  }
  if (search.spanType !== undefined) {
    sql.push('junjo_span_type = {span_type:String}');
    params.span_type = search.spanType;
  }
  if (search.errorsOnly) sql.push("status_code = 'STATUS_CODE_ERROR'");
  if (search.minDurationMicros !== undefined) {
    sql.push(`${DURATION} >= {min_duration:Int64}`);
    params.min_duration = String(search.minDurationMicros);
  }
  if (search.maxDurationMicros !== undefined) {
    sql.push(`${DURATION} <= {max_duration:Int64}`);
    params.max_duration = String(search.maxDurationMicros);
  }
  search.attributes.forEach((filter, i) => {
    sql.push(attributeCondition(filter, `attr${i}`));
    Object.assign(params, attributeParams(filter, `attr${i}`));
  });
  if (search.text !== undefined) {
    // Every top-level value's text, as attributeText gives it.
    sql.push(`(positionCaseInsensitiveUTF8(name, {text:String}) > 0
      OR arrayExists(kv -> positionCaseInsensitiveUTF8(
           if(JSONType(kv.2) = 'String', JSONExtractString(kv.2), kv.2), {text:String}) > 0,
         JSONExtractKeysAndValuesRaw(attributes_json)))`);
    params.text = search.text;
  }
  return { sql, params };
}

function cursorCondition(page: PageRequest): { sql: string; params: Params } {
  if (!page.before) return { sql: '', params: {} };
  const before = String(page.before.startTime);
  if (page.before.spanId === undefined)
    return { sql: `AND start_time < ${at('before')}`, params: { before } };
  return {
    sql: `AND start_time <= ${at('before')} AND (start_time < ${at('before')} OR span_id < {before_span_id:String})`,
    params: { before, before_span_id: page.before.spanId },
  };
}

/** The page's (trace_id, span_id), newest first. */
export function searchHitsQuery(spansTable: string, search: SpanSearch, page: PageRequest) {
  const found = conditions(search);
  const cursor = cursorCondition(page);
  const sql = `
    SELECT trace_id, span_id FROM ${spansTable} FINAL
    WHERE service_name = {service_name:String}
      AND start_time BETWEEN ${at('window_start')} AND ${at('window_end')}
      ${cursor.sql} ${found.sql.map((condition) => `AND (${condition})`).join(' ')}
    ORDER BY start_time DESC, span_id DESC LIMIT {limit:UInt32}`;
  const params: Params = {
    service_name: search.serviceName,
    window_start: String(search.window.startMicros),
    window_end: String(search.window.endMicros),
    limit: page.limit,
    ...cursor.params,
    ...found.params,
  };
  return { sql, params };
}

/** The found spans and their traces' root spans, within the traces' time range. */
export const searchHitRowsQuery = (spansTable: string) => `
    SELECT ${SPAN_SELECT} FROM ${spansTable} FINAL
    WHERE trace_id IN {trace_ids:Array(String)} AND start_time BETWEEN ${at('from')} AND ${at('to')}
      AND (span_id IN {span_ids:Array(String)} OR parent_span_id IS NULL)`;
