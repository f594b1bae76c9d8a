// The two span stores side by side, in one run on the same rows (the Junjo workflow mix, converted
// by the span processor, written as the poller writes them: protobuf exports of 512 spans gathered
// into insertBatch calls up to the poller's limits, 4 MiB of exports, ~3,600 spans):
// - indexed spans/s while loading `spans` spans into each, and the process CPU time per span (the
//   figure to trust on a shared machine; chdb runs in this process, so its parsing, compression and
//   merges count. The two alternate chunk by chunk; chdb's background threads (merges) are charged
//   to ClickHouse also while DuckDB inserts, and so are the merges still running after the load);
// - disk bytes per span once loaded (DuckDB after a checkpoint; ClickHouse: its active parts);
// - query p50/p99 at that size for a trace lookup, a 50-row root page, the service list, a compact
//   trace, a search page (attribute + free text over the whole data), a run-filter page (a node ran)
//   and a day of overview figures, on the store (SpanReader), without HTTP, so that only the
//   stores differ;
// - insert → queryable p50/p99 at a fixed rate below both stores' capacity (half the slower one's
//   indexing rate, at most --rate), one export of 512 spans per batch as the poller takes them when
//   it keeps up: from the start of a batch's insertBatch until traceSpans finds its last trace (the
//   WAL fsync and the poller's wake-up come on top, the same for both stores).
// ClickHouse is chdb: the engine in this process, through the same client code as over HTTP.
// Run alone: node_modules/.bin/node bench/span_stores.ts [--spans 1000000] [--data-dir DIR] [--rate 4000] [--rounds 200]
// On stores already filled (npm run generate, for DuckDB and with --store clickhouse), only the
// query figures, on each store's own traces and newest day:
//   node_modules/.bin/node bench/span_stores.ts --duckdb-data-dir DIR --clickhouse-url chdb:///dir [--database junjo]
//     [--queries trace,compact_trace,root_page_50,workflow_page_50]
// An existing DuckDB store is opened with the server's memory limit and threads (JUNJO_DUCKDB_MEMORY_LIMIT,
// JUNJO_DUCKDB_THREADS or their defaults): with DuckDB's own default (80% of RAM) its buffer pool would
// hold far more of a large file than a server's does, and the lookups would look cheaper than they are.
// The indexing loop offers batches back to back (no rate): it measures each store's capacity;
// --rate caps only the insert → queryable measurement's rate.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { ClickHouseSpanStore } from '../src/db_clickhouse/clickhouse_span_store.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { packRequests, workflowMix } from '../src/fixtures/junjo_traces.ts';
import { createLogger } from '../src/logger.ts';
import { encodeTraceRequestProtobuf } from '../src/otlp/encode.ts';
import { processExport } from '../src/spans/export_processor.ts';
import type { SpanBatch } from '../src/spans/rows.ts';
import { processTraceRequest } from '../src/spans/span_processor.ts';
import type { SpanStore } from '../src/spans/span_store.ts';
import { DEFAULT_LIMITS as POLLER_LIMITS } from '../src/telemetry/ingestion_poller.ts';
import { threadCpuSeconds } from './thread_cpu.ts';

const SPANS_PER_EXPORT = 512;
const TRACES_PER_CHUNK = 400;
const SERVICES = 5;
/** Timed calls of each query (--rounds). */
let queryRounds = 200;
/** Only these queries (--queries, names as in measureQueries); all when null. */
let chosenQueries: Set<string> | null = null;
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

/**
 * DuckDB as the server runs it: its memory limit and threads from the environment or the defaults
 * (JUNJO_DUCKDB_MEMORY_LIMIT=16GiB measures it with the machine's memory instead).
 */
const SERVER_DUCKDB = loadConfig(process.env).duckdb;

type Named = { name: 'duckdb' | 'clickhouse'; store: SpanStore };

