// A consistent copy of the open database into a new file while the server keeps running, with
// DuckDB's own tools: `COPY FROM DATABASE … (SCHEMA)` creates every table, constraint and index in a
// freshly attached file, then each table's rows are copied, `spans` first (state_patches has a
// foreign key to it; a plain COPY FROM DATABASE copies state_patches first and fails on it). One
// process per database file means this must run inside the server that holds the file.
//
// The copy holds the writer queue, so no commit lands between two tables' copies, and runs on a
// reader connection (ATTACH/DETACH cannot run inside the writer's transaction). Exports are still
// accepted into the WAL meanwhile; the poller's next batch waits for the copy.
import type { DuckDb } from './connection.ts';

const SNAPSHOT_ALIAS = 'junjo_snapshot';

/** Copies every table into `file` (which must not exist); returns the row counts of the copy. */
export function snapshotDuckDb(db: DuckDb, file: string): Promise<{ spans: number; statePatches: number }> {
  // ATTACH takes no bound parameters: the path is a quoted SQL literal.
  const literal = `'${file.replaceAll("'", "''")}'`;
  return db.write(() =>
    db.read(async (conn) => {
      const current = (await conn.runAndReadAll('SELECT current_database()')).getRows()[0]![0] as string;
      const source = quoteIdentifier(current);
      const tables = (
        await conn.runAndReadAll(
          `SELECT table_name FROM duckdb_tables() WHERE database_name = $db AND schema_name = 'main'
           ORDER BY table_name <> 'spans', table_name`,
          { db: current },
        )
      )
        .getRows()
        .map((row) => quoteIdentifier(row[0] as string));
      await conn.run(`ATTACH ${literal} AS ${SNAPSHOT_ALIAS}`);
      try {
        await conn.run(`COPY FROM DATABASE ${source} TO ${SNAPSHOT_ALIAS} (SCHEMA)`);
        for (const table of tables) {
          await conn.run(`INSERT INTO ${SNAPSHOT_ALIAS}.main.${table} SELECT * FROM ${source}.main.${table}`);
        }
        const counts = await conn.runAndReadAll(
          `SELECT (SELECT count(*) FROM ${SNAPSHOT_ALIAS}.spans), (SELECT count(*) FROM ${SNAPSHOT_ALIAS}.state_patches)`,
        );
        const [spans, statePatches] = counts.getRows()[0] as [bigint, bigint];
        return { spans: Number(spans), statePatches: Number(statePatches) };
      } finally {
        await conn.run(`DETACH ${SNAPSHOT_ALIAS}`);
      }
    }),
  );
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
