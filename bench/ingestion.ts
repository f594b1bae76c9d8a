// Ingestion benchmark: N concurrent OTLP/gRPC clients send realistic 512-span requests of the Junjo
// workflow mix to the real server (child processes: one process, or N ingestion nodes and one
// backend with the clients spread over the nodes) as fast as it acknowledges them, once with
// DuckDB unlimited (its own defaults) and once with the server's default limits; then, on the
// second server, the same mix at fixed rates (25%, 50%, 75% of the indexing capacity it just
// measured). Prints acknowledged spans/s against a baseline receiver that only decodes and
// acknowledges, indexed spans/s limited vs unlimited, ack → queryable lag at full load and at each
// fixed rate, peak RSS, where the receiving process's threads spent their CPU while acknowledging,
// and the load average (the figures are only as quiet as the machine). `--capacity-only` runs just
// the baseline and the full load with the default settings; `--server-env K=V` changes a setting of
// that run (and of the fixed rates after it); `--rounds N` runs the baseline, unlimited and default
// runs N times and adds the median, min and max of the ack ratio and of the indexed ratio;
// `--rates-of N` offers the fixed rates as shares of N spans/s (two builds at the same load);
// `--batch-detail` prints where each full load's and fixed rate's indexing time went, and DuckDB's
// held-memory decisions, checkpoints and reopens meanwhile; `--reader` has a user read in the web UI
// during each fixed rate (uiReader) and prints what those reads took.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { packRequests, workflowMix } from '../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../src/otlp/encode.ts';
import { peakRssBytes } from '../test/hardening/process_stats.ts';
import { createApiKey, type Session, signIn } from '../test/support/accounts.ts';
import { health } from '../test/support/health.ts';
import { freePort } from '../test/support/ports.ts';
import {
  failedPollerBatches,
  type ServerProcess,
  startServerProcess,
} from '../test/support/server_process.ts';
import { envFromPairs } from './server_flags.ts';
import { threadCpuSeconds } from './thread_cpu.ts';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface LoadResult {
  spans: number;
  seconds: number;
  ackLatenciesMs: number[];
  /** [time ms since start, cumulative acknowledged spans] per acknowledgement. */
  acks: Array<[number, number]>;
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

type EncodedRequest = { bytes: Buffer; spans: number };

/** Pre-encodes unique requests so the load generator spends its CPU sending, not building. */
export function buildRequests(totalSpans: number, seed: number, spansPerRequest: number): EncodedRequest[] {
  const spans = workflowMix({ traces: Math.ceil(totalSpans / 14), services: 5, seed });
  return packRequests(spans.slice(0, totalSpans), spansPerRequest).map((request) => ({
    bytes: Buffer.from(encodeTraceRequestProtobuf(request)),
    spans: request.resourceSpans.reduce(
      (sum, rs) => sum + rs.scopeSpans.reduce((inner, ss) => inner + ss.spans.length, 0),
      0,
    ),
  }));
}

/** Exports one request, retrying while the server asks to (backpressure); resolves on the ack. */
async function exportWithRetry(client: grpc.Client, metadata: grpc.Metadata, bytes: Buffer): Promise<void> {
  for (;;) {
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        EXPORT_PATH,
        (value: Buffer) => value,
        (reply: Buffer) => reply,
        bytes,
        metadata,
        (err) => resolve(err),
      ),
    );
    if (!error) return;
    if (error.code !== grpc.status.RESOURCE_EXHAUSTED && error.code !== grpc.status.UNAVAILABLE) throw error;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const apiKeyMetadata = (apiKey: string) => {
  const metadata = new grpc.Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  return metadata;
};
const newClient = (address: string) =>
  new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });

function recordAck(result: LoadResult, request: EncodedRequest, sent: number, start: number): void {
  const now = performance.now();
  result.ackLatenciesMs.push(now - sent);
  result.spans += request.spans;
  result.acks.push([now - start, result.spans]);
}

/**
 * Closed loop: `clients` concurrent exporters, spread over the addresses, each sending its next
 * request once the last is acknowledged.
 */
