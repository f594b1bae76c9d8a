// Measures what retention does to a large DuckDB file: how long a run takes, how long inserts wait
// meanwhile, and what happens to the file size (after the run's CHECKPOINT, after close, and once
// new spans are added again). Figures go to docs/reliability.md.
//
//   node_modules/.bin/node test/hardening/retention_disk.ts [spans=1000000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSpans } from '../../scripts/generate.ts';
import { openDuckDb } from '../../src/db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../../src/db_duckdb/duckdb_span_store.ts';
import { toExportRequest, workflowMixTraces } from '../../src/fixtures/junjo_traces.ts';
import { createLogger } from '../../src/logger.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { RetentionJob } from '../../src/telemetry/retention.ts';

const spans = Number(process.argv[2] ?? 1_000_000);
const logger = createLogger('silent');
const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-retention-disk-'));
const file = path.join(dir, 'otel.duckdb');
const mibOf = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const size = () => {
  const wal = `${file}.wal`;
  let walBytes = 0;
  try {
    walBytes = statSync(wal).size;
  } catch {}
  return `${mibOf(statSync(file).size)} MiB (+ ${mibOf(walBytes)} MiB WAL)`;
};

try {
  let db = await openDuckDb(file, logger);
  await generateSpans(new DuckDbSpanStore(db, logger), { spans, services: 5 });
  await db.close();
  console.log(`generated ${spans} spans: file ${size()}`);

  db = await openDuckDb(file, logger);
  const store = new DuckDbSpanStore(db, logger);
  await store.prepare();
  const [minUs, maxUs] = await db.read(async (conn) => {
    const row = (
      await conn.runAndReadAll('SELECT epoch_us(min(start_time)), epoch_us(max(start_time)) FROM spans')
    ).getRows()[0]!;
    return [Number(row[0]), Number(row[1])];
  });
  // Half of the time range expires: a 1-day retention with the clock one day past the middle.
  const nowMs = Math.round((minUs + maxUs) / 2 / 1000) + 86_400_000;
  const job = new RetentionJob({ store, days: 1, logger, now: () => nowMs });

  // Meanwhile the poller's inserts: a batch of fresh spans every 100 ms, each timed.
  const batches = [...workflowMixTraces({ traces: 400, seed: 9 })].map((trace) =>
    processTraceRequest(toExportRequest(trace.spans)),
  );
  const insertMs: number[] = [];
  let running = true;
  const inserter = (async () => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      await store.insertBatch(batches[i % batches.length]!);
      insertMs.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const run = await job.runOnce();
  running = false;
  await inserter;
  insertMs.sort((a, b) => a - b);
  const p = (q: number) =>
    Math.round(insertMs[Math.min(insertMs.length - 1, Math.floor(q * insertMs.length))]!);
  console.log(
    `retention: deleted ${run.spansDeleted} spans and ${run.patchesDeleted} patches in ${run.steps} steps, ` +
      `${(run.durationMs / 1000).toFixed(1)} s (checkpoint included); file ${size()}`,
  );
  console.log(`inserts meanwhile: ${insertMs.length}, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`);
  await db.close();
  console.log(`after close: file ${size()}`);

  db = await openDuckDb(file, logger);
  await generateSpans(new DuckDbSpanStore(db, logger), {
    spans: Math.round(spans / 2),
    services: 5,
    seed: 2,
  });
  await db.close();
  console.log(`after adding ${Math.round(spans / 2)} new spans: file ${size()}`);

  db = await openDuckDb(file, logger);
  await db.write((conn) => conn.run('VACUUM'));
  await db.checkpoint();
  await db.close();
  console.log(`after VACUUM + CHECKPOINT: file ${size()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
