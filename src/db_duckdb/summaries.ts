// Keeps the query-support tables (schemas/query_support.sql) in step with `spans`:
// - the store's prepare() runs prepareQuerySupport before the first insert (creates the tables and
//   fills them for a database whose spans predate them); the span repository then calls
//   recordInsertedSpans in each insert transaction with the span rows that transaction inserts;
// - retention (span_retention.ts) calls pruneQuerySupport in the transaction that deletes old spans.
//
// The batch is summarised in JS (it is already in memory) and applied with a handful of set
// statements. Lookups into the big tables are bounded by start_time so that DuckDB's zone maps skip
// old row groups: DuckDB has no index joins, so an unbounded lookup of a batch scans every row.
import { readFile } from 'node:fs/promises';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBTimestampTZValue,
  listValue,
} from '@duckdb/node-api';
import {
  GEN_AI_KEYS,
  isLlmAttributesJson,
  OPENINFERENCE_KIND,
  OPENINFERENCE_LLM,
} from '../spans/llm_span.ts';
import type { SpanRow } from '../spans/rows.ts';
import { renderSpan } from '../spans/span_json.ts';
import type { DuckDb } from './connection.ts';
import { deflateListJson } from './list_json.ts';
import { SPAN_COLUMNS, spanRowFromResult } from './result_rows.ts';
import { recordSpanAttributes, recordStoredSpanAttributes } from './span_attributes.ts';

const MICROS_PER_SECOND = 1_000_000n;
/** A root's LLM descendants start after it; this much clock skew between services is tolerated. */
export const CLOCK_SKEW_MICROS = 3600n * MICROS_PER_SECOND;

export interface ServiceDelta {
  serviceName: string;
  spans: number;
  roots: number;
  lastSeenMicros: bigint;
}

/** What a batch of newly inserted spans changes in the query-support tables. */
export interface InsertedSpansSummary {
  services: ServiceDelta[];
  /** Traces with LLM spans in the batch, with the earliest such span's start. */
  llmTraces: Map<string, bigint>;
  /** Root and workflow spans: the rows of span_list_entries. */
  listed: SpanRow[];
}

export function summarizeInsertedSpans(spans: readonly SpanRow[]): InsertedSpansSummary {
  const services = new Map<string, ServiceDelta>();
  const llmTraces = new Map<string, bigint>();
  const listed: SpanRow[] = [];
  for (const span of spans) {
    let service = services.get(span.service_name);
    if (!service) {
      service = { serviceName: span.service_name, spans: 0, roots: 0, lastSeenMicros: span.start_time };
      services.set(span.service_name, service);
    }
    service.spans++;
    if (span.start_time > service.lastSeenMicros) service.lastSeenMicros = span.start_time;
    if (span.parent_span_id === null) service.roots++;
    if (span.parent_span_id === null || span.junjo_span_type === 'workflow') listed.push(span);
    if (isLlmAttributesJson(span.attributes_json)) {
      const earliest = llmTraces.get(span.trace_id);
      if (earliest === undefined || span.start_time < earliest) llmTraces.set(span.trace_id, span.start_time);
    }
  }
  return { services: [...services.values()], llmTraces, listed };
}

const UPSERT_SERVICE_SUMMARIES = `
  INSERT INTO service_summaries
  SELECT unnest($service_names::VARCHAR[]), unnest($span_counts::BIGINT[]),
         unnest($root_counts::BIGINT[]), unnest($last_seen::TIMESTAMPTZ[])
  ON CONFLICT (service_name) DO UPDATE SET
    span_count = span_count + excluded.span_count,
    trace_count = trace_count + excluded.trace_count,
    last_seen = greatest(last_seen, excluded.last_seen)`;

const INSERT_LLM_TRACES = `
  INSERT INTO llm_traces SELECT unnest($trace_ids::VARCHAR[]), unnest($start_times::TIMESTAMPTZ[])`;

// Which of these root traces hold an LLM span, stored earlier or in this batch (run it after
// INSERT_LLM_TRACES). $floor is the earliest root's start minus the clock skew: a root's LLM
// descendants start after it.
// A filter, not a semi-join with DISTINCT: their hash join and aggregate cost every insert batch
// ~18 ms of CPU however few rows they saw, the filter ~1.3 ms (bench/duckdb_small_batches.ts,
// 128-span batches); a trace listed twice collapses in the caller's Set.
const TRACES_WITH_LLM = `
  SELECT trace_id FROM llm_traces
  WHERE start_time >= $floor AND list_contains($trace_ids::VARCHAR[], trace_id)`;

