// What sustained full load costs as the spans table grows under a memory limit: rounds of the
// ingestion benchmark's spans (new traces each round) inserted in poller-sized batches, then a
// checkpoint; then 3,000 more spans and another checkpoint, the cost an idle moment pays. Prints
// per round the insert CPU per 1,000 spans (including any checkpoint an out-of-memory insert forced,
// `SpanRepository.insertBatch`), both checkpoints' CPU, and DuckDB's memory after them.
//
//   node_modules/.bin/node bench/duckdb_checkpoint_growth.ts [--rounds 4] [--memory 192MiB] [--row-group-size 2048]
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
    rounds: { type: 'string', default: '4' },
    memory: { type: 'string', default: '192MiB' },
    'row-group-size': { type: 'string' },
  },
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-duckdb-checkpoints-'));
try {
  const store = await DuckDbSpanStore.open(path.join(dir, 'spans.duckdb'), createLogger('error'), {
    idleCheckpointMs: 0,
    memoryLimit: args.memory,
    threads: 1,
    ...(args['row-group-size'] !== undefined && { rowGroupSize: Number(args['row-group-size']) }),
  });
  await store.prepare();
  const timed = async (fn: () => Promise<unknown>) => {
    const before = processCpuMs();
    await fn();
    return processCpuMs() - before;
  };
  const rounds = [];
  let total = 0;
  for (let round = 0; round < Number(args.rounds); round++) {
    let spans = 0;
    let insertMs = 0;
    for (const batch of pollerBatches(buildRequests(200_000, 100 + round, 512))) {
      const rows = batchRows(batch);
      insertMs += await timed(async () => {
        spans += (await store.insertBatch(rows)).spans;
      });
    }
    total += spans;
    const checkpointMs = await timed(() => store.db.checkpoint());
    const few = batchRows(buildRequests(3000, 900 + round, 512).map((request) => request.bytes));
    await store.insertBatch(few);
    total += few.spans.length;
    const smallCheckpointMs = await timed(() => store.db.checkpoint());
    rounds.push({
      spans_in_table: total,
      insert_cpu_ms_per_1k_spans: Math.round((insertMs / spans) * 1000),
      checkpoint_after_round_cpu_ms: Math.round(checkpointMs),
      checkpoint_after_3000_spans_cpu_ms: Math.round(smallCheckpointMs),
      duckdb_memory_mb: Math.round((await store.db.memory()).usedBytes / 2 ** 20),
      load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
    });
  }
  await store.db.close();
  console.log(`memory limit ${args.memory}, row group size ${args['row-group-size'] ?? 'default (2048)'}`);
  console.table(rounds);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
