// What one small insert batch costs the DuckDB store, statement by statement: the poller commits
// whatever waits, so below capacity its batches are small and their cost is mostly the fixed part
// (the query-support statements and the COMMIT), which decides how soon an acknowledged export
// becomes queryable (README, Freshness). Fills a fresh store with `--fill` spans of the Junjo mix
// in 4k-span batches (as under a full load, left un-checkpointed unless `--checkpoint`), then
// inserts `--batches` batches of `--batch-spans` spans one after another and prints each batch's
// wall time and process CPU (p50/p99), and per statement its mean wall time and process CPU (the
// statements run one at a time, so the process's CPU between a statement's start and end is
// its own and DuckDB's threads' for it). The server's DuckDB settings unless the environment
// sets JUNJO_DUCKDB_MEMORY_LIMIT / JUNJO_DUCKDB_THREADS.
// node_modules/.bin/node bench/duckdb_small_batches.ts [--fill 100000] [--batch-spans 128] [--batches 60] [--checkpoint]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBConnection } from '@duckdb/node-api';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { createLogger } from '../src/logger.ts';
import { processExport } from '../src/spans/export_processor.ts';
import type { SpanBatch } from '../src/spans/rows.ts';
import { buildRequests } from './ingestion.ts';

const { values } = parseArgs({
  options: {
    fill: { type: 'string', default: '100000' },
    'batch-spans': { type: 'string', default: '128' },
    batches: { type: 'string', default: '60' },
    checkpoint: { type: 'boolean', default: false },
  },
});

type Cost = { calls: number; wallMs: number; cpuMs: number };
const statements = new Map<string, Cost>();
let measuring = false;
const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const spent = process.cpuUsage(since);
  return (spent.user + spent.system) / 1000;
};

// Every statement of the insert path goes through run() (runAndReadAll too), so timing it here
// sees them all without touching the store's code.
const run = DuckDBConnection.prototype.run;
DuckDBConnection.prototype.run = async function (this: DuckDBConnection, ...args: Parameters<typeof run>) {
  const [wallStart, cpuStart] = [performance.now(), process.cpuUsage()];
  try {
    return await run.apply(this, args);
  } finally {
    if (measuring) {
      const key = args[0].replace(/\s+/g, ' ').trim().slice(0, 64);
      const cost = statements.get(key) ?? { calls: 0, wallMs: 0, cpuMs: 0 };
      cost.calls++;
      cost.wallMs += performance.now() - wallStart;
      cost.cpuMs += cpuMsSince(cpuStart);
      statements.set(key, cost);
    }
  }
};

const toBatch = (requests: { bytes: Buffer }[]): SpanBatch => {
  const batch: Required<SpanBatch> = { spans: [], patches: [], logRecords: [] };
  for (const request of requests) {
    const { rows } = processExport(request.bytes, 'protobuf', 'traces');
    batch.spans.push(...rows.spans);
    batch.patches.push(...rows.patches);
  }
  return batch;
};
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-small-batches-'));
try {
  const config = loadConfig({ ...process.env, JUNJO_DATA_DIR: dataDir });
  mkdirSync(path.dirname(config.paths.duckdb), { recursive: true });
  const store = await DuckDbSpanStore.open(config.paths.duckdb, createLogger('warn'), config.duckdb);
  await store.prepare();
  const fill = buildRequests(Number(values.fill), 7, 512);
  let started = performance.now();
  for (let index = 0; index < fill.length; index += 8)
    await store.insertBatch(toBatch(fill.slice(index, index + 8)));
  const fillMs = performance.now() - started;
  let checkpointMs = Number.NaN;
  if (values.checkpoint) {
    started = performance.now();
    await store.db.checkpoint();
    checkpointMs = performance.now() - started;
  }
  const batchSpans = Number(values['batch-spans']);
  const small = buildRequests(batchSpans * Number(values.batches), 101, batchSpans).map((r) => toBatch([r]));
  const walls: number[] = [];
  const cpus: number[] = [];
  measuring = true;
  for (const batch of small) {
    const [wallStart, cpuStart] = [performance.now(), process.cpuUsage()];
    await store.insertBatch(batch);
    walls.push(performance.now() - wallStart);
    cpus.push(cpuMsSince(cpuStart));
  }
  measuring = false;
  await store.close();
  const [load1, load5] = os.loadavg();
  walls.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  console.log(
    `DuckDB memory_limit ${config.duckdb.memoryLimit}, threads ${config.duckdb.threads}; filled ${values.fill} spans in ` +
      `${Math.round(fillMs)} ms${values.checkpoint ? `, checkpoint ${Math.round(checkpointMs)} ms` : ' (not checkpointed)'}`,
  );
  console.log(
    `${small.length} batches of ${batchSpans} spans: wall p50 ${percentile(walls, 50)} p99 ${percentile(walls, 99)} ms; ` +
      `process CPU p50 ${percentile(cpus, 50)} p99 ${percentile(cpus, 99)} ms`,
  );
  console.table(
    [...statements]
      .sort((a, b) => b[1].cpuMs - a[1].cpuMs)
      .map(([statement, cost]) => ({
        statement,
        calls: cost.calls,
        mean_wall_ms: Number((cost.wallMs / cost.calls).toFixed(2)),
        mean_cpu_ms: Number((cost.cpuMs / cost.calls).toFixed(2)),
      })),
  );
  console.log(`load average ${load1!.toFixed(2)} (1 min), ${load5!.toFixed(2)} (5 min)`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
