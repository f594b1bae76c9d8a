// The two span stores side by side, in one run on the same rows (the Junjo workflow mix, converted
// by the span processor, written as the poller writes them: insertBatch in batches of ~2000 spans):
// - indexed spans/s while loading `spans` spans into each;
// - disk bytes per span once loaded (DuckDB after a checkpoint; ClickHouse: its active parts);
// - query p50/p99 at that size for a trace lookup, a 50-row root page, the service list, a compact
//   trace, a search page (attribute + free text over the whole data), a run-filter page (a node ran)
//   and a day of overview figures, on the store (SpanReader), without HTTP, so that only the
//   stores differ;
// - insert → queryable p50/p99 at a fixed rate below capacity: from the start of a batch's
//   insertBatch until traceSpans finds its last trace (the WAL fsync and the poller's wake-up come
//   on top, the same for both stores).
// ClickHouse is chdb: the engine in this process, through the same client code as over HTTP.
// Run alone: node_modules/.bin/node bench/span_stores.ts [--spans 1000000] [--data-dir DIR] [--rate 4000]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClickHouseSpanStore } from '../src/db_clickhouse/clickhouse_span_store.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { packRequests, workflowMix } from '../src/fixtures/junjo_traces.ts';
import { createLogger } from '../src/logger.ts';
import type { SpanBatch } from '../src/spans/rows.ts';
import { processTraceRequest } from '../src/spans/span_processor.ts';
import type { SpanStore } from '../src/spans/span_store.ts';

const BATCH_SPANS = 2000;
const TRACES_PER_CHUNK = 400;
const SERVICES = 5;
const QUERY_ROUNDS = 200;
const HOUR_NS = 3_600_000_000_000n;
const HOUR_US = HOUR_NS / 1000n;
const DATA_START_NS = 1_749_000_000_000_000_000n;
/** The first chunk's hour, rounded down: workflowStats takes whole buckets. */
const DATA_START_US = DATA_START_NS / 1000n - ((DATA_START_NS / 1000n) % HOUR_US);
const LLM_MODEL = { key: 'llm.model_name', op: 'equals', value: 'gemini-2.5-flash' } as const;

interface Options {
  spans: number;
  /** Where the stores are kept (a fresh directory under it); the OS temp dir by default. */
  dataDir?: string;
  /** Spans per second for the insert → queryable measurement. */
  ratePerSec: number;
}

type Named = { name: 'duckdb' | 'clickhouse'; store: SpanStore };

export async function benchSpanStores(options: Options): Promise<Record<string, number>> {
  const base = options.dataDir ?? os.tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'junjo-bench-stores-'));
  const logger = createLogger('warn');
  const duckdb = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), logger);
  const clickhouse = await ClickHouseSpanStore.open(
    {
      url: `chdb://${path.join(dir, 'chdb')}`,
      user: 'default',
      password: '',
      database: 'bench',
      cluster: '',
      retentionDays: null,
    },
    logger,
  );
  const stores: Named[] = [
    { name: 'duckdb', store: duckdb },
    { name: 'clickhouse', store: clickhouse },
  ];
  const result: Record<string, number> = { spans: 0, loadavg1: os.loadavg()[0]! };
  try {
    for (const { store } of stores) await store.prepare();
    const insertMs = { duckdb: 0, clickhouse: 0 };
    const sampleTraces: string[] = [];
    let chunk = 0;
    while (result.spans! < options.spans) {
      const batches = chunkOfBatches(chunk++);
      for (const { name, store } of stores) {
        const started = performance.now();
        for (const batch of batches) await store.insertBatch(batch);
        insertMs[name] += performance.now() - started;
      }
      result.spans! += batches.reduce((n, b) => n + b.spans.length, 0);
      sampleTraces.push(batches[0]!.spans[0]!.trace_id);
    }
    for (const { name } of stores)
      result[`${name}_spans_per_sec`] = Math.round(result.spans! / (insertMs[name] / 1000));
    result.clickhouse_to_duckdb_insert_ratio = Number(
      (result.clickhouse_spans_per_sec! / result.duckdb_spans_per_sec!).toFixed(2),
    );
    await duckdb.reclaimSpace();
    for (const { name, store } of stores) {
      const stats = await store.stats();
      result[`${name}_bytes_per_span`] = Math.round(stats.bytes / stats.spans);
    }
    const service = (await duckdb.serviceNames())[0]!;
    const dataWindow = { startMicros: DATA_START_US, endMicros: DATA_START_US + BigInt(chunk) * HOUR_US };
    const nodeName = chunkOfBatches(0)
      .flatMap((batch) => batch.spans)
      .find((span) => span.service_name === service && span.junjo_span_type === 'node')!.name;
    for (const { name, store } of stores) {
      const queries: Record<string, (i: number) => Promise<unknown>> = {
        trace: (i) => store.traceSpans(sampleTraces[i % sampleTraces.length]!),
        root_page_50: () => store.rootSpanPage(service, { limit: 50 }, { llmOnly: false }),
        services: () => store.services(),
        compact_trace: (i) => store.compactTrace(sampleTraces[i % sampleTraces.length]!),
        search_attr_50: () =>
          store.searchSpans(
            { serviceName: service, window: dataWindow, attributes: [LLM_MODEL], text: 'gemini' },
            { limit: 50 },
          ),
        run_filter_50: () =>
          store.workflowRunPage(
            service,
            { nodes: [nodeName], notNodes: [], failedNodes: [], stateOf: 'end', state: [] },
            { limit: 50 },
          ),
        workflow_stats_24h: () =>
          store.workflowStats(service, {
            startMicros: DATA_START_US,
            endMicros: DATA_START_US + 24n * HOUR_US,
            bucketMicros: HOUR_US / 4n,
          }),
      };
      for (const [query, run] of Object.entries(queries)) {
        const latencies = await measure(run);
        result[`${name}_${query}_p50_ms`] = latencies.p50;
        result[`${name}_${query}_p99_ms`] = latencies.p99;
      }
    }
    for (const { name, store } of stores) {
      const latencies = await insertToQueryable(store, options.ratePerSec, chunk + 1000);
      result[`${name}_insert_to_queryable_p50_ms`] = latencies.p50;
      result[`${name}_insert_to_queryable_p99_ms`] = latencies.p99;
    }
    result.loadavg1_after = os.loadavg()[0]!;
  } finally {
    for (const { store } of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  print(result, options);
  return result;
}

/** One chunk of the workflow mix, an hour apart from the previous one, in poller-sized batches. */
function chunkOfBatches(chunk: number): SpanBatch[] {
  const traces = workflowMix({
    traces: TRACES_PER_CHUNK,
    services: SERVICES,
    seed: chunk + 1,
    startTimeUnixNano: DATA_START_NS + BigInt(chunk) * HOUR_NS,
  });
  const batches: SpanBatch[] = [];
  let current: SpanBatch = { spans: [], patches: [] };
  for (const request of packRequests(traces, 512)) {
    const converted = processTraceRequest(request);
    current.spans.push(...converted.spans);
    current.patches.push(...converted.patches);
    if (current.spans.length >= BATCH_SPANS) {
      batches.push(current);
      current = { spans: [], patches: [] };
    }
  }
  if (current.spans.length > 0) batches.push(current);
  return batches;
}

async function measure(run: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 10; i++) await run(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < QUERY_ROUNDS; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return percentiles(times);
}

/** Batches of ~BATCH_SPANS at `ratePerSec`; each timed until its last trace can be read. */
async function insertToQueryable(
  store: SpanStore,
  ratePerSec: number,
  chunk: number,
): Promise<{ p50: number; p99: number }> {
  const batches = [...chunkOfBatches(chunk), ...chunkOfBatches(chunk + 1)];
  const times: number[] = [];
  const started = performance.now();
  let sent = 0;
  for (const batch of batches) {
    // Keep to the rate: the batch goes when the spans before it are due.
    const due = started + (sent / ratePerSec) * 1000;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    const begin = performance.now();
    await store.insertBatch(batch);
    const last = batch.spans.at(-1)!.trace_id;
    while ((await store.traceSpans(last)).length === 0) await new Promise((resolve) => setImmediate(resolve));
    times.push(performance.now() - begin);
    sent += batch.spans.length;
  }
  return percentiles(times);
}

function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
  return { p50: at(0.5), p99: at(0.99) };
}

