// Prints where a stopped server's DuckDB file spends its bytes, per span, by table and by index
// (src/db_duckdb/storage_report.ts says how each is measured). The server must be stopped: DuckDB
// allows one process per file.
//
//   npm run storage-report -- [--data-dir DIR]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { formatStorageReport, storageReport } from '../src/db_duckdb/storage_report.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
const env = { ...process.env };
if (values['data-dir']) {
  env.JUNJO_DATA_DIR = values['data-dir'];
  delete env.JUNJO_DUCKDB_PATH;
}
const config = loadConfig(env);
const file = config.paths.duckdb;
// The server's memory limit: without one DuckDB may take 80% of RAM, and building the indexes of a
// 10M-span store in the scratch file took 19.5 GB before the kernel killed it.
const store = await DuckDbSpanStore.open(file, createLogger('warn'), config.duckdb);
try {
  await store.db.checkpoint();
  const { spans } = await store.stats();
  const report = await storageReport(store.db, `${file}.storage-scratch`);
  console.log(file);
  for (const line of formatStorageReport(report, spans)) console.log(line);
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await store.close();
}
