// Fills span_attributes (schemas/query_support.sql), the table trace search reads its attribute and
// free-text conditions from. Every path that adds spans fills it with the same statement, from a
// different source of span rows: the insert transaction (recordSpanAttributes), the generator's bulk
// load (an NDJSON file) and the backfill of existing spans (a range of row ids, read a row group at
// a time). The values are extracted by the same DuckDB JSON functions the search's conditions are
// defined with, so a condition on the table gives the answer it would give on attributes_json. The
// insert path and the backfill hand DuckDB short stand-ins for long values (shortValuesOnly), which
// give the same rows.
import { type DuckDBConnection, DuckDBTimestampTZValue, listValue } from '@duckdb/node-api';
import type { SpanRow } from '../spans/rows.ts';

/**
 * Texts longer than this many UTF-8 bytes are not kept (`long` instead): a search then reads those
 * spans' attributes_json, so answers stay exact while 100 KB prompts do not double the disk.
 */
export const ATTRIBUTE_TEXT_CAP_BYTES = 256;

const JSON_NUMBER_TYPES = "('BIGINT', 'UBIGINT', 'DOUBLE')";

/** `source` yields service_name, start_time, trace_id, span_id and attributes_json, in arrival order. */
function insertAttributesFrom(source: string): string {
  return `
  INSERT INTO span_attributes
  SELECT service_name, start_time, trace_id, span_id, key,
         CASE WHEN strlen(text) <= ${ATTRIBUTE_TEXT_CAP_BYTES} THEN text END,
         CASE WHEN type IN ${JSON_NUMBER_TYPES} THEN value::DOUBLE END,
         coalesce(strlen(text) > ${ATTRIBUTE_TEXT_CAP_BYTES}, false)
  FROM (SELECT service_name, start_time, trace_id, span_id,
               unnest(json_keys(attributes_json)) AS key,
               unnest(json_extract_string(attributes_json, '$.*')) AS text,
               unnest(json_type(attributes_json, '$.*')) AS type,
               unnest(json_extract(attributes_json, '$.*')) AS value
        FROM (${source}))`;
}

const INSERT_BATCH = insertAttributesFrom(`
  SELECT unnest($service_names::VARCHAR[]) AS service_name,
         unnest($start_times::TIMESTAMPTZ[]) AS start_time, unnest($trace_ids::VARCHAR[]) AS trace_id,
         unnest($span_ids::VARCHAR[]) AS span_id, unnest($attributes::VARCHAR[]) AS attributes_json`);

// DuckDB's JSON functions hold many copies of every value a statement extracts: 500 spans with a
// 100 KB prompt each (4.9 MB of attributes) needed more than 128 MiB in one statement, and an
// insert that cannot fit its statement under the memory limit is retried for ever. Two bounds
// keep it small: a value too long to keep as text goes to DuckDB as a stand-in (shortValuesOnly),
// and a statement takes at most this many characters of attributes (a larger span alone).
const STATEMENT_ATTRIBUTE_CHARS = 1024 * 1024;
/** Attributes JSON shorter than this (characters) is passed as it is. */
const STAND_IN_FROM_CHARS = 4 * 1024;
// Longer than the cap, as strlen counts it: the row gets text NULL and long = true, as the value
// would give it; not a number, as no string or object is.
const LONG_STAND_IN = 'x'.repeat(ATTRIBUTE_TEXT_CAP_BYTES + 1);

/**
 * The attributes with every top-level string of more than ATTRIBUTE_TEXT_CAP_BYTES UTF-8 bytes,
 * and every object or array whose JSON takes more than four times that, replaced by LONG_STAND_IN:
 * span_attributes keeps nothing of such values but the key and that they are long, which the
 * stand-in gives as well. (DuckDB prints an object as compact JSON, as JSON.stringify does; four
 * times the cap leaves room for any difference in how numbers are written.)
 */
export function shortValuesOnly(attributesJson: string): string {
  if (attributesJson.length < STAND_IN_FROM_CHARS) return attributesJson;
  const attributes = JSON.parse(attributesJson) as Record<string, unknown>;
  let replaced = false;
  for (const [key, value] of Object.entries(attributes)) {
    const long =
      typeof value === 'string'
        ? Buffer.byteLength(value) > ATTRIBUTE_TEXT_CAP_BYTES
        : typeof value === 'object' &&
          value !== null &&
          Buffer.byteLength(JSON.stringify(value)) > 4 * ATTRIBUTE_TEXT_CAP_BYTES;
    if (long) {
      attributes[key] = LONG_STAND_IN;
      replaced = true;
    }
  }
  return replaced ? JSON.stringify(attributes) : attributesJson;
}