function print(r: Record<string, number>, options: Options): void {
  const row = (label: string, key: string, unit = '') =>
    `  ${label.padEnd(34)}${String(r[`duckdb_${key}`]).padStart(10)}${unit}  ${String(r[`clickhouse_${key}`]).padStart(10)}${unit}`;
  console.log(
    [
      `Span stores, ${r.spans} spans of the Junjo mix (load average ${r.loadavg1?.toFixed(2)} → ${r.loadavg1_after?.toFixed(2)})`,
      `  ${''.padEnd(34)}${'DuckDB'.padStart(10)}  ${'ClickHouse'.padStart(10)}`,
      row('indexed spans/s (insertBatch)', 'spans_per_sec'),
      row('disk bytes per span', 'bytes_per_span'),
      row('trace lookup p50', 'trace_p50_ms', ' ms'),
      row('trace lookup p99', 'trace_p99_ms', ' ms'),
      row('50-row root page p50', 'root_page_50_p50_ms', ' ms'),
      row('50-row root page p99', 'root_page_50_p99_ms', ' ms'),
      row('service list p50', 'services_p50_ms', ' ms'),
      row('service list p99', 'services_p99_ms', ' ms'),
      row('compact trace p50', 'compact_trace_p50_ms', ' ms'),
      row('compact trace p99', 'compact_trace_p99_ms', ' ms'),
      row('search (attribute + text) p50', 'search_attr_50_p50_ms', ' ms'),
      row('search (attribute + text) p99', 'search_attr_50_p99_ms', ' ms'),
      row('run filter (node ran) p50', 'run_filter_50_p50_ms', ' ms'),
      row('run filter (node ran) p99', 'run_filter_50_p99_ms', ' ms'),
      row('workflow stats 24h/15min p50', 'workflow_stats_24h_p50_ms', ' ms'),
      row('workflow stats 24h/15min p99', 'workflow_stats_24h_p99_ms', ' ms'),
      row(`insert → queryable p50 @${options.ratePerSec}/s`, 'insert_to_queryable_p50_ms', ' ms'),
      row(`insert → queryable p99 @${options.ratePerSec}/s`, 'insert_to_queryable_p99_ms', ' ms'),
      `  ClickHouse / DuckDB indexing rate: ${r.clickhouse_to_duckdb_insert_ratio}`,
    ].join('\n'),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      'data-dir': { type: 'string' },
      rate: { type: 'string', default: '4000' },
    },
  });
  await benchSpanStores({
    spans: Number(values.spans),
    ratePerSec: Number(values.rate),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
}
