// Retention's deletes (telemetry/retention.ts decides when): one step deletes "everything that started
// before B", where B is chosen so that about `maxSpans` spans qualify. That keeps each step exact for
// pruneQuerySupport (which drops the derived rows older than B and recounts the services), so between
// steps the query-support tables agree with `spans`, and no step holds the writer for long.
//
// Two transactions per step: DuckDB refuses to delete a span in the transaction that deletes the
// patches referencing it. A patch stored in between for a span about to go (a late replay) makes the
// second one fail on the foreign key; the step is then simply run again.
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { Logger } from '../logger.ts';
import type { RetentionStep } from '../spans/span_store.ts';
import type { DuckDb } from './connection.ts';
import { pruneQuerySupport } from './summaries.ts';

/** A step whose span delete keeps failing (e.g. patches arriving again and again) gives up the run. */
const MAX_STEP_ATTEMPTS = 5;

// Whether any span has expired, the start of the maxSpans-th oldest one (NULL when fewer have):
// deleting up to and including it is one step; and whether a log record has expired.
const STEP_BOUNDARY = `
  SELECT EXISTS (SELECT 1 FROM spans WHERE start_time < $cutoff),
         (SELECT epoch_us(start_time) FROM spans WHERE start_time < $cutoff
          ORDER BY start_time LIMIT 1 OFFSET $offset),
         EXISTS (SELECT 1 FROM log_records WHERE time < $cutoff)`;
// A span's log records go with it; so do older ones whose span never arrived.
const DELETE_LOG_RECORDS = `
  DELETE FROM log_records WHERE time < $cutoff OR (trace_id, span_id) IN
    (SELECT (trace_id, span_id) FROM spans WHERE start_time < $cutoff)`;
const DELETE_PATCHES = `
  DELETE FROM state_patches WHERE (trace_id, span_id) IN
    (SELECT (trace_id, span_id) FROM spans WHERE start_time < $cutoff)`;
const DELETE_SPANS = 'DELETE FROM spans WHERE start_time < $cutoff';

/** Deletes the next slice of spans that started before `cutoff`, with their patches and log records. */
export async function deleteStep(
  db: DuckDb,
  logger: Logger,
  cutoff: bigint,
  maxSpans: number,
): Promise<RetentionStep> {
  let patches = 0;
  for (let attempt = 1; ; attempt++) {
    // On a reader: the boundary only sizes the step (the deletes below are exact whatever it is),
    // and a run with nothing to delete then writes nothing (no needless checkpoint afterwards).
    const { expired, boundary, logsExpired } = await db.read(async (conn) => {
      const params = { cutoff: timestamp(cutoff), offset: maxSpans - 1 };
      const reader = await conn.runAndReadAll(STEP_BOUNDARY, params);
      const row = reader.getRows()[0];
      return {
        expired: row?.[0] === true,
        boundary: (row?.[1] ?? null) as bigint | null,
        logsExpired: row?.[2] === true,
      };
    });
    if (!expired) {
      const logRecords = logsExpired ? await deleteLogRecords(db, cutoff) : 0;
      return { spans: 0, patches, logRecords, done: true };
    }
    // Ties at the boundary go in the same step: a step always deletes everything before its limit.
    const limit = boundary === null ? cutoff : boundary + 1n;
    patches += await db.write(async (conn) =>
      Number((await conn.run(DELETE_PATCHES, { cutoff: timestamp(limit) })).rowsChanged),
    );
    try {
      const logRecords = await deleteLogRecords(db, limit);
      const spans = await db.write(async (conn) => {
        const deleted = Number((await conn.run(DELETE_SPANS, { cutoff: timestamp(limit) })).rowsChanged);
        await pruneQuerySupport(conn, limit);
        return deleted;
      });
      return { spans, patches, logRecords, done: boundary === null };
    } catch (err) {
      if (attempt >= MAX_STEP_ATTEMPTS) throw err;
      logger.debug({ err, attempt }, 'retention step retried (patches arrived meanwhile?)');
    }
  }
}

function deleteLogRecords(db: DuckDb, cutoff: bigint): Promise<number> {
  return db.write(async (conn) =>
    Number((await conn.run(DELETE_LOG_RECORDS, { cutoff: timestamp(cutoff) })).rowsChanged),
  );
}

function timestamp(micros: bigint): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(micros);
}