// A root is still running when its LLM descendants start, and is stored once it ends: it started
// before $ceiling and ended after $floor (the LLM spans' earliest start, both minus/plus the skew).
const FLAG_STORED_ROOTS = `
  UPDATE span_list_entries SET has_llm = true
  WHERE has_llm = false AND end_time >= $floor AND start_time <= $ceiling
    AND trace_id IN (SELECT unnest($trace_ids::VARCHAR[]))
  RETURNING service_name, epoch_us(start_time)`;

const UPSERT_SPAN_LIST_HOURS = `
  INSERT INTO span_list_hours
  SELECT unnest($service_names::VARCHAR[]), unnest($hours::TIMESTAMPTZ[]), unnest($roots::BIGINT[]),
         unnest($llm_roots::BIGINT[]), unnest($workflows::BIGINT[])
  ON CONFLICT (service_name, hour) DO UPDATE SET
    roots = roots + excluded.roots,
    llm_roots = llm_roots + excluded.llm_roots,
    workflows = workflows + excluded.workflows`;

const MICROS_PER_HOUR = 3600n * MICROS_PER_SECOND;

/** Start of the UTC hour holding `micros` (floor, also before 1970). */
export function hourOf(micros: bigint): bigint {
  const rest = micros % MICROS_PER_HOUR;
  return micros - (rest < 0n ? rest + MICROS_PER_HOUR : rest);
}

/**
 * Updates the query-support tables for span rows just inserted. Call it inside the insert
 * transaction with exactly the rows that transaction inserts: no row stored before, no key twice.
 */
export async function recordInsertedSpans(conn: DuckDBConnection, spans: readonly SpanRow[]): Promise<void> {
  if (spans.length === 0) return;
  await applyInsertedSpans(conn, summarizeInsertedSpans(spans));
  await recordSpanAttributes(conn, spans);
}

export async function applyInsertedSpans(
  conn: DuckDBConnection,
  summary: InsertedSpansSummary,
): Promise<void> {
  const { services, llmTraces, listed } = summary;
  if (services.length === 0) return;
  await conn.run(UPSERT_SERVICE_SUMMARIES, {
    service_names: listValue(services.map((s) => s.serviceName)),
    span_counts: listValue(services.map((s) => s.spans)),
    root_counts: listValue(services.map((s) => s.roots)),
    last_seen: listValue(services.map((s) => timestamp(s.lastSeenMicros))),
  });
  if (llmTraces.size > 0) {
    await conn.run(INSERT_LLM_TRACES, {
      trace_ids: listValue([...llmTraces.keys()]),
      start_times: listValue([...llmTraces.values()].map(timestamp)),
    });
  }
  const roots = listed.filter((span) => span.parent_span_id === null);
  const tracesWithLlm = await rootTracesWithLlm(conn, roots);
  await appendListed(conn, listed, tracesWithLlm);
  const hours = new HourCounts();
  for (const span of listed) {
    const root = span.parent_span_id === null;
    hours.add(span.service_name, span.start_time, {
      roots: root ? 1 : 0,
      llmRoots: root && tracesWithLlm.has(span.trace_id) ? 1 : 0,
      workflows: span.junjo_span_type === 'workflow' ? 1 : 0,
    });
  }
  const flagged = await flagStoredRoots(conn, llmTraces, new Set(roots.map((span) => span.trace_id)));
  for (const [service, start] of flagged) hours.add(service, start, { roots: 0, llmRoots: 1, workflows: 0 });
  await hours.save(conn);
}

interface Counts {
  roots: number;
  llmRoots: number;
  workflows: number;
}

/** Per (service, hour) increments of span_list_hours. */
class HourCounts {
  private readonly counts = new Map<string, { service: string; hour: bigint } & Counts>();

  add(service: string, start: bigint, delta: Counts): void {
    const hour = hourOf(start);
    const key = `${hour} ${service}`;
    let entry = this.counts.get(key);
    if (!entry) {
      entry = { service, hour, roots: 0, llmRoots: 0, workflows: 0 };
      this.counts.set(key, entry);
    }
    entry.roots += delta.roots;
    entry.llmRoots += delta.llmRoots;
    entry.workflows += delta.workflows;
  }

  async save(conn: DuckDBConnection): Promise<void> {
    const entries = [...this.counts.values()];
    if (entries.length === 0) return;
    await conn.run(UPSERT_SPAN_LIST_HOURS, {
      service_names: listValue(entries.map((e) => e.service)),
      hours: listValue(entries.map((e) => timestamp(e.hour))),
      roots: listValue(entries.map((e) => e.roots)),
      llm_roots: listValue(entries.map((e) => e.llmRoots)),
      workflows: listValue(entries.map((e) => e.workflows)),
    });
  }
}

