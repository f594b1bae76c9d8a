// The data generator's fast path into DuckDB (scripts/generate.ts): rows arrive as NDJSON files that
// DuckDB reads natively, one window per transaction, with the secondary indexes dropped for the
// load and rebuilt at the end (several times faster than maintaining them row by row). Not for live
// ingestion: nothing here is idempotent, and the files must hold only new rows.
import type { DuckDb } from './connection.ts';
import type { DuckDbSpanStore } from './duckdb_span_store.ts';
import { INSERT_FROM_SPANS_FILE } from './span_attributes.ts';
import { applyInsertedSpans, type InsertedSpansSummary } from './summaries.ts';

/** One window of rows as NDJSON (timestamps as epoch microseconds, JSON columns as text). */
export interface NdjsonWindow {
  spansFile: string;
  patchesFile: string;
  /** What the window's spans add to the query-support tables (summarizeInsertedSpans). */
  summary: InsertedSpansSummary;
}

// JSON columns arrive as text (the processor's output) and timestamps as epoch microseconds.
const SPAN_FILE_COLUMNS = `{trace_id: 'VARCHAR', span_id: 'VARCHAR', parent_span_id: 'VARCHAR',
  service_name: 'VARCHAR', name: 'VARCHAR', kind: 'VARCHAR', start_time: 'BIGINT', end_time: 'BIGINT',
  status_code: 'VARCHAR', status_message: 'VARCHAR', attributes_json: 'VARCHAR', events_json: 'VARCHAR',
  links_json: 'VARCHAR', trace_flags: 'INTEGER', trace_state: 'VARCHAR', junjo_id: 'VARCHAR',
  junjo_parent_id: 'VARCHAR', junjo_span_type: 'VARCHAR', junjo_wf_state_start: 'VARCHAR',
  junjo_wf_state_end: 'VARCHAR', junjo_wf_graph_structure: 'VARCHAR', junjo_wf_store_id: 'VARCHAR'}`;
const PATCH_FILE_COLUMNS = `{patch_id: 'VARCHAR', service_name: 'VARCHAR', trace_id: 'VARCHAR',
  span_id: 'VARCHAR', workflow_id: 'VARCHAR', node_id: 'VARCHAR', event_time: 'BIGINT',
  patch_json: 'VARCHAR', patch_store_id: 'VARCHAR'}`;

const LOAD_SPANS = `
  INSERT INTO spans
  SELECT * REPLACE (make_timestamptz(start_time) AS start_time, make_timestamptz(end_time) AS end_time)
  FROM read_json($file, format = 'newline_delimited', columns = ${SPAN_FILE_COLUMNS})`;
const LOAD_PATCHES = `
  INSERT INTO state_patches
  SELECT * REPLACE (make_timestamptz(event_time) AS event_time)
  FROM read_json($file, format = 'newline_delimited', columns = ${PATCH_FILE_COLUMNS})`;

const SECONDARY_INDEXES = `SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = current_database()`;

interface IndexDefinition {
  name: string;
  sql: string;
}

export class DuckDbBulkLoad {
  readonly #db: DuckDb;
  readonly #indexes: IndexDefinition[];

  private constructor(db: DuckDb, indexes: IndexDefinition[]) {
    this.#db = db;
    this.#indexes = indexes;
  }

  /** Prepares the store and drops its secondary indexes until finish(). */
  static async begin(store: DuckDbSpanStore): Promise<DuckDbBulkLoad> {
    await store.prepare();
    const indexes = await store.db.write(async (conn) => {
      const reader = await conn.runAndReadAll(SECONDARY_INDEXES);
      const found = reader.getRows().map(([name, sql]) => ({ name: name as string, sql: sql as string }));
      for (const index of found) await conn.run(`DROP INDEX "${index.name}"`);
      return found;
    });
    return new DuckDbBulkLoad(store.db, indexes);
  }

  /** One window in one transaction, query-support tables included. */
  load(window: NdjsonWindow): Promise<void> {
    return this.#db.write(async (conn) => {
      await conn.run(LOAD_SPANS, { file: window.spansFile });
      await conn.run(INSERT_FROM_SPANS_FILE, { file: window.spansFile });
      await conn.run(LOAD_PATCHES, { file: window.patchesFile });
      await applyInsertedSpans(conn, window.summary);
    });
  }

  /** Rebuilds the indexes (also after a failed load: whatever was loaded stays usable), then checkpoints. */
  async finish(): Promise<void> {
    for (const index of this.#indexes) await this.#db.write((conn) => conn.run(index.sql));
    await this.#db.checkpoint();
  }
}
