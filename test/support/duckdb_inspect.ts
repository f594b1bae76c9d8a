// Reads a stopped server's DuckDB file directly (one process per file: the server must be stopped).
import { DuckDBInstance } from '@duckdb/node-api';

export async function queryDuckDb<T = Record<string, unknown>>(
  file: string,
  sql: string,
  params: Record<string, string | number> | unknown[] = [],
): Promise<T[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowObjectsJS() as T[];
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