async function rootTracesWithLlm(conn: DuckDBConnection, roots: SpanRow[]): Promise<Set<string>> {
  if (roots.length === 0) return new Set();
  const floor = earliest(roots.map((span) => span.start_time));
  const reader = await conn.runAndReadAll(TRACES_WITH_LLM, {
    floor: timestamp(floor - CLOCK_SKEW_MICROS),
    trace_ids: listValue(roots.map((span) => span.trace_id)),
  });
  return new Set(reader.getRows().map((row) => row[0] as string));
}

/**
 * LLM spans of traces whose root is not in this batch may belong to a root stored earlier: flags
 * those roots and returns their service and start.
 */
async function flagStoredRoots(
  conn: DuckDBConnection,
  llmTraces: Map<string, bigint>,
  rootTraces: Set<string>,
): Promise<[string, bigint][]> {
  const late = [...llmTraces].filter(([traceId]) => !rootTraces.has(traceId));
  if (late.length === 0) return [];
  const starts = late.map(([, start]) => start);
  const reader = await conn.runAndReadAll(FLAG_STORED_ROOTS, {
    floor: timestamp(earliest(starts) - CLOCK_SKEW_MICROS),
    ceiling: timestamp(latest(starts) + CLOCK_SKEW_MICROS),
    trace_ids: listValue(late.map(([traceId]) => traceId)),
  });
  return reader.getRows() as [string, bigint][];
}

