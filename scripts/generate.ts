// Fills a data directory with realistic Junjo traces (the fixture generator's workflow mix: legacy
// and contract-2 workflows, agents, subflows, failures, LLM spans), spread over the days before now,
// so anyone can reproduce the query benchmark.
//
//   npm run generate -- --spans N --services S [--data-dir DIR] [--seed X] [--workers W]
//   npm run generate -- --spans N --store clickhouse --clickhouse-url chdb:///dir [--database junjo]
//
// Speed comes from skipping everything a live export needs: no OTLP encoding, no write-ahead log,
// no row-by-row appender for spans. Worker threads turn fixture traces into rows (the span
// processor), write them as NDJSON files and summarise them for the query-support tables (the
// repository's code); the main thread hands each window to the DuckDB store's bulk load
// (src/db_duckdb/bulk_load.ts: one transaction per window, secondary indexes rebuilt at the end).
// For another store (--store clickhouse) the workers hand the same rows back and each window is
// one insertBatch: the store's own write path, with windows far larger than a poller's batch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadConfig } from '../src/config.ts';
import { ClickHouseSpanStore } from '../src/db_clickhouse/clickhouse_span_store.ts';
import { DuckDbBulkLoad, type NdjsonWindow } from '../src/db_duckdb/bulk_load.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { summarizeInsertedSpans } from '../src/db_duckdb/summaries.ts';
import { workflowMixTraces } from '../src/fixtures/junjo_traces.ts';
import { createLogger } from '../src/logger.ts';
import type { SpanBatch, SpanRow, StatePatchRow } from '../src/spans/rows.ts';
import { processSpan } from '../src/spans/span_processor.ts';
import type { SpanStore } from '../src/spans/span_store.ts';

export interface GenerateOptions {
  /** Spans to add (whole traces: the result may exceed this by less than one trace per window). */
  spans: number;
  services: number;
  seed?: number;
  /** Row-producing worker threads (default: one per CPU beyond the first, at least one). */
  workers?: number;
  /** The newest trace starts about this long before now (default 0). */
  endTimeUnixNano?: bigint;
  onProgress?: (progress: GenerateProgress) => void;
}

export interface GenerateProgress {
  spans: number;
  target: number;
  spansPerSecond: number;
  etaSeconds: number;
  /** The last window's time in the store's insert (insertBatch), to see whether it grows with the table. */
  windowStoreSeconds?: number;
}

export interface GenerateResult {
  traces: number;
  spans: number;
  patches: number;
  loadSeconds: number;
  indexSeconds: number;
  totalSeconds: number;
  spansPerSecond: number;
}

/** Spans per window: one worker task, one NDJSON file pair, one DuckDB transaction. */
const WINDOW_SPANS = 50_000;
/** The mix averages ~9.7 spans per trace and starts traces ~1.025 s apart. */
const MEAN_SPANS_PER_TRACE = 9.7;
const MEAN_TRACE_GAP_NANOS = 1_025_000_000n;
const NANOS_PER_SPAN = (MEAN_TRACE_GAP_NANOS / BigInt(Math.round(MEAN_SPANS_PER_TRACE * 10))) * 10n;

interface WindowTask {
  /** 'ndjson': files for DuckDB's bulk load; 'rows': the rows themselves, for SpanStore.insertBatch. */
  output: 'ndjson' | 'rows';
  index: number;
  seed: number;
  services: number;
  spanBudget: number;
  startTimeUnixNano: bigint;
  dir: string;
}

interface WindowFiles extends NdjsonWindow {
  index: number;
  traces: number;
  spans: number;
  patches: number;
}

interface WindowRows {
  index: number;
  traces: number;
  batch: SpanBatch;
}

/**
 * Adds about `options.spans` spans (and their state patches) to the store. The data is a function of
 * the seed (times aside): to add more to a filled data dir use another seed, or the primary key
 * refuses the repeated trace ids.
 */