export async function runLoad(
  addresses: string[],
  apiKey: string,
  clients: number,
  requests: EncodedRequest[],
  start = performance.now(),
): Promise<LoadResult> {
  const result: LoadResult = { spans: 0, seconds: 0, ackLatenciesMs: [], acks: [] };
  let next = 0;
  const metadata = apiKeyMetadata(apiKey);
  const worker = async (index: number) => {
    const client = newClient(addresses[index % addresses.length]!);
    while (next < requests.length) {
      const request = requests[next++]!;
      const sent = performance.now();
      await exportWithRetry(client, metadata, request.bytes);
      recordAck(result, request, sent, start);
    }
    client.close();
  };
  await Promise.all(Array.from({ length: clients }, (_, index) => worker(index)));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/**
 * Open loop: each request leaves at its scheduled time (`spansPerSecond` offered), whether or not
 * the earlier ones were acknowledged, as independent exporters would send; the addresses take
 * turns.
 */
async function runFixedRate(
  addresses: string[],
  apiKey: string,
  spansPerSecond: number,
  requests: EncodedRequest[],
  start = performance.now(),
): Promise<LoadResult> {
  const result: LoadResult = { spans: 0, seconds: 0, ackLatenciesMs: [], acks: [] };
  const metadata = apiKeyMetadata(apiKey);
  const clients = addresses.map(newClient);
  const inFlight: Promise<void>[] = [];
  let offered = 0;
  for (const [index, request] of requests.entries()) {
    const dueMs = (offered / spansPerSecond) * 1000 - (performance.now() - start);
    if (dueMs > 0) await new Promise((resolve) => setTimeout(resolve, dueMs));
    offered += request.spans;
    const sent = performance.now();
    inFlight.push(
      exportWithRetry(clients[index % clients.length]!, metadata, request.bytes).then(() =>
        recordAck(result, request, sent, start),
      ),
    );
  }
  await Promise.all(inFlight);
  for (const client of clients) client.close();
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/** The baseline receiver's rate, and the CPU its (only) thread spent on the load. */
async function baseline(
  clients: number,
  requests: EncodedRequest[],
): Promise<{ spansPerSecond: number; mainThreadCpuS: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'baseline_receiver.ts'), String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  try {
    const before = threadCpuSeconds(child.pid!);
    const load = await runLoad([`127.0.0.1:${port}`], 'none', clients, requests);
    const spent = cpuBetween(before, threadCpuSeconds(child.pid!));
    return { spansPerSecond: load.spans / load.seconds, mainThreadCpuS: spent.MainThread ?? Number.NaN };
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * Acknowledgement → queryable lag of each sampled acknowledgement: the first moment the indexed
 * count (minus what was indexed before the load began) covered every span acknowledged by then.
 */
function lagsMs(load: LoadResult, samples: Array<[number, number]>, indexedBefore: number): number[] {
  return load.acks
    .filter((_, i) => i % Math.max(1, Math.floor(load.acks.length / 400)) === 0)
    .map(([ackedAt, cumulative]) => {
      const sample = samples.find(([, indexed]) => indexed - indexedBefore >= cumulative);
      return sample ? Math.max(0, sample[0] - ackedAt) : Number.NaN;
    });
}

/** Highest figures seen in /health/details while loading (bytes; 0 where the server has none). */
interface MemoryPeaks {
  mainHeapUsed: number;
  ingestionHeapUsed: number;
  duckDbMemory: number;
}
const noPeaks = (): MemoryPeaks => ({ mainHeapUsed: 0, ingestionHeapUsed: 0, duckDbMemory: 0 });

/** Notes the memory figures of /health/details in `peaks`. */
async function notePeaks(baseUrl: string, peaks: MemoryPeaks): Promise<void> {
  const facts = await health(baseUrl);
  peaks.mainHeapUsed = Math.max(peaks.mainHeapUsed, facts.process.heap_used_bytes);
  peaks.ingestionHeapUsed = Math.max(peaks.ingestionHeapUsed, facts.worker_heap_used_bytes ?? 0);
  peaks.duckDbMemory = Math.max(peaks.duckDbMemory, facts.span_store?.memory_bytes ?? 0);
}

// The bench's servers expose /metrics with this token: the lag sampler reads the pollers' indexed
// count there, since /health/details also reads DuckDB (the store's span count and memory), and at
// ~30 samples a second those reads took CPU from the indexing they measured and held up its
// checkpoints and reopens (which wait for reads).
const METRICS_TOKEN = 'junjo-bench-metrics-token';
const INDEXED_SERIES = /^junjo_spans_indexed_total\{[^}]*\} (\S+)$/gm;
// /health/details for the memory peaks this often while sampling, beside the count's samples.
const PEAKS_EVERY_MS = 250;

async function scrapeMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** The pollers' indexed spans, summed over nodes, from /metrics. */
async function indexedFromMetrics(baseUrl: string): Promise<number> {
  let indexed = 0;
  for (const match of (await scrapeMetrics(baseUrl)).matchAll(INDEXED_SERIES)) indexed += Number(match[1]);
  return indexed;
}

// DuckDB's upkeep (README, Memory): what the writer spent on reopens for index memory and on
// checkpoints of its own, the two things a fixed rate's slowest acknowledgements wait behind.
const UPKEEP_SERIES = {
  reopens: 'junjo_duckdb_reopens_total{reason="index_memory"}',
  reopen_seconds: 'junjo_duckdb_reopen_seconds_total{reason="index_memory"}',
  checkpoints: 'junjo_duckdb_checkpoints_total{reason="rows_held"}',
  checkpoint_seconds: 'junjo_duckdb_checkpoint_seconds_total{reason="rows_held"}',
} as const;
type Upkeep = Record<keyof typeof UPKEEP_SERIES, number>;

async function upkeepFromMetrics(baseUrl: string): Promise<Upkeep> {
  const lines = (await scrapeMetrics(baseUrl)).split('\n');
  const value = (series: string) =>
    Number(lines.find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? 0);
  return Object.fromEntries(
    Object.entries(UPKEEP_SERIES).map(([name, series]) => [name, value(series)]),
  ) as Upkeep;
}

/**
 * Runs `send` while sampling the poller's indexed count (and the memory figures, into `peaks`),
 * then waits until everything acknowledged is indexed. Times are from the start of the load.
 */
async function loadAndIndex(
  baseUrl: string,
  send: (start: number) => Promise<LoadResult>,
  peaks: MemoryPeaks = noPeaks(),
): Promise<{ load: LoadResult; indexedSeconds: number; lags: number[]; sampleGapsMs: number[] }> {
  const indexedBefore = await indexedFromMetrics(baseUrl);
  const samples: Array<[number, number]> = [];
  const start = performance.now();
  let sampling = true;
  // A failed sample only coarsens the figures (a kept-alive socket the server just closed); a
  // server that keeps failing ends the run through `samplerFailure`, not as an unhandled
  // rejection that would leave the server processes running.
  let samplerFailure: unknown;
  const sampler = (async () => {
    for (let failures = 0; sampling; ) {
      const at = performance.now() - start;
      try {
        samples.push([at, await indexedFromMetrics(baseUrl)]);
        failures = 0;
      } catch (error) {
        if (++failures === 5) {
          samplerFailure = error;
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  // A missed peak sample only lowers a figure that is a floor anyway.
  const peakSampler = (async () => {
    while (sampling) {
      await notePeaks(baseUrl, peaks).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, PEAKS_EVERY_MS));
    }
  })();
  const load = await send(start);
  while ((samples.at(-1)?.[1] ?? 0) - indexedBefore < load.spans) {
    if (samplerFailure) throw samplerFailure;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  sampling = false;
  await Promise.all([sampler, peakSampler]);
  const indexedAt = samples.find(([, indexed]) => indexed - indexedBefore >= load.spans)![0];
  // A lag is only as fine as the sampling: each gap is one /metrics round trip plus 20 ms (and
  // /health/details' every PEAKS_EVERY_MS).
  const sampleGapsMs = samples.slice(1).map(([at], i) => at - samples[i]![0]);
  return { load, indexedSeconds: indexedAt / 1000, lags: lagsMs(load, samples, indexedBefore), sampleGapsMs };
}

/** Peak resident memory (VmHWM) of the deployment's processes, summed, in MiB. */
function peakRssMiB(processes: ServerProcess[]): number {
  return processes.reduce((sum, server) => sum + (peakRssBytes(server.child.pid!) ?? 0) / 2 ** 20, 0);
}

/** Per thread name, the CPU seconds spent between two threadCpuSeconds() snapshots. */
function cpuBetween(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [name, seconds] of after) spent[name] = round(seconds - (before.get(name) ?? 0), 2);
  return spent;
}

/** DuckDB's own default memory limit (80% of RAM): the "unlimited" reference. */
const UNLIMITED_DUCKDB_ENV = {
  JUNJO_DUCKDB_MEMORY_LIMIT: `${Math.floor((os.totalmem() * 0.8) / 2 ** 20)}MiB`,
  JUNJO_DUCKDB_THREADS: String(os.cpus().length),
};

/** Full load on a fresh deployment: how fast it acknowledges and indexes, and its peak RSS. */
async function capacityRun(
  ingestionNodes: number,
  env: Record<string, string>,
  clients: number,
  requests: EncodedRequest[],
  then?: (
    deployment: Deployment,
    apiKey: string,
    indexedPerSecond: number,
    peaks: MemoryPeaks,
  ) => Promise<void>,
  /** Prints the full load's poller batches under this label (the server must log at debug). */
  detailLabel?: string,
) {
  const deployment = await startDeployment(ingestionNodes, env);
  try {
    const session = await signIn(deployment.backend.baseUrl);
    const { key } = await createApiKey(session);
    const peaks = noPeaks();
    // Where the receiving process's CPU goes while the exports are being acknowledged: its threads,
    // and the receiver's own count of the part spent decoding and validating.
    // (An ingestion node has no HTTP API: its receiver's counters are only read in one process.)
    const receiver = deployment.ingestion[0]!;
    const ackFacts = async () =>
      receiver === deployment.backend ? (await health(receiver.baseUrl)).ingestion : undefined;
    const ackPhase = { threads: {} as Record<string, number>, decodeValidateS: 0, receiverThreadS: 0 };
    const loadStartedAtMs = Date.now();
    const { load, indexedSeconds, lags } = await loadAndIndex(
      deployment.backend.baseUrl,
      async (start) => {
        const [threadsBefore, factsBefore] = [threadCpuSeconds(receiver.child.pid!), await ackFacts()];
        const load = await runLoad(deployment.otlpAddresses, key, clients, requests, start);
        const [threadsAfter, factsAfter] = [threadCpuSeconds(receiver.child.pid!), await ackFacts()];
        ackPhase.threads = cpuBetween(threadsBefore, threadsAfter);
        ackPhase.decodeValidateS =
          ((factsAfter?.decode_validate_cpu_ms ?? 0) - (factsBefore?.decode_validate_cpu_ms ?? 0)) / 1000;
        ackPhase.receiverThreadS =
          ((factsAfter?.thread_cpu_ms ?? 0) - (factsBefore?.thread_cpu_ms ?? 0)) / 1000;
        return load;
      },
      peaks,
    );
    const indexedPerSecond = load.spans / indexedSeconds;
    if (detailLabel) printBatchDetail(detailLabel, deployment.backend.output(), loadStartedAtMs, Date.now());
    await then?.(deployment, key, indexedPerSecond, peaks);
    return {
      peaks,
      ackPhase,
      acked: load.spans / load.seconds,
      ackLatenciesMs: load.ackLatenciesMs,
      indexedPerSecond,
      lags,
      peakRssMiB: peakRssMiB(deployment.processes),
      // A memory limit too low for the load shows as commits DuckDB refuses, which the poller waits out.
      failedBatches: failedPollerBatches(deployment.backend).length,
    };
  } finally {
    await deployment.stop();
  }
}

/** The backend's debug lines that printBatchDetail reads. */
const DETAIL_LINES = [
  '"poller batch"',
  '"DuckDB checkpoint"',
  'DuckDB opened its file again to release',
  'held in memory passed',
];

/**
 * What the poller did during one phase (a full load or a fixed rate), from the backend's debug log:
 * its batches, the slowest of them (the oldest record's wait from receipt to commit, and where the
 * batch's time went), and DuckDB's held-memory decisions, checkpoints and reopens, each at its
 * offset in seconds from the phase's start.
 */
function printBatchDetail(label: string, serverOutput: string, fromMs: number, toMs: number): void {
  type Line = Record<string, number | string | undefined>;
  const lines: Line[] = [];
  for (const text of serverOutput.split('\n')) {
    if (!DETAIL_LINES.some((part) => text.includes(part))) continue;
    try {
      const line = JSON.parse(text) as Line;
      const at = Date.parse(String(line.time));
      if (at >= fromMs && at <= toMs) lines.push({ ...line, at: round((at - fromMs) / 1000, 2) });
    } catch {
      // Not a log line (the server prints nothing else, but a torn line must not stop the bench).
    }
  }
  const batches = lines.filter((line) => line.msg === 'poller batch');
  const sum = (field: string) =>
    Math.round(batches.reduce((total, batch) => total + Number(batch[field] ?? 0), 0));
  process.stdout.write(
    `${label}: ${batches.length} batches, ${sum('spans')} spans; summed ms: read ${sum('readMs')}, ` +
      `convert ${sum('convertMs')}, store wait ${sum('storeWaitMs')}, insert ${sum('insertMs')}, ` +
      `advance ${sum('advanceMs')}, gc ${sum('gcMs')}\n`,
  );
  const slowest = [...batches].sort((a, b) => Number(b.oldestAgeMs) - Number(a.oldestAgeMs)).slice(0, 5);
  console.table(slowest, [
    'at',
    'records',
    'spans',
    'oldestAgeMs',
    'readMs',
    'convertMs',
    'storeWaitMs',
    'arrivedWhileWaiting',
    'insertMs',
    'advanceMs',
    'gcMs',
  ]);
  for (const line of lines) {
    const msg = String(line.msg);
    if (msg === 'DuckDB checkpoint') {
      process.stdout.write(`${label}: DuckDB checkpoint at ${line.at} s took ${line.ms} ms\n`);
    } else if (msg.startsWith('DuckDB opened its file again to release')) {
      process.stdout.write(
        `${label}: DuckDB opened its file again at ${line.at} s (${line.indexMiB} MiB of index nodes, ${line.ms} ms)\n`,
      );
    } else if (msg.includes('held in memory passed')) {
      const mib = (field: string) => Math.round(Number(line[field]) / 2 ** 20);
      process.stdout.write(
        `${label}: rows held in memory at ${line.at} s: ${mib('heldBytes')} MiB (index nodes ${mib('indexBytes')} MiB)\n`,
      );
    }
  }
}

export async function benchIngestion(
  options: {
    spans?: number;
    clients?: number;
    /** 0: one process; N ≥ 1: N ingestion nodes and one backend. */
    ingestionNodes?: number;
    /** Shorthand for `ingestionNodes: 1`. */
    split?: boolean;
    fixedRateSeconds?: number;
    /** Only the baseline and the full load with the default settings (ack ratio, indexed rate, RSS). */
    capacityOnly?: boolean;
    /** Only the full load with the default settings and the fixed rates (no baseline, no unlimited run). */
    fixedRatesOnly?: boolean;
    /**
     * Offer the fixed rates as shares of this many spans/s instead of the capacity just measured:
     * two builds compared at the same offered load (the measured capacity moves ±15 % run to run).
     */
    ratesOf?: number;
    /** The server logs every poller batch (debug); each fixed-rate phase prints its slowest batches. */
    batchDetail?: boolean;
    /** A user reads in the web UI during each fixed rate (uiReader): its reads' p50/p99 too. */
    reader?: boolean;
    /** Settings of the run with the server's defaults, to compare one (e.g. JUNJO_DUCKDB_MEMORY_LIMIT). */
    serverEnv?: Record<string, string>;
    /**
     * Rounds of the baseline, unlimited and default-settings runs (the last one with the fixed rates):
     * the ack ratio and the indexed ratio are then also given as median, min and max over the rounds.
     */
    rounds?: number;
    /**
     * Seed of the full load's spans (default 7). Into a copy of a store that `npm run generate`
     * filled, another one: the generator's seeds give the same trace ids, which the store ignores.
     */
    seed?: number;
  } = {},
): Promise<Record<string, number>> {
  const totalSpans = options.spans ?? 200_000;
  const clients = options.clients ?? 8;
  const ingestionNodes = options.ingestionNodes ?? (options.split ? 1 : 0);
  const fixedRateSeconds = options.fixedRateSeconds ?? 20;
  process.stdout.write(`ingestion: building ${totalSpans} spans of the Junjo mix in 512-span requests…\n`);
  const requests = buildRequests(totalSpans, options.seed ?? 7, 512);
  // On a shared machine each of these runs moves by ±15 % from one run to the next, so one round can
  // neither show the two ratios met nor broken: the earlier rounds run the same three, one after the
  // other, and only their ratios are kept.
  const rounds = options.capacityOnly || options.fixedRatesOnly ? 1 : Math.max(1, options.rounds ?? 1);
  const roundRatios: Array<{ indexed: number; ack: number }> = [];
  for (let n = 1; n < rounds; n++) {
    process.stdout.write(`ingestion: round ${n} of ${rounds}: baseline, unlimited, default settings…\n`);
    const base = await baseline(clients, requests);
    const free = await capacityRun(ingestionNodes, UNLIMITED_DUCKDB_ENV, clients, requests);
    const limits = await capacityRun(ingestionNodes, options.serverEnv ?? {}, clients, requests);
    roundRatios.push({
      indexed: limits.indexedPerSecond / free.indexedPerSecond,
      ack: limits.acked / base.spansPerSecond,
    });
  }
  const baselineRun = options.fixedRatesOnly
    ? { spansPerSecond: Number.NaN, mainThreadCpuS: Number.NaN }
    : await baseline(clients, requests);
  const baselineSpansPerSecond = baselineRun.spansPerSecond;

  let unlimited: Awaited<ReturnType<typeof capacityRun>> | undefined;
  if (!options.capacityOnly && !options.fixedRatesOnly) {
    process.stdout.write('ingestion: full load, DuckDB unlimited (its defaults)…\n');
    unlimited = await capacityRun(
      ingestionNodes,
      { ...UNLIMITED_DUCKDB_ENV, ...(options.batchDetail && { JUNJO_LOG_LEVEL: 'debug' }) },
      clients,
      requests,
      undefined,
      options.batchDetail ? 'unlimited_full_load' : undefined,
    );
  }

  // With the server's defaults: full load, then offered load at fixed fractions of the capacity it
  // just measured, on the same server (its tables already hold the full load's spans).
  process.stdout.write('ingestion: full load with the default settings, then fixed rates…\n');
  const fixedRates: Record<string, number> = {};
  const limited = await capacityRun(
    ingestionNodes,
    { ...options.serverEnv, ...(options.batchDetail && { JUNJO_LOG_LEVEL: 'debug' }) },
    clients,
    requests,
    async (deployment, key, capacity, peaks) => {
      if (options.capacityOnly) return;
      const backendPid = deployment.backend.child.pid!;
      const user = options.reader ? await signIn(deployment.backend.baseUrl) : undefined;
      for (const [index, share] of [0.25, 0.5, 0.75].entries()) {
        const rate = (options.ratesOf ?? capacity) * share;
        const paced = buildRequests(Math.ceil(rate * fixedRateSeconds), 100 + index, 128);
        const [phaseStartedAtMs, cpuBefore] = [Date.now(), threadCpuSeconds(backendPid)];
        const upkeepBefore = await upkeepFromMetrics(deployment.backend.baseUrl);
        let loading = true;
        const reads = user && uiReader(user, () => loading);
        const { load, lags, sampleGapsMs } = await loadAndIndex(
          deployment.backend.baseUrl,
          (start) => runFixedRate(deployment.otlpAddresses, key, rate, paced, start),
          peaks,
        ).finally(() => {
          loading = false;
        });
        const cpu = cpuBetween(cpuBefore, threadCpuSeconds(backendPid));
        const upkeepAfter = await upkeepFromMetrics(deployment.backend.baseUrl);
        const label = `at_${share * 100}pct`;
        fixedRates[`${label}_offered_spans_per_s`] = Math.round(rate);
        fixedRates[`${label}_ack_to_queryable_p50_ms`] = round(percentile(lags, 50));
        fixedRates[`${label}_ack_to_queryable_p99_ms`] = round(percentile(lags, 99));
        fixedRates[`${label}_sample_gap_p99_ms`] = round(percentile(sampleGapsMs, 99));
        for (const name of Object.keys(UPKEEP_SERIES) as Array<keyof Upkeep>) {
          fixedRates[`${label}_${name}`] = round(upkeepAfter[name] - upkeepBefore[name], 2);
        }
        // The backend's main thread (poller, REST API; DuckDB's own threads carry its name too).
        fixedRates[`${label}_main_thread_cpu_ms_per_1k_spans`] = round(
          ((cpu.MainThread ?? Number.NaN) * 1e6) / load.spans,
        );
        if (reads) Object.assign(fixedRates, readerFigures(label, await reads));
        if (options.batchDetail) {
          printBatchDetail(label, deployment.backend.output(), phaseStartedAtMs, Date.now());
        }
      }
    },
    options.batchDetail ? 'default_full_load' : undefined,
  );

  roundRatios.push({
    indexed: limited.indexedPerSecond / (unlimited?.indexedPerSecond ?? Number.NaN),
    ack: limited.acked / baselineSpansPerSecond,
  });
  const [load1, load5] = os.loadavg();
  const results = {
    clients,
    split_mode: ingestionNodes > 0 ? 1 : 0,
    ingestion_nodes: ingestionNodes,
    spans: totalSpans,
    acknowledged_spans_per_s: Math.round(limited.acked),
    ack_p50_ms: round(percentile(limited.ackLatenciesMs, 50)),
    ack_p99_ms: round(percentile(limited.ackLatenciesMs, 99)),
    indexed_spans_per_s: Math.round(limited.indexedPerSecond),
    indexed_spans_per_s_unlimited: Math.round(unlimited?.indexedPerSecond ?? Number.NaN),
    indexed_limited_to_unlimited: round(
      limited.indexedPerSecond / (unlimited?.indexedPerSecond ?? Number.NaN),
      2,
    ),
    overload_ack_to_queryable_p50_ms: round(percentile(limited.lags, 50)),
    overload_ack_to_queryable_p99_ms: round(percentile(limited.lags, 99)),
    ...fixedRates,
    server_peak_rss_mib: round(limited.peakRssMiB),
    poller_batches_failed: limited.failedBatches,
    server_peak_rss_mib_unlimited: round(unlimited?.peakRssMiB ?? Number.NaN),
    // The backend's share of that peak as /health/details saw it (sampled, so a floor of the truth).
    main_heap_peak_mib: round(limited.peaks.mainHeapUsed / 2 ** 20),
    ingestion_heap_peak_mib: round(limited.peaks.ingestionHeapUsed / 2 ** 20),
    duckdb_memory_peak_mib: round(limited.peaks.duckDbMemory / 2 ** 20),
    // While the limited run's exports were being acknowledged: the receiving thread's CPU per 1,000
    // spans and the part of it spent decoding and validating (one process only), then every thread
    // group of the receiving process in CPU seconds.
    ack_thread_cpu_ms_per_1k_spans: round((limited.ackPhase.receiverThreadS * 1e6) / totalSpans, 2),
    ack_thread_decode_validate_ms_per_1k_spans: round(
      (limited.ackPhase.decodeValidateS * 1e6) / totalSpans,
      2,
    ),
    ...Object.fromEntries(
      Object.entries(limited.ackPhase.threads).map(([name, seconds]) => [`ack_phase_cpu_s_${name}`, seconds]),
    ),
    baseline_spans_per_s: Math.round(baselineSpansPerSecond),
    baseline_thread_cpu_ms_per_1k_spans: round((baselineRun.mainThreadCpuS * 1e6) / totalSpans, 2),
    ratio_to_baseline: round(limited.acked / baselineSpansPerSecond, 2),
    ...(rounds > 1 && {
      rounds,
      ...spread(
        'indexed_limited_to_unlimited',
        roundRatios.map((r) => r.indexed),
      ),
      ...spread(
        'ratio_to_baseline',
        roundRatios.map((r) => r.ack),
      ),
    }),
    load_average_1m: round(load1!, 2),
    load_average_5m: round(load5!, 2),
  };
  console.table(results);
  return results;
}

/**
 * A user with the web UI open while the load runs: once a second the newest 50-row root page of the
 * next service and the waterfall of the newest trace on it (what the trace list and the trace page
 * ask for), until `running()` turns false. Read through the REST API with a session, as the UI does.
 */
async function uiReader(user: Session, running: () => boolean) {
  const figures = { pageMs: [] as number[], traceMs: [] as number[], failed: 0 };
  const timedGet = async (path: string, into: number[]) => {
    const started = performance.now();
    const response = await user.request('GET', path);
    const body = await response.text();
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 200)}`);
    into.push(performance.now() - started);
    return body;
  };
  for (let call = 0; running(); call++) {
    const started = performance.now();
    try {
      const services = JSON.parse(await timedGet('/otel/span_service_names', [])) as string[];
      const service = services[call % Math.max(1, services.length)];
      if (service !== undefined) {
        const page = `/otel/service/${encodeURIComponent(service)}/root_spans?limit=50`;
        const [newest] = JSON.parse(await timedGet(page, figures.pageMs)) as Array<{ trace_id: string }>;
        if (newest) await timedGet(`/otel/trace/${newest.trace_id}/compact?view=waterfall`, figures.traceMs);
      }
    } catch (error) {
      figures.failed++;
      if (figures.failed === 1) process.stdout.write(`ui reader: ${String(error)}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (performance.now() - started))));
  }
  return figures;
}

