// One-time, versioned rewrites of data that older versions stored, run by the store's prepare()
// after the query-support tables exist. store_migrations records each one applied; a migration is
// also idempotent by itself, so a crash in the middle only makes the next start finish it.
import { type DuckDBBlobValue, type DuckDBConnection, listValue } from '@duckdb/node-api';
import type { Logger } from '../logger.ts';
import { numericEventTimes, STRING_TIME_MARKER } from '../spans/event_json.ts';
import type { DuckDb } from './connection.ts';
import { deflateListJson } from './list_json.ts';
import { recordStoredSpanAttributes } from './span_attributes.ts';
import { appendListEntry, querySupportSchema, rebuildQuerySupport } from './summaries.ts';

interface Migration {
  version: number;
  description: string;
  run(db: DuckDb, logger: Logger): Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'events_json[].timeUnixNano as a JSON number (api.md §7.3), not a decimal string',
    run: numericEventTimesInStore,
  },
  {
    version: 2,
    description: 'span_attributes filled from the stored spans (trace search reads it)',
    run: backfillSpanAttributes,
  },
  {
    version: 3,
    description: 'span_list_entries keeps its span JSON deflated (list_json.ts)',
    run: deflateListedJson,
  },
];

const CREATE = `CREATE TABLE IF NOT EXISTS store_migrations (
  version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`;
const RECORD = 'INSERT INTO store_migrations VALUES ($version, $description, now())';

/** Applies every migration this database has not had yet, in version order. */
export async function migrateStore(db: DuckDb, logger: Logger): Promise<void> {
  const applied = await db.write(async (conn) => {
    await conn.run(CREATE);
    const reader = await conn.runAndReadAll('SELECT version FROM store_migrations');
    return new Set(reader.getRows().map((row) => row[0] as number));
  });
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await migration.run(db, logger);
    await db.write((conn) =>
      conn.run(RECORD, { version: migration.version, description: migration.description }),
    );
    logger.info({ version: migration.version }, `store migration applied: ${migration.description}`);
  }
}

/**
 * Runs `step` over `table`'s row ids in order, one write transaction per `stepRows` of them (bounded
 * memory, rows appended in arrival order), reporting progress after each; returns the sum of what
 * the steps counted. An empty table runs no step.
 */
async function inRowidSteps(
  db: DuckDb,
  table: 'spans' | 'span_list_entries_text',
  stepRows: bigint,
  step: (conn: DuckDBConnection, first: bigint, last: bigint) => Promise<number>,
  progress: (done: bigint, total: bigint, sum: number) => void,
): Promise<number> {
  const maxRowid = await db.read(
    async (conn) => (await conn.runAndReadAll(`SELECT max(rowid) FROM ${table}`)).getRows()[0]?.[0],
  );
  let sum = 0;
  if (typeof maxRowid !== 'bigint') return sum;
  for (let first = 0n; first <= maxRowid; first += stepRows) {
    sum += await db.write((conn) => step(conn, first, first + stepRows - 1n));
    progress(first + stepRows > maxRowid ? maxRowid + 1n : first + stepRows, maxRowid + 1n, sum);
  }
  return sum;
}

// ---- 1: event times as numbers ------------------------------------------------------------------

// contains() on the text finds the rows to rewrite without parsing JSON; the rewrite itself is
// exact (numericEventTimes).
const STRING_TIME_ROWS = `
  SELECT rowid, events_json::VARCHAR FROM spans
  WHERE rowid BETWEEN $first::BIGINT AND $last::BIGINT AND contains(events_json::VARCHAR, $marker)`;
const UPDATE_EVENTS = `
  UPDATE spans SET events_json = fixed.events_json
  FROM (SELECT unnest($rowids::BIGINT[]) AS id, unnest($texts::VARCHAR[]) AS events_json) AS fixed
  WHERE spans.rowid = fixed.id`;
/** Rows per write transaction: bounded memory, and a progress line per step on a large store. */
const STEP_ROWS = 100_000n;

async function numericEventTimesInStore(db: DuckDb, logger: Logger): Promise<void> {
  const rewritten = await inRowidSteps(db, 'spans', STEP_ROWS, rewriteEventTimes, (done, total, sum) =>
    logger.info(`store migration 1: ${done} of ${total} span rows checked, ${sum} rewritten`),
  );
  // The list endpoints serve span JSON rendered at insert: render it again from the fixed rows.
  if (rewritten > 0) await db.write(rebuildQuerySupport);
}