export async function generateSpans(
  store: DuckDbSpanStore,
  options: GenerateOptions,
): Promise<GenerateResult> {
  const started = performance.now();
  const bulk = await DuckDbBulkLoad.begin(store);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-generate-'));
  const totals = { traces: 0, spans: 0, patches: 0 };
  let loaded = started;
  try {
    const tasks = windowTasks(options, 'ndjson', dir);
    for await (const files of produceInOrder<WindowFiles>(tasks, workerCount(options))) {
      await bulk.load(files);
      rmSync(files.spansFile);
      rmSync(files.patchesFile);
      totals.traces += files.traces;
      totals.spans += files.spans;
      totals.patches += files.patches;
      reportProgress(options, totals.spans, started);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    loaded = performance.now();
    await bulk.finish();
  }
  const done = performance.now();
  return {
    ...totals,
    loadSeconds: (loaded - started) / 1000,
    indexSeconds: (done - loaded) / 1000,
    totalSeconds: (done - started) / 1000,
    spansPerSecond: totals.spans / ((done - started) / 1000),
  };
}

/**
 * DuckDB's memory limit while generating (unless JUNJO_DUCKDB_MEMORY_LIMIT is set for the CLI): the
 * bulk load keeps the primary key's index nodes of every row it loaded (DuckDB never evicts them),
 * and at the server's 128 MiB default it ran out of memory at ~550k spans. The server then opens
 * the file at its own limit, as after any restart.
 */
export const GENERATE_MEMORY_LIMIT = '2GiB';

/** generateSpans into a DuckDB file, opened for the load at `memoryLimit` and closed after it. */
export async function generateDuckDbFile(
  file: string,
  options: GenerateOptions,
  memoryLimit = GENERATE_MEMORY_LIMIT,
): Promise<GenerateResult> {
  mkdirSync(path.dirname(file), { recursive: true });
  const store = await DuckDbSpanStore.open(file, createLogger('warn'), { memoryLimit });
  try {
    return await generateSpans(store, options);
  } finally {
    await store.close();
  }
}

/**
 * The same rows as generateSpans for the same options, written through the store's insertBatch, one
 * window (~50k spans) per call: how a ClickHouse store is filled (exact counts, idempotent).
 */
export async function generateIntoStore(store: SpanStore, options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const totals = { traces: 0, spans: 0, patches: 0 };
  const tasks = windowTasks(options, 'rows', '');
  for await (const window of produceInOrder<WindowRows>(tasks, workerCount(options))) {
    const insertStarted = performance.now();
    const inserted = await store.insertBatch(window.batch);
    totals.traces += window.traces;
    totals.spans += inserted.spans;
    totals.patches += inserted.patches;
    reportProgress(options, totals.spans, started, (performance.now() - insertStarted) / 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    ...totals,
    loadSeconds: seconds,
    indexSeconds: 0,
    totalSeconds: seconds,
    spansPerSecond: totals.spans / seconds,
  };
}

function windowTasks(options: GenerateOptions, output: WindowTask['output'], dir: string): WindowTask[] {
  const seed = options.seed ?? 1;
  const windows = Math.max(1, Math.ceil(options.spans / WINDOW_SPANS));
  const end = options.endTimeUnixNano ?? BigInt(Date.now()) * 1_000_000n;
  return Array.from({ length: windows }, (_, index) => ({
    output,
    index,
    seed,
    services: options.services,
    spanBudget: Math.min(WINDOW_SPANS, options.spans - index * WINDOW_SPANS),
    // Each window starts as long before the end as the spans from it on take, so the last
    // (maybe partial) window ends about at `end`.
    startTimeUnixNano: end - BigInt(options.spans - index * WINDOW_SPANS) * NANOS_PER_SPAN,
    dir,
  }));
}

const workerCount = (options: GenerateOptions) =>
  options.workers ?? Math.max(1, os.availableParallelism() - 1);

function reportProgress(
  options: GenerateOptions,
  spans: number,
  started: number,
  windowStoreSeconds?: number,
): void {
  const rate = spans / ((performance.now() - started) / 1000);
  options.onProgress?.({
    spans,
    target: options.spans,
    spansPerSecond: rate,
    etaSeconds: Math.max(0, options.spans - spans) / rate,
    ...(windowStoreSeconds === undefined ? {} : { windowStoreSeconds }),
  });
}

/**
 * Runs the tasks on worker threads and yields their results in task order, so the store is filled
 * oldest window first. A worker gets its next task only when a result has been taken: at most two
 * tasks per worker are running or waiting to be taken (bounded temp disk and memory, however much
 * slower than the workers the store is; a 10M-span ClickHouse fill ran out of heap without it).
 */
async function* produceInOrder<Result extends { index: number }>(
  tasks: WindowTask[],
  workerCount: number,
): AsyncGenerator<Result> {
  const workers = Array.from(
    { length: Math.min(workerCount, tasks.length) },
    () => new Worker(new URL(import.meta.url), { workerData: { role: 'generate-windows' } }),
  );
  const done = new Map<number, Result>();
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  let next = 0;
  const assign = (worker: Worker) => {
    const task = tasks[next++];
    if (task) worker.postMessage(task);
  };
  /** Workers that finished a task whose result is not taken yet: one each gets a task per result taken. */
  const waiting: Worker[] = [];
  for (const worker of workers) {
    worker.on('message', (result: Result) => {
      done.set(result.index, result);
      waiting.push(worker);
      wake?.();
    });
    worker.on('error', (err) => {
      failure ??= err;
      wake?.();
    });
    assign(worker);
    assign(worker);
  }
  try {
    for (let index = 0; index < tasks.length; index++) {
      while (!done.has(index)) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      const result = done.get(index)!;
      done.delete(index);
      const idle = waiting.shift();
      if (idle) assign(idle);
      yield result;
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

// ---- worker side --------------------------------------------------------------------------------

function generateWindow(task: WindowTask): WindowFiles | WindowRows {
  const spanLines: string[] = [];
  const patchLines: string[] = [];
  const rows: SpanRow[] = [];
  const patches: StatePatchRow[] = [];
  let traces = 0;
  const mix = workflowMixTraces({
    traces: Number.MAX_SAFE_INTEGER,
    services: task.services,
    // Each window has its own stream, so the data does not depend on the number of workers.
    seed: (task.seed * 1_000_003 + task.index) >>> 0,
    startTimeUnixNano: task.startTimeUnixNano,
  });
  for (const trace of mix) {
    if (rows.length >= task.spanBudget) break;
    const traceId = uniqueTraceId(trace.spans[0]!.span.traceId, task.index, traces);
    traces++;
    for (const { span, serviceName } of trace.spans) {
      span.traceId = traceId;
      const row = processSpan(span, serviceName);
      rows.push(row.span);
      if (task.output === 'rows') {
        patches.push(...row.patches);
        continue;
      }
      spanLines.push(
        JSON.stringify({
          ...row.span,
          start_time: Number(row.span.start_time),
          end_time: Number(row.span.end_time),
        }),
      );
      for (const patch of row.patches) {
        patchLines.push(JSON.stringify({ ...patch, event_time: Number(patch.event_time) }));
      }
    }
  }
  if (task.output === 'rows') return { index: task.index, traces, batch: { spans: rows, patches } };
  const spansFile = path.join(task.dir, `spans-${task.index}.ndjson`);
  const patchesFile = path.join(task.dir, `patches-${task.index}.ndjson`);
  writeFileSync(spansFile, `${spanLines.join('\n')}\n`);
  writeFileSync(patchesFile, `${patchLines.join('\n')}\n`);
  return {
    index: task.index,
    spansFile,
    patchesFile,
    summary: summarizeInsertedSpans(rows),
    traces,
    spans: spanLines.length,
    patches: patchLines.length,
  };
}

/**
 * The mix seeds each trace's PRNG with 31 bits, so a million traces repeat some trace ids (birthday
 * collisions). XOR-ing in the (window, ordinal) pair makes every generated trace id distinct.
 */
function uniqueTraceId(fixtureId: Uint8Array, window: number, ordinal: number): Uint8Array {
  const id = Uint8Array.from(fixtureId);
  const salt = new DataView(new ArrayBuffer(8));
  salt.setUint32(0, window);
  salt.setUint32(4, ordinal);
  for (let i = 0; i < 8; i++) id[i] = id[i]! ^ salt.getUint8(i);
  return id;
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'generate-windows') {
  parentPort!.on('message', (task: WindowTask) => parentPort!.postMessage(generateWindow(task)));
}

// ---- command line -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string' },
      services: { type: 'string', default: '5' },
      'data-dir': { type: 'string' },
      seed: { type: 'string', default: '1' },
      workers: { type: 'string' },
      // The span store as the server picks it (JUNJO_SPAN_STORE and JUNJO_CLICKHOUSE_*), or these.
      store: { type: 'string' },
      'clickhouse-url': { type: 'string' },
      database: { type: 'string' },
    },
  });
  const count = (name: string, raw: string | undefined): number => {
    const n = Number(raw);
    if (!raw || !Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const env = { ...process.env };
  if (values['data-dir']) {
    env.JUNJO_DATA_DIR = values['data-dir'];
    delete env.JUNJO_DUCKDB_PATH;
  }
  if (values.store) env.JUNJO_SPAN_STORE = values.store;
  if (values['clickhouse-url']) env.JUNJO_CLICKHOUSE_URL = values['clickhouse-url'];
  if (values.database) env.JUNJO_CLICKHOUSE_DATABASE = values.database;
  const config = loadConfig(env);
  const spans = count('spans', values.spans);
  const options: GenerateOptions = {
    spans,
    services: count('services', values.services),
    seed: count('seed', values.seed),
    ...(values.workers ? { workers: count('workers', values.workers) } : {}),
    onProgress: (p) =>
      console.log(
        `${p.spans} / ${p.target} spans  ${Math.round(p.spansPerSecond)} spans/s  ETA ${Math.round(p.etaSeconds)} s` +
          (p.windowStoreSeconds === undefined
            ? ''
            : `  (window insert ${p.windowStoreSeconds.toFixed(1)} s)`) +
          `  load ${os.loadavg()[0]!.toFixed(1)}`,
      ),
  };
  const logger = createLogger('warn');
  let result: GenerateResult;
  if (config.spanStore.kind === 'clickhouse') {
    const target = config.spanStore;
    const clickhouse = await ClickHouseSpanStore.open({ ...target, retentionDays: null }, logger);
    await clickhouse.prepare();
    console.log(
      `generating ${spans} spans over ${values.services} services into ClickHouse ${target.url} (${target.database})`,
    );
    result = await generateIntoStore(clickhouse, options).finally(() => clickhouse.close());
  } else {
    const file = config.paths.duckdb;
    const memoryLimit = env.JUNJO_DUCKDB_MEMORY_LIMIT ?? GENERATE_MEMORY_LIMIT;
    console.log(
      `generating ${spans} spans over ${values.services} services into ${file} (DuckDB at ${memoryLimit})`,
    );
    result = await generateDuckDbFile(file, options, memoryLimit);
  }
  console.log(
    `done: ${result.spans} spans, ${result.patches} state patches, ${result.traces} traces; ` +
      `load ${result.loadSeconds.toFixed(1)} s, indexes ${result.indexSeconds.toFixed(1)} s, ` +
      `${Math.round(result.spansPerSecond)} spans/s overall`,
  );
}

// A worker thread's entry module also counts as `main`.
if (import.meta.main && isMainThread) await main();