function readerFigures(label: string, reads: Awaited<ReturnType<typeof uiReader>>): Record<string, number> {
  return {
    [`${label}_reader_page_p50_ms`]: round(percentile(reads.pageMs, 50)),
    [`${label}_reader_page_p99_ms`]: round(percentile(reads.pageMs, 99)),
    [`${label}_reader_trace_p50_ms`]: round(percentile(reads.traceMs, 50)),
    [`${label}_reader_trace_p99_ms`]: round(percentile(reads.traceMs, 99)),
    [`${label}_reader_failed`]: reads.failed,
  };
}

/** `<name>_median`, `_min` and `_max` of the values, to two decimals. */
function spread(name: string, values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median =
    sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    [`${name}_median`]: round(median, 2),
    [`${name}_min`]: round(sorted[0]!, 2),
    [`${name}_max`]: round(sorted.at(-1)!, 2),
  };
}

interface Deployment {
  backend: ServerProcess;
  /** Where the exporters send: every ingestion node's OTLP/gRPC address. */
  otlpAddresses: string[];
  /** The processes that receive exports (in one process, the backend itself). */
  ingestion: ServerProcess[];
  processes: ServerProcess[];
  stop: () => Promise<void>;
}

/** One process (0 nodes), or N ingestion nodes and one backend with a poller per node (split mode). */
async function startDeployment(
  ingestionNodes: number,
  settings: Record<string, string>,
): Promise<Deployment> {
  const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const env: Record<string, string> = {
    ...settings,
    JUNJO_METRICS_TOKEN: METRICS_TOKEN,
    ...(nodeOptions && { NODE_OPTIONS: nodeOptions }),
  };
  const deployment = (backend: ServerProcess, ingestion: ServerProcess[]): Deployment => {
    // A single process is both the backend and its only ingestion node: stop it (and count it) once.
    const processes = [...new Set([...ingestion, backend])];
    return {
      backend,
      otlpAddresses: ingestion.map((node) => `127.0.0.1:${node.ports.otlpGrpc}`),
      ingestion,
      processes,
      stop: async () => {
        for (const child of processes) {
          await child.stop('SIGTERM');
          await child.cleanup();
        }
      },
    };
  };
  if (ingestionNodes === 0) {
    const server = await startServerProcess({ env });
    return deployment(server, [server]);
  }
  const internalAuth = await freePort();
  const ingestion: ServerProcess[] = [];
  for (let index = 0; index < ingestionNodes; index++) {
    ingestion.push(
      await startServerProcess({
        env: { ...env, JUNJO_ROLE: 'ingestion', JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${internalAuth}` },
      }),
    );
  }
  const backend = await startServerProcess({
    ports: { internalAuth },
    env: {
      ...env,
      JUNJO_ROLE: 'backend',
      JUNJO_INGESTION_ADDRESS: ingestion.map((node) => `127.0.0.1:${node.ports.readSpans}`).join(','),
    },
  });
  return deployment(backend, ingestion);
}

if (import.meta.main) {
  const arg = (name: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : undefined;
  };
  await benchIngestion({
    spans: arg('spans'),
    clients: arg('clients'),
    // --split: one ingestion node and a backend; --nodes N: N ingestion nodes and a backend.
    ingestionNodes: arg('nodes') ?? (process.argv.includes('--split') ? 1 : 0),
    fixedRateSeconds: arg('fixed-rate-seconds'),
    capacityOnly: process.argv.includes('--capacity-only'),
    fixedRatesOnly: process.argv.includes('--fixed-rates-only'),
    // --rates-of N: the fixed rates as 25/50/75 % of N spans/s, not of the capacity just measured.
    ratesOf: arg('rates-of'),
    batchDetail: process.argv.includes('--batch-detail'),
    reader: process.argv.includes('--reader'),
    // --rounds N: N rounds of baseline, unlimited and defaults, the ratios' median, min and max.
    rounds: arg('rounds'),
    // --seed N: other spans than the default seed's (e.g. into a copy of a generated store).
    seed: arg('seed'),
    // --server-env K=V (repeatable): a setting of the default-settings run, e.g. another memory limit.
    serverEnv: envFromPairs(
      process.argv.flatMap((value, index) => (process.argv[index - 1] === '--server-env' ? [value] : [])),
    ),
  });
}
