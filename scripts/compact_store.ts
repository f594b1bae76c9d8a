// Rewrites a stopped server's DuckDB file into the current file format and without its free blocks
// (src/db_duckdb/compaction.ts says how). The server must be stopped: DuckDB allows one process per
// file, so this refuses to run while the server holds it. Needs free disk for a second copy.
//
//   npm run compact-store -- [--data-dir DIR]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { compactDuckDbFile, formatBytes } from '../src/db_duckdb/compaction.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
const env = { ...process.env };
if (values['data-dir']) {
  env.JUNJO_DATA_DIR = values['data-dir'];
  delete env.JUNJO_DUCKDB_PATH;
}
const file = loadConfig(env).paths.duckdb;
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
try {
  const result = await compactDuckDbFile(file, createLogger('info'), (line) =>
    console.log(`[${seconds()} s] ${line}`),
  );
  const saved = result.bytesBefore - result.bytesAfter;
  console.log(
    [
      `compacted ${file} in ${seconds()} s`,
      `  bytes:      ${formatBytes(result.bytesBefore)} → ${formatBytes(result.bytesAfter)} ` +
        `(${saved >= 0 ? '-' : '+'}${formatBytes(Math.abs(saved))})`,
      `  block size: ${result.blockSizeBefore} → ${result.blockSizeAfter} bytes`,
      ...Object.entries(result.rows).map(([table, rows]) => `  ${table.padEnd(20)} ${rows} rows (unchanged)`),
      `  load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    ].join('\n'),
  );
} catch (err) {
  console.error(`compact-store failed, ${file} is unchanged: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
}