async function rewriteEventTimes(conn: DuckDBConnection, first: bigint, last: bigint): Promise<number> {
  const reader = await conn.runAndReadAll(STRING_TIME_ROWS, { first, last, marker: STRING_TIME_MARKER });
  const rows = reader.getRows() as [bigint, string][];
  if (rows.length === 0) return 0;
  await conn.run(UPDATE_EVENTS, {
    rowids: listValue(rows.map(([rowid]) => rowid)),
    texts: listValue(rows.map(([, text]) => numericEventTimes(text))),
  });
  return rows.length;
}

// ---- 2: span_attributes -------------------------------------------------------------------------

/**
 * Starts from an empty table (a crash midway leaves a part, and the run is repeated), then one write
 * transaction per STEP_ROWS row ids, in row id order: the table's rows then follow the spans'
 * arrival order, as inserts keep them.
 */
async function backfillSpanAttributes(db: DuckDb, logger: Logger): Promise<void> {
  await db.write((conn) => conn.run('DELETE FROM span_attributes'));
  await inRowidSteps(db, 'spans', STEP_ROWS, recordStoredSpanAttributes, (done, total, sum) =>
    logger.info(`store migration 2: ${done} of ${total} span rows indexed, ${sum} attributes`),
  );
}

// ---- 3: deflated list JSON ----------------------------------------------------------------------

const OLD_LAYOUT = `
  SELECT count(*) > 0 FROM duckdb_columns()
  WHERE database_name = current_database() AND table_name = 'span_list_entries' AND column_name = 'span_json'`;
const TEXT_TABLE_EXISTS = `
  SELECT count(*) > 0 FROM duckdb_tables()
  WHERE database_name = current_database() AND table_name = 'span_list_entries_text'`;
const TEXT_ROWS = `
  SELECT trace_id, span_id, parent_span_id, service_name, epoch_us(start_time), junjo_span_type, has_llm,
         span_json, epoch_us(end_time)
  FROM span_list_entries_text WHERE rowid BETWEEN $first::BIGINT AND $last::BIGINT ORDER BY rowid`;
/** Rows per write transaction: ~5 KB of JSON each, so a step holds tens of MB. */
const TEXT_STEP_ROWS = 10_000n;

/**
 * The old table is renamed span_list_entries_text and the schema creates the new one; its rows are
 * then copied in row id order (arrival order, which the zone maps rely on), one write transaction
 * per step, and the old table dropped. A crash midway leaves span_list_entries_text: the next run
 * empties the new table and copies again.
 */
async function deflateListedJson(db: DuckDb, logger: Logger): Promise<void> {
  const schema = await querySupportSchema();
  await db.write(async (conn) => {
    if (!(await selectFlag(conn, OLD_LAYOUT))) return;
    await conn.run('ALTER TABLE span_list_entries RENAME TO span_list_entries_text');
    await conn.run(schema);
  });
  if (!(await db.read((conn) => selectFlag(conn, TEXT_TABLE_EXISTS)))) return;
  await db.write((conn) => conn.run('DELETE FROM span_list_entries'));
  await inRowidSteps(db, 'span_list_entries_text', TEXT_STEP_ROWS, copyDeflated, (done, total) =>
    logger.info(`store migration 3: ${done} of ${total} list entries deflated`),
  );
  await db.write((conn) => conn.run('DROP TABLE span_list_entries_text'));
}

async function selectFlag(conn: DuckDBConnection, sql: string): Promise<boolean> {
  return (await conn.runAndReadAll(sql)).getRows()[0]?.[0] === true;
}

async function copyDeflated(conn: DuckDBConnection, first: bigint, last: bigint): Promise<number> {
  const rows = (await conn.runAndReadAll(TEXT_ROWS, { first, last })).getRows();
  const appender = await conn.createAppender('span_list_entries');
  try {
    for (const row of rows) {
      appendListEntry(appender, {
        traceId: row[0] as string,
        spanId: row[1] as string,
        parentSpanId: row[2] as string | null,
        serviceName: row[3] as string,
        startMicros: row[4] as bigint,
        spanType: row[5] as string | null,
        hasLlm: row[6] as boolean | null,
        spanJsonDeflated: deflateListJson((row[7] as DuckDBBlobValue).bytes),
        endMicros: row[8] as bigint | null,
      });
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return rows.length;
}
