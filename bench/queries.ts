// Span query API latency through HTTP against the real server, on generated Junjo data.
// Generates N spans (scripts/generate.ts) into a temp data dir, starts buildHttpApp with the otel
// routes (no auth guard: the guard's cost is not the query's), then calls every endpoint many
// times with varied parameters and reports p50/p99 per endpoint, the generator's speed and the
// DuckDB file's bytes per span. With `dataDir`, measures an existing data dir (e.g. one filled by
// `npm run generate`) instead.
//
// DuckDB runs with the server's memory limit and threads (JUNJO_DUCKDB_MEMORY_LIMIT/THREADS defaults,
// or --memory-limit): with DuckDB's own default (80% of RAM) the buffer pool would hold blocks the
// server cannot keep. "Warm" for the trace cases means: the server has already read --warm-traces
// other traces (row-group metadata, index nodes and the OS page cache loaded, as in a server that has
// been running), and every measured call then reads a trace that no earlier call of any case has read,
// so its own blocks still come from the file. Repeating a few traces would measure DuckDB's buffer
// pool instead, which at 10M spans holds only a sliver of the file.
// Run alone: node_modules/.bin/node bench/queries.ts --spans 1000000 [--services 5] [--calls 200]
//            node_modules/.bin/node bench/queries.ts --data-dir DIR [--calls 200]
//              [--cases root_spans_limit_50,nested_spans,compact_trace,waterfall_trace] [--skip-storage-report]
//              [--memory-limit 192MiB] [--warm-traces 2000]
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateDuckDbFile } from '../scripts/generate.ts';
import { loadConfig } from '../src/config.ts';
import type { DuckDb } from '../src/db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { formatStorageReport, storageReport } from '../src/db_duckdb/storage_report.ts';
import { otelRoutes } from '../src/features/otel/routes.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { measureCases, round } from './http_harness.ts';
import { runWithServerFlags } from './server_flags.ts';

export interface QueryBenchOptions {
  spans: number;
  services?: number;
  /** Calls per endpoint (after a warm-up of a tenth as many). */
  calls?: number;
  /** Measure this data dir as it is instead of generating into a temp dir. */
  dataDir?: string;
  /** Only these endpoints (names as printed); all when absent. */
  cases?: string[];
  /** Skip the storage report (it rebuilds every index in a scratch file: minutes at 1M spans). */
  skipStorageReport?: boolean;
  /** DuckDB's memory_limit (default: the server's, JUNJO_DUCKDB_MEMORY_LIMIT's default). */
  memoryLimit?: string;
  /** Distinct traces read before the trace cases, none of them measured (default 2000). */
  warmTraces?: number;
}

/** The cases that read one trace each: every call of each gets a trace no other call has read. */
const TRACE_CASES = ['nested_spans', 'compact_trace', 'waterfall_trace', 'span', 'state_patches'] as const;

interface SampledTrace {
  traceId: string;
  spanId: string;
}

interface Sample {
  serviceNames: string[];
  /** Distinct traces, in random order. */
  traces: SampledTrace[];
  cursors: { service: string; before: string; beforeSpanId: string }[];
}

