// Fills span_attributes (schemas/query_support.sql), the table trace search reads its attribute and
// free-text conditions from. Every path that adds spans fills it with the same statement, from a
// different source of span rows: the insert transaction (recordSpanAttributes), the generator's bulk
// load (an NDJSON file) and the backfill of existing spans (a range of row ids). The values are
// extracted by the same DuckDB JSON functions the search's conditions are defined with, so a
// condition on the table gives the answer it would give on attributes_json.
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

/** In the insert transaction, with exactly the span rows it inserts. */
export async function recordSpanAttributes(conn: DuckDBConnection, spans: readonly SpanRow[]): Promise<void> {
  const withAttributes = spans.filter((span) => span.attributes_json !== '{}');
  if (withAttributes.length === 0) return;
  await conn.run(INSERT_BATCH, {
    service_names: listValue(withAttributes.map((span) => span.service_name)),
    start_times: listValue(withAttributes.map((span) => new DuckDBTimestampTZValue(span.start_time))),
    trace_ids: listValue(withAttributes.map((span) => span.trace_id)),
    span_ids: listValue(withAttributes.map((span) => span.span_id)),
    attributes: listValue(withAttributes.map((span) => span.attributes_json)),
  });
}

/** For the bulk load: `file` is the NDJSON of spans it has just loaded (start_time in epoch µs). */
export const INSERT_FROM_SPANS_FILE = insertAttributesFrom(`
  SELECT service_name, make_timestamptz(start_time) AS start_time, trace_id, span_id, attributes_json
  FROM read_json($file, format = 'newline_delimited', columns = {service_name: 'VARCHAR',
    start_time: 'BIGINT', trace_id: 'VARCHAR', span_id: 'VARCHAR', attributes_json: 'VARCHAR'})`);

const INSERT_FROM_STORED_SPANS = insertAttributesFrom(`
  SELECT service_name, start_time, trace_id, span_id, attributes_json FROM spans
  WHERE rowid BETWEEN $first::BIGINT AND $last::BIGINT`);

/** Backfill: the attributes of the stored spans whose row ids are within [first, last]. */
export async function recordStoredSpanAttributes(
  conn: DuckDBConnection,
  first: bigint,
  last: bigint,
): Promise<number> {
  return Number((await conn.run(INSERT_FROM_STORED_SPANS, { first, last })).rowsChanged);
}