export async function benchSpanStores(options: Options): Promise<Record<string, number>> {
  const base = options.dataDir ?? os.tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'junjo-bench-stores-'));
  const logger = createLogger('warn');
  const duckdb = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), logger, SERVER_DUCKDB);
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
    const insertCpuMicros = { duckdb: 0, clickhouse: 0 };
    const batcher = new PollerBatches();
    const sampleTraces: string[] = [];
    let chunk = 0;
    while (result.spans! < options.spans) {
      const exports = chunkOfExports(chunk++);
      result.spans! += exports.spans;
      const batches = exports.payloads.flatMap((payload) => batcher.add(payload));
      if (result.spans! >= options.spans) batches.push(...batcher.flush());
      if (batches[0]) sampleTraces.push(batches[0].spans[0]!.trace_id);
      for (const { name, store } of stores) {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const background = chdbBackgroundCpuMicros();
        for (const batch of batches) await store.insertBatch(batch);
        const used = process.cpuUsage(cpu);
        const chdbBackground = chdbBackgroundCpuMicros() - background;
        insertMs[name] += performance.now() - started;
        insertCpuMicros[name] += used.user + used.system - (name === 'duckdb' ? chdbBackground : 0);
        if (name === 'duckdb') insertCpuMicros.clickhouse += chdbBackground;
      }
    }
    const merges = await mergesAfterLoad(clickhouse);
    insertCpuMicros.clickhouse += merges.cpuMicros;
    result.clickhouse_merge_tail_s = merges.seconds;
    for (const { name } of stores) {
      result[`${name}_spans_per_sec`] = Math.round(result.spans! / (insertMs[name] / 1000));
      result[`${name}_cpu_us_per_span`] = Number((insertCpuMicros[name] / result.spans!).toFixed(1));
      result[`${name}_spans_per_cpu_sec`] = Math.round(result.spans! / (insertCpuMicros[name] / 1e6));
    }
    result.clickhouse_to_duckdb_insert_ratio = Number(
      (result.clickhouse_spans_per_sec! / result.duckdb_spans_per_sec!).toFixed(2),
    );
    result.clickhouse_to_duckdb_cpu_ratio = Number(
      (result.clickhouse_spans_per_cpu_sec! / result.duckdb_spans_per_cpu_sec!).toFixed(2),
    );
    await duckdb.reclaimSpace();
    for (const { name, store } of stores) {
      const stats = await store.stats();
      result[`${name}_bytes_per_span`] = Math.round(stats.bytes / stats.spans);
    }
    const service = (await duckdb.serviceNames())[0]!;
    const dataWindow = { startMicros: DATA_START_US, endMicros: DATA_START_US + BigInt(chunk) * HOUR_US };
    const nodeName = chunkOfExportBatches(0)
      .flatMap((batch) => batch.spans)
      .find((span) => span.service_name === service && span.junjo_span_type === 'node')!.name;
    const sample: QuerySample = { traces: sampleTraces, service, window: dataWindow, nodeName };
    for (const { name, store } of stores) Object.assign(result, await measureQueries(name, store, sample));
    // Below both stores' capacity: half the slower one's, at most --rate.
    const slower = Math.min(result.duckdb_spans_per_sec!, result.clickhouse_spans_per_sec!);
    result.insert_to_queryable_rate = Math.min(options.ratePerSec, Math.floor(slower / 2));
    for (const { name, store } of stores) {
      const latencies = await insertToQueryable(store, result.insert_to_queryable_rate, chunk + 1000);
      result[`${name}_insert_to_queryable_p50_ms`] = latencies.p50;
      result[`${name}_insert_to_queryable_p99_ms`] = latencies.p99;
    }
    result.loadavg1_after = os.loadavg()[0]!;
  } finally {
    for (const { store } of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  print(result);
  return result;
}

/** What the queries ask about: traces to look up, a service, a day of data, a node of its runs. */
interface QuerySample {
  traces: string[];
  service: string;
  /** A day of data: search and overview figures read it. */
  window: { startMicros: bigint; endMicros: bigint };
  nodeName: string;
}

async function measureQueries(
  name: Named['name'],
  store: SpanStore,
  sample: QuerySample,
): Promise<Record<string, number>> {
  const { traces, service, window, nodeName } = sample;
  const queries: Record<string, (i: number) => Promise<unknown>> = {
    trace: (i) => store.traceSpans(traces[i % traces.length]!),
    root_page_50: () => store.rootSpanPage(service, { limit: 50 }, { llmOnly: false }),
    workflow_page_50: () => store.workflowSpanPage(service, { limit: 50 }),
    services: () => store.services(),
    compact_trace: (i) => store.compactTrace(traces[i % traces.length]!),
    waterfall_trace: (i) => store.waterfallTraceJson(traces[i % traces.length]!),
    search_attr_50: () =>
      store.searchSpans(
        { serviceName: service, window, attributes: [LLM_MODEL], text: 'gemini' },
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
        startMicros: window.startMicros,
        endMicros: window.startMicros + 24n * HOUR_US,
        bucketMicros: HOUR_US / 4n,
      }),
  };
  const result: Record<string, number> = {};
  for (const [query, run] of Object.entries(queries)) {
    if (chosenQueries && !chosenQueries.has(query)) continue;
    const latencies = await measure(run);
    result[`${name}_${query}_p50_ms`] = latencies.p50;
    result[`${name}_${query}_p99_ms`] = latencies.p99;
    result[`${name}_${query}_cpu_ms`] = latencies.cpuMs;
  }
  return result;
}

