// What a checkpoint costs against what it writes: rows committed in batches smaller than a row group
// wait in DuckDB's memory, uncompressed, until a checkpoint, and the writer checkpoints once they
// pass a share of the memory limit (HELD_MEMORY_CHECKPOINT_SHARE in src/db_duckdb/connection.ts).
// Loads a store with the ingestion benchmark's spans in poller-sized batches, checkpoints, then for
// each count commits that many new spans in 128-span batches and checkpoints again. Prints DuckDB's
// memory by tag before each checkpoint and the checkpoint's wall and CPU time. Run with nothing else
// on the machine.
//
//   node_modules/.bin/node bench/duckdb_held_checkpoint.ts [--base-spans 140000] [--counts 1000,4000,16000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { createLogger } from '../src/logger.ts';
import { batchRows, pollerBatches, processCpuMs } from './duckdb_spill.ts';
import { buildRequests } from './ingestion.ts';

const { values: args } = parseArgs({
  options: {
    'base-spans': { type: 'string', default: '140000' },
    counts: { type: 'string', default: '1000,2000,4000,8000,16000,32000' },
  },
});

const mb = (bytes: bigint | number) => Math.round(Number(bytes) / 1e5) / 10;

const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-duckdb-held-'));
try {
  // A limit high enough that neither the held-memory checkpoint nor a spill happens by itself.
  const store = await DuckDbSpanStore.open(path.join(dir, 'spans.duckdb'), createLogger('error'), {
    idleCheckpointMs: 0,
    memoryLimit: '4GiB',
    threads: 1,
  });
  await store.prepare();
  for (const batch of pollerBatches(buildRequests(Number(args['base-spans']), 7, 512))) {
    await store.insertBatch(batchRows(batch));
  }
  await store.db.checkpoint();
  const rows = [];
  let seed = 100;
  for (const count of args.counts.split(',').map(Number)) {
    for (const request of buildRequests(count, seed++, 128))
      await store.insertBatch(batchRows([request.bytes]));
    const memory = await store.db.read(async (conn) =>
      Object.fromEntries(
        (await conn.runAndReadAll('SELECT tag, memory_usage_bytes FROM duckdb_memory()')).getRows(),
      ),
    );
    const cpuBefore = processCpuMs();
    const started = performance.now();
    await store.db.checkpoint();
    rows.push({
      spans_held: count,
      in_memory_rows_mb: mb(memory.IN_MEMORY_TABLE + memory.OVERFLOW_STRINGS),
      indexes_mb: mb(memory.ART_INDEX),
      checkpoint_wall_ms: Math.round(performance.now() - started),
      checkpoint_cpu_ms: Math.round(processCpuMs() - cpuBefore),
      load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
    });
  }
  await store.db.close();
  console.log(`${args['base-spans']} spans in the store before the first count`);
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