/** The columns span_attributes takes from a span. */
interface AttributeSource {
  service_name: string;
  start_time: DuckDBTimestampTZValue;
  trace_id: string;
  span_id: string;
  attributes_json: string;
}

/** In the insert transaction, with exactly the span rows it inserts. */
export async function recordSpanAttributes(conn: DuckDBConnection, spans: readonly SpanRow[]): Promise<void> {
  await insertAttributes(
    conn,
    spans.map((span) => ({
      service_name: span.service_name,
      start_time: new DuckDBTimestampTZValue(span.start_time),
      trace_id: span.trace_id,
      span_id: span.span_id,
      attributes_json: span.attributes_json,
    })),
  );
}

/**
 * Inserts the attributes of the spans that have any, in order, as shortValuesOnly gives them and
 * STATEMENT_ATTRIBUTE_CHARS at most per statement; the rows added.
 */
async function insertAttributes(conn: DuckDBConnection, spans: readonly AttributeSource[]): Promise<number> {
  const rows = spans
    .filter((span) => span.attributes_json !== '{}')
    .map((span) => ({ span, attributes: shortValuesOnly(span.attributes_json) }));
  let inserted = 0;
  for (const chunk of chunksUpTo(rows, STATEMENT_ATTRIBUTE_CHARS)) {
    const result = await conn.run(INSERT_BATCH, {
      service_names: listValue(chunk.map(({ span }) => span.service_name)),
      start_times: listValue(chunk.map(({ span }) => span.start_time)),
      trace_ids: listValue(chunk.map(({ span }) => span.trace_id)),
      span_ids: listValue(chunk.map(({ span }) => span.span_id)),
      attributes: listValue(chunk.map(({ attributes }) => attributes)),
    });
    inserted += Number(result.rowsChanged);
  }
  return inserted;
}

/** Consecutive runs of rows whose attributes add up to at most `maxChars` (a longer row alone). */
function* chunksUpTo<Row extends { attributes: string }>(rows: Row[], maxChars: number): Generator<Row[]> {
  let chunk: Row[] = [];
  let chars = 0;
  for (const row of rows) {
    if (chunk.length > 0 && chars + row.attributes.length > maxChars) {
      yield chunk;
      chunk = [];
      chars = 0;
    }
    chunk.push(row);
    chars += row.attributes.length;
  }
  if (chunk.length > 0) yield chunk;
}

/** For the bulk load: `file` is the NDJSON of spans it has just loaded (start_time in epoch µs). */
export const INSERT_FROM_SPANS_FILE = insertAttributesFrom(`
  SELECT service_name, make_timestamptz(start_time) AS start_time, trace_id, span_id, attributes_json
  FROM read_json($file, format = 'newline_delimited', columns = {service_name: 'VARCHAR',
    start_time: 'BIGINT', trace_id: 'VARCHAR', span_id: 'VARCHAR', attributes_json: 'VARCHAR'})`);

// The backfill reads the stored spans into this process a row group at a time and inserts them as
// the insert path does: handed to DuckDB's JSON functions whole, a 100,000-row step of spans with
// long prompts needed far more than the memory limit, and the server could not start.
const STORED_SPANS = `
  SELECT service_name, start_time, trace_id, span_id, attributes_json FROM spans
  WHERE rowid BETWEEN $first::BIGINT AND $last::BIGINT ORDER BY rowid`;
const STORED_SPANS_PER_READ = 2048n;

/** Backfill: the attributes of the stored spans whose row ids are within [first, last]; the rows added. */
export async function recordStoredSpanAttributes(
  conn: DuckDBConnection,
  first: bigint,
  last: bigint,
): Promise<number> {
  let inserted = 0;
  for (let from = first; from <= last; from += STORED_SPANS_PER_READ) {
    const to = from + STORED_SPANS_PER_READ - 1n < last ? from + STORED_SPANS_PER_READ - 1n : last;
    const reader = await conn.runAndReadAll(STORED_SPANS, { first: from, last: to });
    // Spans without attributes are left out by insertAttributes: a condition on attributes_json in
    // the statement made DuckDB read the column of the whole table for every step (0.2 s, not 12-20 ms).
    const rows = (reader.getRows() as [string, DuckDBTimestampTZValue, string, string, string][]).map(
      ([service_name, start_time, trace_id, span_id, attributes_json]) => ({
        service_name,
        start_time,
        trace_id,
        span_id,
        attributes_json,
      }),
    );
    inserted += await insertAttributes(conn, rows);
  }
  return inserted;
}