/** Query figures on stores filled beforehand (npm run generate), each on its own data. */
export async function benchExistingStores(options: {
  duckdbDataDir?: string;
  clickhouseUrl?: string;
  database: string;
}): Promise<Record<string, number>> {
  const logger = createLogger('warn');
  const stores: Named[] = [];
  if (options.duckdbDataDir) {
    const file = loadConfig({ JUNJO_DATA_DIR: options.duckdbDataDir }).paths.duckdb;
    stores.push({ name: 'duckdb', store: await DuckDbSpanStore.open(file, logger, SERVER_DUCKDB) });
  }
  if (options.clickhouseUrl) {
    const store = await ClickHouseSpanStore.open(
      {
        url: options.clickhouseUrl,
        user: 'default',
        password: '',
        database: options.database,
        cluster: '',
        retentionDays: null,
      },
      logger,
    );
    stores.push({ name: 'clickhouse', store });
  }
  const result: Record<string, number> = { spans: 0, loadavg1: os.loadavg()[0]! };
  try {
    for (const { name, store } of stores) {
      await store.prepare();
      const stats = await store.stats();
      result[`${name}_spans`] = stats.spans;
      result[`${name}_bytes_per_span`] = Math.round(stats.bytes / stats.spans);
      Object.assign(result, await measureQueries(name, store, await sampleOf(store)));
    }
    result.loadavg1_after = os.loadavg()[0]!;
  } finally {
    for (const { store } of stores) await store.close();
  }
  result.spans = Math.max(result.duckdb_spans ?? 0, result.clickhouse_spans ?? 0);
  print(result);
  return result;
}

/** The busiest service's newest 200 root traces, its newest day, and a node its runs ran. */
async function sampleOf(store: SpanStore): Promise<QuerySample> {
  const services = await store.services();
  const service = services.reduce((a, b) => (b.spanCount > a.spanCount ? b : a)).serviceName;
  const roots = (await store.rootSpanPage(service, { limit: 200 }, { llmOnly: false })).map(
    (bytes) => JSON.parse(Buffer.from(bytes).toString()) as { trace_id: string },
  );
  const traces = roots.map((root) => root.trace_id);
  const newest = services.find((s) => s.serviceName === service)!.lastSeenMicros;
  const dayStart = newest - (newest % HOUR_US) - 23n * HOUR_US;
  const spans = await store.traceSpans(traces[0]!);
  const node = spans.find((span) => span.junjo_span_type === 'node')?.name ?? 'none';
  return {
    traces,
    service,
    window: { startMicros: dayStart, endMicros: dayStart + 24n * HOUR_US },
    nodeName: node,
  };
}

/** One chunk of the workflow mix, an hour apart from the previous one. */
function chunkTraces(chunk: number) {
  return workflowMix({
    traces: TRACES_PER_CHUNK,
    services: SERVICES,
    seed: chunk + 1,
    startTimeUnixNano: DATA_START_NS + BigInt(chunk) * HOUR_NS,
  });
}

/** One chunk of the workflow mix, an hour apart from the previous one, as protobuf exports of 512 spans. */
function chunkOfExports(chunk: number): { payloads: Buffer[]; spans: number } {
  const traces = chunkTraces(chunk);
  const requests = packRequests(traces, SPANS_PER_EXPORT);
  return {
    payloads: requests.map((request) => Buffer.from(encodeTraceRequestProtobuf(request))),
    spans: traces.length,
  };
}

/**
 * Exports gathered into batches as the poller reads them (its limits, counted in payload bytes),
 * kept as payloads and converted when the batch closes, as the poller does.
 */
