// Batch inserts of spans, state patches and log records: idempotent on the primary keys, one transaction per
// attempt, never one statement per row, returning the rows actually inserted.
//
// Two ways to write a batch, tried in this order:
// 1. appendBatch: the appender straight into the tables. Fastest (it is the raw ceiling), but the
//    appender has no OR IGNORE: a row already stored fails the whole transaction.
// 2. insertOrIgnoreBatch: the appender into TEMP staging tables, then one INSERT OR IGNORE … SELECT
//    per table. Correct for any batch, but ~1.5–2x the CPU per span (measured: the OR IGNORE
//    conflict handling and the second copy; see README.md).
// Rows already stored only occur when the poller replays after a crash, so nearly every batch
// takes path 1; a batch that fails it is rolled back and re-run whole through path 2.
//
// JSON columns are NOT validated here: the appender never checks them, and both paths must store
// the same thing. The span processor guarantees JSON text (it builds it with JSON.stringify).
import { type DuckDBAppender, type DuckDBConnection, DuckDBTimestampTZValue } from '@duckdb/node-api';
import { storeUnavailable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from '../spans/rows.ts';
import type { InsertedCounts } from '../spans/span_store.ts';
import { type DuckDb, type IndexMemory, indexMemoryBytes, isDuckDbOutOfMemory } from './connection.ts';
import { IndexLoadEstimate, takeChunk } from './insert_chunks.ts';
import { recordInsertedSpans } from './summaries.ts';

export interface BatchOutcome extends InsertedCounts {
  /** Patches left out because their span is neither stored nor in the batch. */
  orphanPatches: number;
}

type ColumnKind = 'text' | 'timestamp' | 'integer';

export interface Table<Row> {
  name: string;
  staging: string;
  /** The table's columns in table order (the appender fills them positionally). */
  columns: readonly (readonly [keyof Row & string, ColumnKind])[];
}

export const SPANS: Table<SpanRow> = {
  name: 'spans',
  staging: 'spans_staging',
  columns: [
    ['trace_id', 'text'],
    ['span_id', 'text'],
    ['parent_span_id', 'text'],
    ['service_name', 'text'],
    ['name', 'text'],
    ['kind', 'text'],
    ['start_time', 'timestamp'],
    ['end_time', 'timestamp'],
    ['status_code', 'text'],
    ['status_message', 'text'],
    ['attributes_json', 'text'],
    ['events_json', 'text'],
    ['links_json', 'text'],
    ['trace_flags', 'integer'],
    ['trace_state', 'text'],
    ['junjo_id', 'text'],
    ['junjo_parent_id', 'text'],
    ['junjo_span_type', 'text'],
    ['junjo_wf_state_start', 'text'],
    ['junjo_wf_state_end', 'text'],
    ['junjo_wf_graph_structure', 'text'],
    ['junjo_wf_store_id', 'text'],
  ],
};

export const STATE_PATCHES: Table<StatePatchRow> = {
  name: 'state_patches',
  staging: 'state_patches_staging',
  columns: [
    ['patch_id', 'text'],
    ['service_name', 'text'],
    ['trace_id', 'text'],
    ['span_id', 'text'],
    ['workflow_id', 'text'],
    ['node_id', 'text'],
    ['event_time', 'timestamp'],
    ['patch_json', 'text'],
    ['patch_store_id', 'text'],
  ],
};

export const LOG_RECORDS: Table<LogRecordRow> = {
  name: 'log_records',
  staging: 'log_records_staging',
  columns: [
    ['log_id', 'text'],
    ['trace_id', 'text'],
    ['span_id', 'text'],
    ['service_name', 'text'],
    ['time', 'timestamp'],
    ['observed_time', 'timestamp'],
    ['sequence', 'integer'],
    ['severity_number', 'integer'],
    ['severity_text', 'text'],
    ['event_name', 'text'],
    ['body_json', 'text'],
    ['attributes_json', 'text'],
  ],
};

// The appender's calls are synchronous: a 2000-span batch held the event loop ~20 ms (median,
// up to ~40 ms) in one go. Flushing and yielding every 256 rows keeps each hold near 2.5 ms, at no
// measurable cost in throughput (flush time is linear in rows).
const ROWS_PER_FLUSH = 256;

// Trace ids per lookup of stored spans; keeps each statement's parameter count modest.
const LOOKUP_CHUNK = 1000;

export class SpanRepository {
  private readonly db: DuckDb;
  private readonly logger: Logger;
  private readonly indexLoads = new IndexLoadEstimate();
  /** DuckDB's memory limit, as its last answer gave it (unknown before the first insert). */
  private limitBytes = Number.POSITIVE_INFINITY;

  /** Inserts need the query-support tables: run prepareQuerySupport (summaries.ts) first. */
  constructor(db: DuckDb, logger: Logger) {
    this.db = db;
    this.logger = logger;
  }

  async batchInsertSpans(rows: SpanRow[]): Promise<number> {
    return (await this.insertBatch({ spans: rows, patches: [] })).spans;
  }

  async batchInsertStatePatches(rows: StatePatchRow[]): Promise<number> {
    return (await this.insertBatch({ spans: [], patches: rows })).patches;
  }

  /**
   * Spans, then patches, then log records, in one transaction per chunk (insert_chunks.ts: a batch
   * is split only once an insert has run out of memory; a state patch is written
   * with its span). A chunk that cannot be stored rejects and leaves none of its rows behind; the
   * chunks before it stay, and a retry skips them (inserts are idempotent). When DuckDB itself
   * cannot write, the rejection is `storeUnavailable`.
   */
  async insertBatch(batch: SpanBatch): Promise<InsertedCounts> {
    const inserted = { spans: 0, patches: 0, logRecords: 0, orphanPatches: 0 };
    let rest: SpanBatch | null = batch;
    let failedChunk = 0; // spans of the chunk that last ran out of memory, 0 after one goes in
    // The first write is queued at once, with no wait before it (close() finishes a batch whose
    // first chunk is queued); the memory check that follows every write ran before it.
    while (rest && (rest.spans.length > 0 || rest.patches.length > 0 || rest.logRecords?.length)) {
      const { chunk, rest: after } = takeChunk(rest, this.indexLoads.chunkSpans(this.limitBytes));
      // A whole batch (nothing split yet) needs no measurement of the index memory it loads.
      const measuring = this.indexLoads.splitting;
      let outcome: BatchOutcome & { indexBytesBefore: number };
      try {
        outcome = await this.insertChunk(chunk, measuring);
      } catch (err) {
        // One span that does not fit even after a release is for the caller to wait out.
        if (!ranOutOfMemory(err) || (chunk.spans.length <= 1 && failedChunk === 1)) {
          throw isDuckDbUnavailable(err) ? storeUnavailable(String(err), err) : err;
        }
        // Index nodes this chunk loaded, or rows held for a checkpoint, filled the limit: the file
        // is opened again (checkpointed first) and half as many spans tried.
        this.logger.warn(
          {
            err: String(err).split('\n')[0],
            spans: chunk.spans.length,
            duckdbMiB: await this.db.memoryByTagMiB().catch(() => null),
          },
          'DuckDB out of memory while inserting: releasing what it holds, then trying half as many spans',
        );
        failedChunk = chunk.spans.length;
        this.limitBytes = (await this.makeRoom({ releaseIndexNodes: true })).limitBytes;
        this.indexLoads.outOfMemory(chunk.spans.length, this.limitBytes);
        continue;
      }
      failedChunk = 0;
      inserted.spans += outcome.spans;
      inserted.patches += outcome.patches;
      inserted.logRecords += outcome.logRecords;
      inserted.orphanPatches += outcome.orphanPatches;
      rest = after;
      if (!measuring) continue; // then `after` is null: the batch went in whole
      // Measured after the commit (which merged the keys into the indexes), and room made for the
      // next chunk. After the last chunk only a measurement, which a close() meanwhile may refuse:
      // the batch is stored all the same. A close() before a later chunk leaves it to a retry.
      const measured = await (rest ? this.makeRoom() : this.db.indexMemory().catch(() => null));
      if (!measured) break;
      this.limitBytes = measured.limitBytes;
      this.indexLoads.observe(
        chunk.spans.length,
        measured.indexBytes - outcome.indexBytesBefore,
        measured.limitBytes,
      );
    }
    if (inserted.orphanPatches > 0) {
      this.logger.warn(
        { skipped: inserted.orphanPatches, attempted: batch.patches.length },
        'state patches skipped: their span is neither stored nor in the batch',
      );
    }
    return { spans: inserted.spans, patches: inserted.patches, logRecords: inserted.logRecords };
  }

  /** The writer's memory check before a chunk; DuckDB failing to write is `storeUnavailable`. */
  private makeRoom(options?: { releaseIndexNodes: boolean }): Promise<IndexMemory> {
    return this.db.makeRoomForInsert(options).catch((err: unknown) => {
      throw isDuckDbUnavailable(err) ? storeUnavailable(String(err), err) : err;
    });
  }

  /**
   * One transaction: the appender, or INSERT OR IGNORE when some rows are already stored. Also
   * returns DuckDB's index memory at the transaction's start (0 unless `measuring`).
   */
  private async insertChunk(
    chunk: SpanBatch,
    measuring: boolean,
  ): Promise<BatchOutcome & { indexBytesBefore: number }> {
    const measured = (insert: (conn: DuckDBConnection, chunk: SpanBatch) => Promise<BatchOutcome>) =>
      this.db.write(async (conn) => {
        const indexBytesBefore = measuring ? await indexMemoryBytes(conn) : 0;
        return { ...(await insert(conn, chunk)), indexBytesBefore };
      });
    try {
      return await measured(appendBatch);
    } catch (err) {
      if (ranOutOfMemory(err)) throw err;
      this.logger.debug(
        { err },
        'DuckDB batch not appendable as is (rows already stored?); using INSERT OR IGNORE',
      );
      return await measured(insertOrIgnoreBatch);
    }
  }

  countSpans(): Promise<number> {
    return this.count('spans');
  }

  countStatePatches(): Promise<number> {
    return this.count('state_patches');
  }

  private count(table: 'spans' | 'state_patches'): Promise<number> {
    return this.db.read(async (conn) => {
      const reader = await conn.runAndReadAll(`SELECT count(*)::INTEGER FROM ${table}`);
      return reader.getRows()[0]?.[0] as number;
    });
  }
}

/**
 * DuckDB ran out of memory, also when its rollback did too: the database was then invalidated and
 * opened again, and the write rejected as `storeUnavailable` with DuckDB's error as its cause.
 */
function ranOutOfMemory(error: unknown): boolean {
  return isDuckDbOutOfMemory(error) || (error instanceof Error && isDuckDbOutOfMemory(error.cause));
}

/** Path 1, inside a write transaction: fails if any row is already stored. */
export async function appendBatch(conn: DuckDBConnection, batch: SpanBatch): Promise<BatchOutcome> {
  const spans = uniqueBy(batch.spans, spanKey);
  const withSpan = await patchesWithSpan(conn, batch);
  const patches = uniqueBy(withSpan, (p) => p.patch_id);
  await appendRows(conn, SPANS.name, SPANS, spans);
  await recordInsertedSpans(conn, spans);
  await appendRows(conn, STATE_PATCHES.name, STATE_PATCHES, patches);
  const logRecords = uniqueBy(batch.logRecords ?? [], (r) => r.log_id);
  await appendRows(conn, LOG_RECORDS.name, LOG_RECORDS, logRecords);
  return {
    spans: spans.length,
    patches: patches.length,
    logRecords: logRecords.length,
    orphanPatches: batch.patches.length - withSpan.length,
  };
}

/** Path 2, inside a write transaction: skips rows already stored or repeated in the batch. */
export async function insertOrIgnoreBatch(conn: DuckDBConnection, batch: SpanBatch): Promise<BatchOutcome> {
  // The query-support tables take exactly the spans this transaction adds (summaries.ts).
  const stored = await storedSpanKeys(conn, [...new Set(batch.spans.map((s) => s.trace_id))]);
  const spans = await insertOrIgnore(conn, SPANS, batch.spans);
  await recordInsertedSpans(
    conn,
    uniqueBy(batch.spans, spanKey).filter((s) => !stored.has(spanKey(s))),
  );
  const patches = await patchesWithSpan(conn, batch);
  return {
    spans,
    patches: await insertOrIgnore(conn, STATE_PATCHES, patches),
    logRecords: await insertOrIgnore(conn, LOG_RECORDS, batch.logRecords ?? []),
    orphanPatches: batch.patches.length - patches.length,
  };
}

async function insertOrIgnore<Row>(conn: DuckDBConnection, table: Table<Row>, rows: Row[]): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = table.columns.map(([name]) => name).join(', ');
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${table.staging} AS SELECT ${columns} FROM ${table.name} LIMIT 0`,
  );
  await appendRows(conn, table.staging, table, rows);
  const result = await conn.run(
    `INSERT OR IGNORE INTO ${table.name} (${columns}) SELECT ${columns} FROM ${table.staging}`,
  );
  // DROP, not DELETE/TRUNCATE: only dropping the staging table gives its memory back.
  await conn.run(`DROP TABLE ${table.staging}`);
  return result.rowsChanged;
}

// A patch whose span exists neither in the table nor in its batch violates the foreign key, and
// DuckDB raises that even under INSERT OR IGNORE. Failing the batch would stall the poller on it
// forever, so such patches are left out (and counted). Checked in JS against the batch first; only
// patches of spans outside the batch cost a lookup (an SQL semi join against spans would scan the
// whole table on every batch).
async function patchesWithSpan(conn: DuckDBConnection, batch: SpanBatch): Promise<StatePatchRow[]> {
  const inBatch = new Set(batch.spans.map(spanKey));
  const outside = batch.patches.filter((p) => !inBatch.has(spanKey(p)));
  if (outside.length === 0) return batch.patches;
  const stored = await storedSpanKeys(conn, [...new Set(outside.map((p) => p.trace_id))]);
  return batch.patches.filter((p) => inBatch.has(spanKey(p)) || stored.has(spanKey(p)));
}

async function storedSpanKeys(conn: DuckDBConnection, traceIds: string[]): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let i = 0; i < traceIds.length; i += LOOKUP_CHUNK) {
    const chunk = traceIds.slice(i, i + LOOKUP_CHUNK);
    const reader = await conn.runAndReadAll(
      `SELECT trace_id, span_id FROM spans WHERE trace_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const [traceId, spanId] of reader.getRows()) keys.add(`${traceId}/${spanId}`);
  }
  return keys;
}