export async function benchQueries(opts: QueryBenchOptions): Promise<Record<string, number>> {
  const services = opts.services ?? 5;
  const calls = opts.calls ?? 200;
  const warmTraces = opts.warmTraces ?? 2000;
  const duckdb = loadConfig({
    ...(opts.memoryLimit !== undefined && { JUNJO_DUCKDB_MEMORY_LIMIT: opts.memoryLimit }),
  }).duckdb;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-queries-'));
  const file = loadConfig({ JUNJO_DATA_DIR: dataDir }).paths.duckdb;
  mkdirSync(path.dirname(file), { recursive: true });
  const result: Record<string, number> = {};
  if (!opts.dataDir) {
    // Generated at the generator's own limit, then measured at the server's (generateDuckDbFile).
    console.log(`generating ${opts.spans} spans over ${services} services…`);
    let lastLine = 0;
    const generated = await generateDuckDbFile(file, {
      spans: opts.spans,
      services,
      seed: 7,
      onProgress: (p) => {
        if (performance.now() - lastLine < 10_000) return;
        lastLine = performance.now();
        console.log(
          `  ${p.spans} spans, ${Math.round(p.spansPerSecond)} spans/s, ETA ${Math.round(p.etaSeconds)} s`,
        );
      },
    });
    console.log(
      `generated ${generated.spans} spans (${generated.patches} patches) in ${generated.totalSeconds.toFixed(0)} s ` +
        `(load ${generated.loadSeconds.toFixed(0)} s + indexes ${generated.indexSeconds.toFixed(0)} s), ` +
        `${Math.round(generated.spansPerSecond)} spans/s`,
    );
    Object.assign(result, {
      generate_seconds: round(generated.totalSeconds),
      generate_spans_per_second: Math.round(generated.spansPerSecond),
      patches: generated.patches,
    });
  }
  const logger = createLogger('warn');
  const store = await DuckDbSpanStore.open(file, logger, duckdb);
  console.log(`DuckDB memory_limit ${duckdb.memoryLimit}, threads ${duckdb.threads}`);
  const { db } = store;
  const app = await buildHttpApp({ logger, guards: [], features: [otelRoutes({ store })] });
  try {
    await store.prepare();
    result.spans = await db.read(async (conn) =>
      Number((await conn.runAndReadAll('SELECT count(*) FROM spans')).getRows()[0]![0]),
    );
    await db.checkpoint();
    result.disk_bytes_per_span = Math.round(statSync(file).size / result.spans!);
    console.log(`${result.spans} spans, ${result.disk_bytes_per_span} disk bytes/span`);
    // The split by table and index is an extra: when it cannot be had (at 10M spans the layout alone
    // outgrew a 192 MiB limit), say so and go on to the queries instead of losing the run.
    const storage = opts.skipStorageReport
      ? null
      : await storageReport(db, `${file}.storage-scratch`).catch((err: unknown) => {
          console.log(
            `storage report skipped: ${String(err).split('\n')[0]} (scripts/storage_report.ts with a larger JUNJO_DUCKDB_MEMORY_LIMIT gives it)`,
          );
          return null;
        });
    if (storage) {
      const perSpan = (bytes: number) => Math.round(bytes / result.spans!);
      for (const line of formatStorageReport(storage, result.spans!)) console.log(line);
      for (const { table, bytes } of storage.tables) result[`disk_${table}_bytes_per_span`] = perSpan(bytes);
      for (const { index, bytes } of storage.indexes) result[`disk_${index}_bytes_per_span`] = perSpan(bytes);
    }

    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // Deep cursors cost 50 large pages to find: only when their case runs.
    const withCursors = !opts.cases || opts.cases.includes('root_spans_next_page');
    const chosenTraceCases = TRACE_CASES.filter((name) => !opts.cases || opts.cases.includes(name));
    // The harness adds a tenth as many warm-up calls per case (measure()).
    const callsPerCase = calls + Math.max(5, Math.round(calls / 10));
    const sample = await sampleParameters(
      base,
      db,
      withCursors,
      warmTraces + callsPerCase * chosenTraceCases.length,
    );
    const pick = <T>(items: T[], i: number): T => items[i % items.length]!;
    // A small store has fewer traces than asked for: the measured calls keep theirs, the warm-up shrinks.
    const warmUp = sample.traces.slice(
      0,
      Math.max(0, Math.min(warmTraces, sample.traces.length - callsPerCase * chosenTraceCases.length)),
    );
    // Each trace case gets its own slice: a trace read by nested_spans is not read again by span.
    const caseTraces = new Map(
      chosenTraceCases.map((name, n) => {
        const first = warmUp.length + n * callsPerCase;
        const own = sample.traces.slice(first, first + callsPerCase);
        return [name, own.length > 0 ? own : sample.traces];
      }),
    );
    const traceOf = (name: (typeof TRACE_CASES)[number], i: number) => pick(caseTraces.get(name)!, i);
    if (chosenTraceCases.length > 0) Object.assign(result, await warmUpTraces(store, warmUp));
    const svc = (i: number) => encodeURIComponent(pick(sample.serviceNames, i));
    const endpoints: Record<string, (i: number) => string> = {
      service_names: () => '/otel/span_service_names',
      services: () => '/otel/services',
      root_spans: (i) => `/otel/service/${svc(i)}/root_spans`,
      root_spans_limit_50: (i) => `/otel/service/${svc(i)}/root_spans?limit=50`,
      root_spans_next_page: (i) => {
        const c = pick(sample.cursors, i);
        return `/otel/service/${encodeURIComponent(c.service)}/root_spans?before=${c.before}&before_span_id=${c.beforeSpanId}`;
      },
      root_spans_filtered: (i) => `/otel/service/${svc(i)}/root_spans_filtered`,
      workflow_spans: (i) => `/otel/spans/type/workflow/${svc(i)}`,
      workflow_spans_limit_50: (i) => `/otel/spans/type/workflow/${svc(i)}?limit=50`,
      nested_spans: (i) => `/otel/trace/${traceOf('nested_spans', i).traceId}/nested_spans`,
      // What the web UI's workflow debugger and trace page ask for (#13's compact trace).
      compact_trace: (i) => `/otel/trace/${traceOf('compact_trace', i).traceId}/compact`,
      waterfall_trace: (i) => `/otel/trace/${traceOf('waterfall_trace', i).traceId}/compact?view=waterfall`,
      span: (i) => {
        const t = traceOf('span', i);
        return `/otel/trace/${t.traceId}/span/${t.spanId}`;
      },
      state_patches: (i) => `/otel/trace/${traceOf('state_patches', i).traceId}/state_patches`,
    };
    const chosen = opts.cases ? Object.entries(endpoints).filter(([name]) => opts.cases!.includes(name)) : [];
    Object.assign(
      result,
      await measureCases(base, opts.cases ? Object.fromEntries(chosen) : endpoints, calls),
    );
    // Reads that load index nodes past their share make the store open its file again; each such
    // reopen is one slow call (README, Memory).
    const reopened = store.upkeep().reopens.index_memory;
    console.log(
      `DuckDB opened its file again ${reopened.count} times to release index nodes (${reopened.seconds.toFixed(1)} s in all, warm-up included)`,
    );
    Object.assign(result, {
      index_memory_reopens: reopened.count,
      index_memory_reopen_seconds: round(reopened.seconds),
    });
    return result;
  } finally {
    await app.close();
    await store.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Reads each trace (all span columns and its state patches) in-process, so that the measured calls
 * find the server as it is after a while of use; prints what that cost.
 */
async function warmUpTraces(store: DuckDbSpanStore, traces: SampledTrace[]): Promise<Record<string, number>> {
  if (traces.length === 0) {
    console.log('no warm-up (--warm-traces 0): the trace cases measure a server that has read no trace yet');
    return { warm_up_traces: 0 };
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const { traceId } of traces) {
    await store.traceSpans(traceId);
    await store.statePatches(traceId);
  }
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / traces.length;
  const memory = await store.db.memory();
  console.log(
    `warm-up: read ${traces.length} distinct traces (spans and state patches) in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
      `${cpuMs.toFixed(1)} ms CPU each; DuckDB holds ${(memory.usedBytes / 2 ** 20).toFixed(0)} MiB of ${memory.limit}. ` +
      'Each trace case below reads traces not read before (by the warm-up or any other call).',
  );
  return { warm_up_traces: traces.length, warm_up_trace_cpu_ms: round(cpuMs) };
}

async function sampleParameters(
  base: string,
  db: DuckDb,
  withCursors: boolean,
  traceCount: number,
): Promise<Sample> {
  const serviceNames = (await (await fetch(`${base}/otel/span_service_names`)).json()) as string[];
  // Sampled spans, one per trace; a few spare rows make up for spans of the same trace.
  const traces = await db.read(async (conn) => {
    const reader = await conn.runAndReadAll(
      `SELECT trace_id, any_value(span_id) FROM (
         SELECT trace_id, span_id FROM spans USING SAMPLE ${Math.ceil(traceCount * 1.05) + 10} ROWS)
       GROUP BY trace_id ORDER BY hash(trace_id)`,
    );
    return reader
      .getRows()
      .map(([traceId, spanId]) => ({ traceId: traceId as string, spanId: spanId as string }));
  });
  if (traces.length < traceCount) {
    console.log(`only ${traces.length} distinct traces sampled of ${traceCount}: some trace calls repeat`);
  }
  // Cursors from real pages, some deep into the history.
  const cursors: Sample['cursors'] = [];
  for (const service of withCursors ? serviceNames : []) {
    let query = '?limit=500';
    for (let page = 0; page < 10; page++) {
      const spans = (await (
        await fetch(`${base}/otel/service/${encodeURIComponent(service)}/root_spans${query}`)
      ).json()) as { start_time: string; span_id: string }[];
      const last = spans.at(-1);
      if (!last) break;
      cursors.push({ service, before: last.start_time, beforeSpanId: last.span_id });
      query = `?limit=2000&before=${last.start_time}&before_span_id=${last.span_id}`;
    }
  }
  return { serviceNames, traces, cursors };
}

if (import.meta.main) {
  runWithServerFlags();
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      services: { type: 'string', default: '5' },
      calls: { type: 'string', default: '200' },
      'data-dir': { type: 'string' },
      cases: { type: 'string' },
      'skip-storage-report': { type: 'boolean', default: false },
      'memory-limit': { type: 'string' },
      'warm-traces': { type: 'string', default: '2000' },
    },
  });
  const result = await benchQueries({
    spans: Number(values.spans),
    services: Number(values.services),
    calls: Number(values.calls),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.cases ? { cases: values.cases.split(',') } : {}),
    skipStorageReport: values['skip-storage-report'],
    ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
    warmTraces: Number(values['warm-traces']),
  });
  console.log(JSON.stringify(result, null, 2));
}
