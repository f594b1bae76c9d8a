// Where the DuckDB file's bytes go, by table and by index, for the query benchmark and
// scripts/storage_report.ts. Both are estimates:
// - a table owns the column segments pragma_storage_info lists for it; a segment's size is the
//   distance to the next segment in its block (or to the block's end), plus its overflow blocks;
// - DuckDB reports no size for an ART index, so each index is built again, alone, on a copy of its
//   key columns in a scratch file, and measured as the blocks its checkpoint adds there.
// What the file uses beyond both (catalog, free lists, partly filled blocks) is the rest.
import { rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DuckDb } from './connection.ts';

export interface StorageReport {
  /** Bytes of the blocks the file uses (free blocks left by deletes excluded). */
  usedBytes: number;
  tables: { table: string; rows: number; bytes: number }[];
  /** Primary keys appear as `<table>_pkey`. */
  indexes: { index: string; table: string; bytes: number }[];
}

// A table's persistent segments with the block they start in; the size comes from the layout.
// pragma_storage_info takes a literal name only: one statement per table.
const segmentsOf = (table: string) => `
  SELECT block_id, block_offset, len(additional_block_ids) FROM pragma_storage_info(${sqlString(table)})
  WHERE persistent AND block_id >= 0`;

const ROW_COUNTS = `
  SELECT table_name, estimated_size FROM duckdb_tables()
  WHERE database_name = current_database() AND NOT temporary`;

const USED = `
  SELECT used_blocks * block_size, block_size FROM pragma_database_size()
  WHERE database_name = current_database()`;

// Secondary indexes with their key columns, and primary keys as the unique index DuckDB builds.
const INDEX_KEYS = `
  SELECT index_name, table_name, expressions, false FROM duckdb_indexes()
  WHERE database_name = current_database()
  UNION ALL
  SELECT table_name || '_pkey', table_name, constraint_column_names::VARCHAR, true FROM duckdb_constraints()
  WHERE database_name = current_database() AND constraint_type = 'PRIMARY KEY'`;

/** Identifiers come from the catalog; quoting keeps any name a name. */
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The whole report: tableStorage, then indexStorage with a scratch file beside the store. */
export async function storageReport(db: DuckDb, scratchFile: string): Promise<StorageReport> {
  const tables = await db.read(tableStorage);
  return { ...tables, indexes: await indexStorage(db, scratchFile) };
}

/** Table sizes from the file's own layout: cheap, no writes. */
export async function tableStorage(
  conn: DuckDBConnection,
): Promise<Pick<StorageReport, 'usedBytes' | 'tables'>> {
  const [used, blockSize] = (await conn.runAndReadAll(USED)).getRows()[0] as [bigint, bigint];
  const rows = (await conn.runAndReadAll(ROW_COUNTS)).getRows() as [string, bigint][];
  const byBlock = new Map<bigint, { table: string; offset: bigint }[]>();
  const bytes = new Map<string, bigint>();
  for (const [table] of rows) {
    const segments = (await conn.runAndReadAll(segmentsOf(table))).getRows() as [bigint, bigint, bigint][];
    for (const [block, offset, overflowBlocks] of segments) {
      const starts = byBlock.get(block) ?? [];
      byBlock.set(block, starts);
      starts.push({ table, offset });
      bytes.set(table, (bytes.get(table) ?? 0n) + overflowBlocks * blockSize);
    }
  }
  for (const starts of byBlock.values()) {
    starts.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    starts.forEach(({ table, offset }, i) => {
      const end = starts[i + 1]?.offset ?? blockSize;
      bytes.set(table, (bytes.get(table) ?? 0n) + end - offset);
    });
  }
  return {
    usedBytes: Number(used),
    tables: rows
      .map(([table, count]) => ({ table, rows: Number(count), bytes: Number(bytes.get(table) ?? 0n) }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

/**
 * Builds each index alone in `scratchFile` (created and removed here) and measures it. Takes about
 * as long as building the store's indexes; meant for benchmarks and reports, not a serving store:
 * the scratch file is attached to the whole instance while it runs.
 */
export async function indexStorage(db: DuckDb, scratchFile: string): Promise<StorageReport['indexes']> {
  rmSync(scratchFile, { force: true });
  return db.read(async (conn) => {
    const main = (await conn.runAndReadAll('SELECT current_database()')).getRows()[0]![0] as string;
    await conn.run(`ATTACH ${sqlString(scratchFile)} AS storage_scratch`);
    try {
      const keys = (await conn.runAndReadAll(INDEX_KEYS)).getRows() as [string, string, string, boolean][];
      const indexes: StorageReport['indexes'] = [];
      for (const [index, table, expressions, unique] of keys) {
        const columns = parseColumnList(expressions).map(quote).join(', ');
        await conn.run(
          `CREATE TABLE storage_scratch.keys AS SELECT ${columns} FROM ${quote(main)}.${quote(table)}`,
        );
        const before = await scratchUsedBytes(conn);
        await conn.run(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX idx ON storage_scratch.keys (${columns})`);
        const after = await scratchUsedBytes(conn);
        await conn.run('DROP TABLE storage_scratch.keys');
        // An empty index may free a block the table had spare: never below zero.
        indexes.push({ index, table, bytes: Math.max(0, after - before) });
      }
      return indexes.sort((a, b) => b.bytes - a.bytes);
    } finally {
      await conn.run('DETACH storage_scratch');
      rmSync(scratchFile, { force: true });
      rmSync(`${scratchFile}.wal`, { force: true });
    }
  });
}

async function scratchUsedBytes(conn: DuckDBConnection): Promise<number> {
  await conn.run('CHECKPOINT storage_scratch');
  const reader = await conn.runAndReadAll(
    "SELECT used_blocks * block_size FROM pragma_database_size() WHERE database_name = 'storage_scratch'",
  );
  return Number(reader.getRows()[0]![0] as bigint);
}

/** `[trace_id, span_id]` (the catalog's rendering of index keys) → the column names. */
function parseColumnList(expressions: string): string[] {
  return expressions
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((column) => column.trim().replace(/^"|"$/g, ''));
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The report as printable lines: bytes per span by table and index, largest first. */
export function formatStorageReport(report: StorageReport, spans: number): string[] {
  const perSpan = (bytes: number) => (bytes / Math.max(1, spans)).toFixed(0).padStart(7);
  const tableBytes = report.tables.reduce((sum, t) => sum + t.bytes, 0);
  const indexBytes = report.indexes.reduce((sum, i) => sum + i.bytes, 0);
  return [
    `bytes per span (${spans} spans)               B/span`,
    `  file, used blocks                        ${perSpan(report.usedBytes)}`,
    ...report.tables.map((t) => `  table ${t.table.padEnd(34)} ${perSpan(t.bytes)}  (${t.rows} rows)`),
    ...report.indexes.map((i) => `  index ${i.index.padEnd(34)} ${perSpan(i.bytes)}`),
    `  rest (catalog, partial blocks)           ${perSpan(report.usedBytes - tableBytes - indexBytes)}`,
  ];
}