async function appendRows<Row>(conn: DuckDBConnection, into: string, table: Table<Row>, rows: Row[]) {
  if (rows.length === 0) return;
  const appender = await conn.createAppender(into);
  try {
    for (let start = 0; start < rows.length; start += ROWS_PER_FLUSH) {
      for (const row of rows.slice(start, start + ROWS_PER_FLUSH)) appendRow(appender, table.columns, row);
      appender.flushSync(); // throws on a constraint violation (the transaction then rolls back)
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    // A failed flush keeps its rows buffered, and closing the appender (here, or when it is
    // garbage collected) would append them into whatever transaction the connection runs then.
    appender.clear();
    throw err;
  } finally {
    appender.closeSync();
  }
}

/** One row through the appender, in the table's column order (also the bench's raw ceiling). */
export function appendRow<Row>(appender: DuckDBAppender, columns: Table<Row>['columns'], row: Row): void {
  for (const [column, kind] of columns) {
    const value = row[column] as unknown;
    if (value === null || value === undefined) appender.appendNull();
    else if (kind === 'timestamp') appender.appendTimestampTZ(new DuckDBTimestampTZValue(value as bigint));
    else if (kind === 'integer') appender.appendInteger(value as number);
    else appender.appendVarchar(value as string);
  }
  appender.endRow();
}

/**
 * Errors of DuckDB itself rather than of the rows (disk full, I/O error, out of memory — also when a
 * commit cannot pin a block under the memory limit, which DuckDB reports as a TransactionContext
 * error —, a database invalidated by one of those, a closed handle). Only DuckDB's message says
 * which it is. These are waited out: a full load at a small memory limit made commits fail this way
 * and dead-lettered exports that a retry would have indexed.
 */
export function isDuckDbUnavailable(error: unknown): boolean {
  return (
    isDuckDbOutOfMemory(error) ||
    /IO Error|No space left|ENOSPC|database has been invalidated|Connection was never established|closed/i.test(
      String(error),
    )
  );
}

function spanKey(row: { trace_id: string; span_id: string }): string {
  return `${row.trace_id}/${row.span_id}`;
}

function uniqueBy<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