async function appendListed(
  conn: DuckDBConnection,
  listed: SpanRow[],
  tracesWithLlm: Set<string>,
): Promise<void> {
  if (listed.length === 0) return;
  const appender = await conn.createAppender('span_list_entries');
  try {
    for (const span of listed) {
      const llm = span.parent_span_id === null ? tracesWithLlm.has(span.trace_id) : null;
      appendSpanListRow(appender, span, llm);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

function appendSpanListRow(appender: DuckDBAppender, span: SpanRow, hasLlm: boolean | null): void {
  appendListEntry(appender, {
    traceId: span.trace_id,
    spanId: span.span_id,
    parentSpanId: span.parent_span_id,
    serviceName: span.service_name,
    startMicros: span.start_time,
    spanType: span.junjo_span_type,
    hasLlm,
    spanJsonDeflated: deflateListJson(renderSpan(span)),
    endMicros: span.end_time,
  });
}

/** One row of span_list_entries. */
export interface ListEntry {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  serviceName: string;
  startMicros: bigint;
  spanType: string | null;
  hasLlm: boolean | null;
  spanJsonDeflated: Uint8Array;
  /** NULL in rows stored before the column existed. */
  endMicros: bigint | null;
}

/** Appends the entry's columns in table order. */
export function appendListEntry(appender: DuckDBAppender, entry: ListEntry): void {
  appender.appendVarchar(entry.traceId);
  appender.appendVarchar(entry.spanId);
  if (entry.parentSpanId === null) appender.appendNull();
  else appender.appendVarchar(entry.parentSpanId);
  appender.appendVarchar(entry.serviceName);
  appender.appendTimestampTZ(timestamp(entry.startMicros));
  if (entry.spanType === null) appender.appendNull();
  else appender.appendVarchar(entry.spanType);
  if (entry.hasLlm === null) appender.appendNull();
  else appender.appendBoolean(entry.hasLlm);
  appender.appendBlob(entry.spanJsonDeflated);
  if (entry.endMicros === null) appender.appendNull();
  else appender.appendTimestampTZ(timestamp(entry.endMicros));
  appender.endRow();
}

// ---- start-up and retention ---------------------------------------------------------------------

/** isLlmAttributes (spans/llm_span.ts) in SQL, from the same keys. */
const IS_LLM = `(attributes_json ->> '${OPENINFERENCE_KIND}' = '${OPENINFERENCE_LLM}'
  OR ${GEN_AI_KEYS.map((key) => `json_exists(attributes_json, '$."${key}"')`).join(' OR ')})`;

// Any of them empty while spans is not: a database from before they existed (or a partial one).
const NEEDS_BACKFILL = `
  SELECT EXISTS (SELECT 1 FROM spans) AND (NOT EXISTS (SELECT 1 FROM service_summaries)
    OR NOT EXISTS (SELECT 1 FROM span_list_entries) OR NOT EXISTS (SELECT 1 FROM span_list_hours))`;

const COUNT_SERVICES = `
  INSERT INTO service_summaries
  SELECT service_name, count(*), count(*) FILTER (WHERE parent_span_id IS NULL), max(start_time)
  FROM spans GROUP BY service_name`;

// Buckets as hourOf: floor division of the epoch microseconds.
const COUNT_SPAN_LIST_HOURS = `
  INSERT INTO span_list_hours
  SELECT service_name, make_timestamptz(floor(epoch_us(start_time) / 3600000000)::BIGINT * 3600000000),
         count(*) FILTER (WHERE parent_span_id IS NULL),
         count(*) FILTER (WHERE parent_span_id IS NULL AND has_llm),
         count(*) FILTER (WHERE junjo_span_type = 'workflow')
  FROM span_list_entries GROUP BY ALL`;

// span_list_entries is dropped rather than emptied, and created again by the schema, so that a
// rebuild always leaves it in the current layout (migration 3 converts it otherwise).
const CLEAR = [
  ...['span_list_hours', 'llm_traces', 'service_summaries', 'span_attributes'].map((t) => `DELETE FROM ${t}`),
  'DROP TABLE span_list_entries',
];

const COUNT_LLM_TRACES = `
  INSERT INTO llm_traces SELECT trace_id, min(start_time) FROM spans WHERE ${IS_LLM} GROUP BY trace_id`;

// Rendered in JS (renderSpan) like every insert, so that both produce the same text. A range of
// row ids at a time: materialized (an appender on the same connection would end a streamed result
// early), and in arrival order, so span_list_entries keeps the layout inserts give it.
const LISTED_SPANS = `
  SELECT ${SPAN_COLUMNS.join(', ')},
         CASE WHEN parent_span_id IS NULL THEN trace_id IN (SELECT trace_id FROM llm_traces) END
  FROM spans
  WHERE rowid BETWEEN $first::BIGINT AND $last::BIGINT
    AND (parent_span_id IS NULL OR junjo_span_type = 'workflow')
  ORDER BY start_time`;
const BACKFILL_ROWS = 100_000n;

/** Fills the query-support tables again from `spans` (whatever they held before). */
export async function rebuildQuerySupport(conn: DuckDBConnection): Promise<void> {
  for (const sql of [...CLEAR, await querySupportSchema(), COUNT_LLM_TRACES]) await conn.run(sql);
  const maxRowid = (await conn.runAndReadAll('SELECT max(rowid) FROM spans')).getRows()[0]?.[0] as bigint;
  for (let first = 0n; first <= maxRowid; first += BACKFILL_ROWS) {
    const reader = await conn.runAndReadAll(LISTED_SPANS, { first, last: first + BACKFILL_ROWS - 1n });
    const appender = await conn.createAppender('span_list_entries');
    try {
      for (const row of reader.getRows()) {
        appendSpanListRow(appender, spanRowFromResult(row), row[SPAN_COLUMNS.length] as boolean | null);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await recordStoredSpanAttributes(conn, first, first + BACKFILL_ROWS - 1n);
  }
  for (const sql of [COUNT_SPAN_LIST_HOURS, COUNT_SERVICES]) await conn.run(sql);
}

/**
 * Creates the query-support tables if needed and, when `spans` holds rows they do not cover (a
 * database from before they existed), fills them from `spans`, in one transaction. Idempotent and
 * quick when there is nothing to do; must run before the first insert.
 */
export async function prepareQuerySupport(db: DuckDb): Promise<void> {
  const schema = await querySupportSchema();
  await db.write(async (conn) => {
    await conn.run(schema);
    const reader = await conn.runAndReadAll(NEEDS_BACKFILL);
    if (reader.getRows()[0]?.[0] === true) await rebuildQuerySupport(conn);
  });
}

/** schemas/query_support.sql: creates whichever of its tables and indexes do not exist. */
export function querySupportSchema(): Promise<string> {
  return readFile(new URL('./schemas/query_support.sql', import.meta.url), 'utf8');
}

const PRUNE = [
  'DELETE FROM span_list_entries WHERE start_time < $cutoff',
  'DELETE FROM llm_traces WHERE start_time < $cutoff',
  'DELETE FROM span_attributes WHERE start_time < $cutoff',
];

/**
 * For retention: call in the transaction that deletes the spans that started before `cutoffMicros`
 * (epoch microseconds), after deleting them. Drops their derived rows and recounts the services.
 */
export async function pruneQuerySupport(conn: DuckDBConnection, cutoffMicros: bigint): Promise<void> {
  for (const sql of PRUNE) await conn.run(sql, { cutoff: timestamp(cutoffMicros) });
  for (const sql of ['DELETE FROM span_list_hours', COUNT_SPAN_LIST_HOURS]) await conn.run(sql);
  for (const sql of ['DELETE FROM service_summaries', COUNT_SERVICES]) await conn.run(sql);
}

// Math.min/max do not take bigints.
function earliest(times: bigint[]): bigint {
  let min = times[0]!;
  for (const time of times) if (time < min) min = time;
  return min;
}

function latest(times: bigint[]): bigint {
  let max = times[0]!;
  for (const time of times) if (time > max) max = time;
  return max;
}

function timestamp(micros: bigint): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(micros);
}