class PollerBatches {
  readonly #limits = POLLER_LIMITS;
  #pending: Buffer[] = [];
  #bytes = 0;

  /** Adds an export; returns the batch it closed, if the export did not fit in it. */
  add(payload: Buffer): SpanBatch[] {
    const full =
      this.#pending.length > 0 &&
      (this.#bytes + payload.length > this.#limits.maxBytes ||
        this.#pending.length >= this.#limits.maxRecords);
    const closed = full ? this.flush() : [];
    this.#pending.push(payload);
    this.#bytes += payload.length;
    return closed;
  }

  /** The batch of the exports waiting, if any. */
  flush(): SpanBatch[] {
    if (this.#pending.length === 0) return [];
    const batch: SpanBatch = { spans: [], patches: [] };
    for (const payload of this.#pending) {
      const { rows } = processExport(payload, 'protobuf', 'traces');
      batch.spans.push(...rows.spans);
      batch.patches.push(...rows.patches);
    }
    this.#pending = [];
    this.#bytes = 0;
    return [batch];
  }
}

// chdb's background threads by name (Linux): merges and their scheduling, ClickHouse's work
// whichever store is inserting when they run.
const CHDB_BACKGROUND_THREAD = /^(MergeMutate|BgSchPool|BgStrmSchPool|BgMBSchPool|MemoryWorker)/;

/** CPU time of chdb's background threads so far, in µs (0 where /proc is missing). */
function chdbBackgroundCpuMicros(): number {
  let seconds = 0;
  for (const [name, spent] of threadCpuSeconds(process.pid)) {
    if (CHDB_BACKGROUND_THREAD.test(name)) seconds += spent;
  }
  return Math.round(seconds * 1e6);
}

/**
 * Waits until ClickHouse has run no merge for 3 s in a row (at most 2 min) after the load; the CPU
 * of its background threads meanwhile is part of what indexing cost it.
 */
async function mergesAfterLoad(store: ClickHouseSpanStore): Promise<{ cpuMicros: number; seconds: number }> {
  const before = chdbBackgroundCpuMicros();
  const started = performance.now();
  let idleSeconds = 0;
  while (idleSeconds < 3 && performance.now() - started < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const result = await store.client.query({
      query: 'SELECT count() FROM system.merges',
      format: 'JSONCompactEachRow',
    });
    const [row] = await result.json<[string]>();
    idleSeconds = Number(row?.[0]) === 0 ? idleSeconds + 1 : 0;
  }
  return {
    cpuMicros: chdbBackgroundCpuMicros() - before,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

/** One chunk of the workflow mix, a batch per export of 512 spans. */
function chunkOfExportBatches(chunk: number): SpanBatch[] {
  return packRequests(chunkTraces(chunk), SPANS_PER_EXPORT).map((request) => processTraceRequest(request));
}

/**
 * Wall-clock p50/p99 and the process CPU per call (chdb runs in this process, so its query threads
 * count; on a shared machine the CPU figure is the steadier one).
 */
async function measure(
  run: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number; cpuMs: number }> {
  for (let i = 0; i < 10; i++) await run(i); // warm-up
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < queryRounds; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return {
    ...percentiles(times),
    cpuMs: Number(((used.user + used.system) / 1000 / queryRounds).toFixed(2)),
  };
}

/**
 * Exports of two chunks at `ratePerSec`, each its own batch (below capacity the poller, woken by
 * every append, takes each export as it lands); each timed until its last trace can be read.
 */
async function insertToQueryable(
  store: SpanStore,
  ratePerSec: number,
  chunk: number,
): Promise<{ p50: number; p99: number }> {
  const batches = [...chunkOfExportBatches(chunk), ...chunkOfExportBatches(chunk + 1)];
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

function print(r: Record<string, number>): void {
  const row = (label: string, key: string, unit = '') =>
    `  ${label.padEnd(34)}${String(r[`duckdb_${key}`] ?? '-').padStart(10)}${unit}  ${String(r[`clickhouse_${key}`] ?? '-').padStart(10)}${unit}`;
  console.log(
    [
      `Span stores, ${r.spans} spans of the Junjo mix (load average ${r.loadavg1?.toFixed(2)} → ${r.loadavg1_after?.toFixed(2)})`,
      `  DuckDB memory_limit ${SERVER_DUCKDB.memoryLimit}, threads ${SERVER_DUCKDB.threads} (the server's settings)`,
      `  ${''.padEnd(34)}${'DuckDB'.padStart(10)}  ${'ClickHouse'.padStart(10)}`,
      row('indexed spans/s (insertBatch)', 'spans_per_sec'),
      row('spans per CPU-second (insertBatch)', 'spans_per_cpu_sec'),
      row('CPU µs per span (insertBatch)', 'cpu_us_per_span'),
      row('disk bytes per span', 'bytes_per_span'),
      row('trace lookup p50', 'trace_p50_ms', ' ms'),
      row('trace lookup p99', 'trace_p99_ms', ' ms'),
      row('trace lookup CPU/call', 'trace_cpu_ms', ' ms'),
      row('50-row root page p50', 'root_page_50_p50_ms', ' ms'),
      row('50-row root page p99', 'root_page_50_p99_ms', ' ms'),
      row('50-row root page CPU/call', 'root_page_50_cpu_ms', ' ms'),
      row('50-row workflow page p50', 'workflow_page_50_p50_ms', ' ms'),
      row('50-row workflow page p99', 'workflow_page_50_p99_ms', ' ms'),
      row('50-row workflow page CPU/call', 'workflow_page_50_cpu_ms', ' ms'),
      row('service list p50', 'services_p50_ms', ' ms'),
      row('service list p99', 'services_p99_ms', ' ms'),
      row('service list CPU/call', 'services_cpu_ms', ' ms'),
      row('compact trace p50', 'compact_trace_p50_ms', ' ms'),
      row('compact trace p99', 'compact_trace_p99_ms', ' ms'),
      row('compact trace CPU/call', 'compact_trace_cpu_ms', ' ms'),
      row('search (attribute + text) p50', 'search_attr_50_p50_ms', ' ms'),
      row('search (attribute + text) p99', 'search_attr_50_p99_ms', ' ms'),
      row('search (attribute + text) CPU/call', 'search_attr_50_cpu_ms', ' ms'),
      row('run filter (node ran) p50', 'run_filter_50_p50_ms', ' ms'),
      row('run filter (node ran) p99', 'run_filter_50_p99_ms', ' ms'),
      row('run filter (node ran) CPU/call', 'run_filter_50_cpu_ms', ' ms'),
      row('workflow stats 24h/15min p50', 'workflow_stats_24h_p50_ms', ' ms'),
      row('workflow stats 24h/15min p99', 'workflow_stats_24h_p99_ms', ' ms'),
      row('workflow stats 24h/15min CPU/call', 'workflow_stats_24h_cpu_ms', ' ms'),
      row(
        `insert → queryable p50 @${r.insert_to_queryable_rate ?? 0}/s`,
        'insert_to_queryable_p50_ms',
        ' ms',
      ),
      row(
        `insert → queryable p99 @${r.insert_to_queryable_rate ?? 0}/s`,
        'insert_to_queryable_p99_ms',
        ' ms',
      ),
      `  ClickHouse / DuckDB indexing rate: ${r.clickhouse_to_duckdb_insert_ratio} (wall), ${r.clickhouse_to_duckdb_cpu_ratio} (CPU)`,
      `  (ClickHouse's CPU includes its merges after the load: ${r.clickhouse_merge_tail_s ?? '-'} s until idle)`,
    ].join('\n'),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      'data-dir': { type: 'string' },
      rate: { type: 'string', default: '4000' },
      'duckdb-data-dir': { type: 'string' },
      'clickhouse-url': { type: 'string' },
      database: { type: 'string', default: 'junjo' },
      rounds: { type: 'string', default: '200' },
      queries: { type: 'string' },
    },
  });
  queryRounds = Number(values.rounds);
  if (values.queries) chosenQueries = new Set(values.queries.split(','));
  if (values['duckdb-data-dir'] || values['clickhouse-url']) {
    await benchExistingStores({
      database: values.database,
      ...(values['duckdb-data-dir'] ? { duckdbDataDir: values['duckdb-data-dir'] } : {}),
      ...(values['clickhouse-url'] ? { clickhouseUrl: values['clickhouse-url'] } : {}),
    });
    process.exit(0);
  }
  await benchSpanStores({
    spans: Number(values.spans),
    ratePerSec: Number(values.rate),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
}
