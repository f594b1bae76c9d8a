// Rewrites a stopped server's DuckDB file into the current file format (connection.ts: 16 KiB
// blocks, storage version v1.5.0) and without the free blocks deletes and dropped columns left
// behind. DuckDB keeps a file's format for life and never shrinks a file, so the only way there is a
// copy: every table into a new file beside it (attached by this instance, so in the current
// format), every table's row count compared, then the new file renamed over the old one. The old
// file stays, hard-linked as `<file>.before-compact`, until the new one has opened as a store.
import { existsSync } from 'node:fs';
import { link, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '../logger.ts';
import type { DuckDb } from './connection.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';

export interface CompactionResult {
  bytesBefore: number;
  bytesAfter: number;
  blockSizeBefore: number;
  blockSizeAfter: number;
  /** Rows per table, the same in both files. */
  rows: Record<string, number>;
}

const TABLES = `
  SELECT table_name FROM duckdb_tables()
  WHERE database_name = $db AND schema_name = 'main' AND NOT temporary ORDER BY table_name`;

const BLOCK_SIZE = 'SELECT block_size FROM pragma_database_size() WHERE database_name = $db';

const COPY_ALIAS = 'junjo_compacted';

/**
 * Compacts `file` in place; `progress` gets a line per step. Fails (and leaves `file` as it was)
 * when the file is held by another process, or when the copy's row counts differ.
 */
export async function compactDuckDbFile(
  file: string,
  logger: Logger,
  progress: (line: string) => void,
): Promise<CompactionResult> {
  const copy = `${file}.compacting`;
  const backup = `${file}.before-compact`;
  // Leftovers of an interrupted run: the original was never replaced before the copy was complete.
  for (const leftover of [copy, `${copy}.wal`, backup]) await rm(leftover, { force: true });
  const bytesBefore = await fileBytes(file);

  progress(`opening ${file} (${formatBytes(bytesBefore)}) and applying pending store migrations`);
  const store = await DuckDbSpanStore.open(file, logger, { idleCheckpointMs: 0 });
  let rows: Record<string, number>;
  let blockSizeBefore: number;
  try {
    await store.prepare();
    blockSizeBefore = await store.db.read((conn) => blockSize(conn));
    rows = await store.db.read((conn) => rowCounts(conn, null));
    await copyInto(store.db, copy, progress);
    const copied = await countCopy(store.db, copy);
    for (const [table, count] of Object.entries(rows)) {
      if (copied[table] !== count) {
        throw new Error(`compaction: ${table} has ${count} rows but its copy ${copied[table] ?? 'none'}`);
      }
    }
    progress(`row counts match (${Object.keys(rows).length} tables); closing the store`);
  } catch (err) {
    await store.close();
    await rm(copy, { force: true });
    throw err;
  }
  await store.close();
  // A WAL left next to either file would be replayed into the wrong one after the rename.
  for (const wal of [`${file}.wal`, `${copy}.wal`]) {
    if (existsSync(wal)) {
      await rm(copy, { force: true });
      throw new Error(`compaction: ${wal} is still there after closing; ${file} was left as it was`);
    }
  }

  await link(file, backup);
  await rename(copy, file);
  await syncDirectory(path.dirname(file));
  progress(`swapped in the compacted file; checking that it opens`);
  const reopened = await DuckDbSpanStore.open(file, logger, { idleCheckpointMs: 0 });
  let blockSizeAfter: number;
  try {
    await reopened.prepare();
    blockSizeAfter = await reopened.db.read((conn) => blockSize(conn));
  } finally {
    await reopened.close();
  }
  await rm(backup);
  return { bytesBefore, bytesAfter: await fileBytes(file), blockSizeBefore, blockSizeAfter, rows };
}

async function currentDatabase(conn: DuckDBConnection): Promise<string> {
  return (await conn.runAndReadAll('SELECT current_database()')).getRows()[0]![0] as string;
}

async function blockSize(conn: DuckDBConnection): Promise<number> {
  const reader = await conn.runAndReadAll(BLOCK_SIZE, { db: await currentDatabase(conn) });
  return Number(reader.getRows()[0]![0] as bigint);
}

/** Row counts of every table of `database` (the current one when null). */
async function rowCounts(conn: DuckDBConnection, database: string | null): Promise<Record<string, number>> {
  const db = database ?? (await currentDatabase(conn));
  const tables = (await conn.runAndReadAll(TABLES, { db })).getRows().map((row) => row[0] as string);
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${quote(db)}.main.${quote(table)}`);
    counts[table] = Number(reader.getRows()[0]![0] as bigint);
  }
  return counts;
}

const COPY_INDEXES = `SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = '${COPY_ALIAS}'`;

/**
 * Every table of the store into a new file: the schema first (COPY FROM DATABASE … (SCHEMA)), then
 * the rows with the secondary indexes dropped, then the indexes built again. Maintained row by
 * row, ten indexes made the copy of 1M spans take most of an hour; built at the end, minutes.
 * `spans` comes first: state_patches has a foreign key to it. Holds the writer queue throughout.
 */
function copyInto(db: DuckDb, copy: string, progress: (line: string) => void): Promise<void> {
  return db.write(() =>
    db.read(async (conn) => {
      const source = quote(await currentDatabase(conn));
      await conn.run(`ATTACH ${sqlString(copy)} AS ${COPY_ALIAS}`);
      try {
        await conn.run(`COPY FROM DATABASE ${source} TO ${COPY_ALIAS} (SCHEMA)`);
        const indexes = (await conn.runAndReadAll(COPY_INDEXES)).getRows() as [string, string][];
        for (const [name] of indexes) await conn.run(`DROP INDEX ${COPY_ALIAS}.main.${quote(name)}`);
        const tables = Object.keys(await rowCounts(conn, COPY_ALIAS)).sort(
          (a, b) => Number(b === 'spans') - Number(a === 'spans'),
        );
        for (const table of tables) {
          progress(`copying table ${table}`);
          await conn.run(
            `INSERT INTO ${COPY_ALIAS}.main.${quote(table)} SELECT * FROM ${source}.main.${quote(table)}`,
          );
        }
        // duckdb_indexes() gives each index's CREATE statement unqualified: run it in the copy.
        await conn.run(`USE ${COPY_ALIAS}`);
        try {
          for (const [name, sql] of indexes) {
            progress(`building index ${name}`);
            await conn.run(sql);
          }
        } finally {
          await conn.run(`USE ${source}`);
        }
      } finally {
        await conn.run(`DETACH ${COPY_ALIAS}`);
      }
    }),
  );
}

/** Row counts of the copy, attached read-only for the count. */
function countCopy(db: DuckDb, copy: string): Promise<Record<string, number>> {
  return db.read(async (conn) => {
    await conn.run(`ATTACH ${sqlString(copy)} AS ${COPY_ALIAS} (READ_ONLY)`);
    try {
      return await rowCounts(conn, COPY_ALIAS);
    } finally {
      await conn.run(`DETACH ${COPY_ALIAS}`);
    }
  });
}

// ATTACH takes no bound parameters: paths are quoted SQL literals.
function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function fileBytes(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** The rename is durable once the directory entry is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
