// The Prometheus registry of one server process (built in server.ts, passed to the routes). Most
// values already exist as counters elsewhere — ingestion's (read through the worker thread, the same
// path /health uses), the poller's, the WAL's — so they are read at scrape time instead of being
// counted twice; only what has no counter yet is observed as it happens: poller batch durations and
// HTTP request durations. Poller series carry a `node` label: `local` in one process, the configured
// ReadSpans address of each ingestion node on a split backend.
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HttpPlugin } from '../../http/app.ts';
import type { IngestionFacts } from '../../ingestion/ingestion_service.ts';
import type { IngestCounters } from '../../ingestion/trace_ingest.ts';
import type { StoreUpkeep, UpkeepTotals } from '../../spans/span_store.ts';
import type { PollerFacts } from '../../telemetry/ingestion_poller.ts';

export interface MetricsSources {
  /** Ingestion's counters; null where ingestion runs in another process (split mode). */
  ingestion: (() => Promise<IngestionFacts>) | null;
  /** Every poller's facts (one per ingestion node). */
  pollers: () => PollerFacts[];
  duckdbPath: string;
  /** The span store's checkpoints and reopens (null with ClickHouse). */
  upkeep: () => StoreUpkeep | null;
}

/** One committed poller batch, as IngestionPoller reports it. */
export interface PollerBatch {
  durationMs: number;
}

const REFUSAL_REASONS: Record<string, keyof IngestCounters> = {
  unauthenticated: 'refused_unauthenticated',
  invalid: 'refused_invalid',
  backpressure: 'refused_backpressure',
  busy: 'refused_busy',
  too_large: 'refused_too_large',
  write_failed: 'refused_write_failed',
};

/** A counter whose value is someone else's running total, read at scrape time. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number | undefined) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      this.reset();
      if (value !== undefined) this.inc(value);
    },
  });
}

/**
 * A per-poller series labelled by node, read at scrape time: a counter for a running total, a gauge
 * for a level. A poller without a value has no sample.
 */
function pollerSeries(
  registry: Registry,
  kind: 'total' | 'level',
  name: string,
  help: string,
  pollers: () => PollerFacts[],
  read: (facts: PollerFacts) => number | null,
) {
  const options = { name, help, labelNames: ['node'], registers: [registry] };
  const samples = () =>
    pollers().flatMap((facts) => {
      const value = read(facts);
      return value === null ? [] : [{ labels: { node: facts.node }, value }];
    });
  if (kind === 'total') {
    return new Counter({
      ...options,
      collect() {
        this.reset();
        for (const { labels, value } of samples()) this.inc(labels, value);
      },
    });
  }
  return new Gauge({
    ...options,
    collect() {
      this.reset();
      for (const { labels, value } of samples()) this.set(labels, value);
    },
  });
}

/**
 * One field of the span store's upkeep totals (checkpoints or reopens) per reason, read at scrape
 * time; no samples where the store has no upkeep.
 */
function upkeepCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Record<string, UpkeepTotals> | undefined,
  field: keyof UpkeepTotals,
) {
  return new Counter({
    name,
    help,
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, totals] of Object.entries(read() ?? {})) this.inc({ reason }, totals[field]);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number | undefined) {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      if (value !== undefined) this.set(value);
    },
  });
}

export class Metrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources;
  /** The facts of the scrape in progress, fetched once for every metric that reads them. */
  #ingestion: IngestionFacts['ingestion'] | undefined;
  #duckdbBytes: number | undefined;
  #upkeep: StoreUpkeep | null = null;
  /** The pollers' facts of the scrape in progress. */
  #pollers: PollerFacts[] = [];
  readonly #batchSeconds: Histogram<'node'>;
  readonly #httpSeconds: Histogram<'method' | 'route' | 'status_code'>;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });
    const ingestion = () => this.#ingestion;
    const pollers = () => this.#pollers;

    totalCounter(
      registry,
      'junjo_exports_accepted_total',
      'Export requests acknowledged (durably written)',
      () => ingestion()?.accepted_requests,
    );
    new Counter({
      name: 'junjo_exports_refused_total',
      help: 'Export requests refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const facts = ingestion();
        this.reset();
        if (!facts) return;
        for (const [reason, counter] of Object.entries(REFUSAL_REASONS)) this.inc({ reason }, facts[counter]);
      },
    });
    totalCounter(
      registry,
      'junjo_spans_received_total',
      'Spans in acknowledged exports',
      () => ingestion()?.accepted_spans,
    );
    totalCounter(
      registry,
      'junjo_spans_rejected_total',
      'Invalid spans dropped from otherwise accepted exports (OTLP partial success)',
      () => ingestion()?.rejected_spans,
    );
    totalCounter(
      registry,
      'junjo_received_bytes_total',
      'Bytes of acknowledged export requests written to the write-ahead log',
      () => ingestion()?.wal.bytes,
    );
    totalCounter(
      registry,
      'junjo_wal_fsyncs_total',
      'fsyncs of the write-ahead log (one per group commit)',
      () => ingestion()?.wal.fsyncs,
    );
    gauge(
      registry,
      'junjo_wal_backlog_bytes',
      'Write-ahead log bytes accepted but not yet indexed',
      () => ingestion()?.backlog_bytes,
    );
    gauge(
      registry,
      'junjo_wal_backlog_records',
      'Write-ahead log records accepted but not yet indexed',
      () => ingestion()?.wal.backlogRecords,
    );
    gauge(registry, 'junjo_wal_segments', 'Write-ahead log segment files', () => ingestion()?.wal.segments);
    gauge(
      registry,
      'junjo_wal_free_disk_bytes',
      'Free disk space where the write-ahead log lives',
      () => ingestion()?.free_disk_bytes,
    );

    pollerSeries(
      registry,
      'total',
      'junjo_spans_indexed_total',
      'Spans the poller inserted into the span store',
      pollers,
      (p) => p.spans_indexed,
    );
    pollerSeries(
      registry,
      'total',
      'junjo_state_patches_indexed_total',
      'State patches the poller inserted',
      pollers,
      (p) => p.patches_indexed,
    );
    pollerSeries(
      registry,
      'total',
      'junjo_poller_records_total',
      'Write-ahead log records the poller committed',
      pollers,
      (p) => p.records,
    );
    pollerSeries(
      registry,
      'total',
      'junjo_poller_dead_lettered_total',
      'Records moved to <data>/dead-letter because they could not be indexed',
      pollers,
      (p) => p.dead_lettered,
    );
    pollerSeries(
      registry,
      'total',
      'junjo_poller_failures_total',
      'Failed poller reads and batches (retried)',
      pollers,
      (p) => p.failures,
    );
    this.#batchSeconds = new Histogram({
      name: 'junjo_poller_batch_duration_seconds',
      help: 'Time to convert and commit one poller batch to the span store',
      labelNames: ['node'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    pollerSeries(
      registry,
      'level',
      'junjo_poller_lag_seconds',
      'While records wait to be indexed: age of the newest record indexed so far (0 when caught up)',
      pollers,
      (p) => p.lag_seconds,
    );
    pollerSeries(
      registry,
      'level',
      'junjo_poller_last_commit_timestamp_seconds',
      'Unix time of the poller’s last committed batch',
      pollers,
      (p) => (p.last_commit_ms_ago === null ? null : (Date.now() - p.last_commit_ms_ago) / 1000),
    );
    pollerSeries(
      registry,
      'level',
      'junjo_poller_up',
      '1 while the poller reads its node, 0 while reads fail (the node is down or refuses)',
      pollers,
      (p) => (p.consecutive_failures === 0 ? 1 : 0),
    );
    gauge(
      registry,
      'junjo_duckdb_file_bytes',
      'Size of the DuckDB database file and its WAL',
      () => this.#duckdbBytes,
    );
    const checkpoints = () => this.#upkeep?.checkpoints;
    const reopens = () => this.#upkeep?.reopens;
    upkeepCounter(
      registry,
      'junjo_duckdb_checkpoints_total',
      'DuckDB checkpoints the writer ran by itself, by reason: rows_held, idle, requested',
      checkpoints,
      'count',
    );
    upkeepCounter(
      registry,
      'junjo_duckdb_checkpoint_seconds_total',
      'Time those checkpoints held up the writes, by reason',
      checkpoints,
      'seconds',
    );
    upkeepCounter(
      registry,
      'junjo_duckdb_reopens_total',
      'DuckDB file closed and opened again, by reason: index_memory (frequent: raise JUNJO_DUCKDB_MEMORY_LIMIT), failed_commit, fatal_error',
      reopens,
      'count',
    );
    upkeepCounter(
      registry,
      'junjo_duckdb_reopen_seconds_total',
      'Time those reopens held up the reads and writes, by reason',
      reopens,
      'seconds',
    );
    this.#httpSeconds = new Histogram({
      name: 'junjo_http_request_duration_seconds',
      help: 'REST API and web UI request durations, by route template and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** IngestionPoller's onBatch hook. */
  observeBatch(node: string, batch: PollerBatch): void {
    this.#batchSeconds.observe({ node }, batch.durationMs / 1000);
  }

  /** The exposition text; reads the ingestion facts, the DuckDB file size and its upkeep once per scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    this.#ingestion = (await this.#sources.ingestion?.())?.ingestion;
    this.#duckdbBytes = await fileBytes(this.#sources.duckdbPath);
    this.#pollers = this.#sources.pollers();
    this.#upkeep = this.#sources.upkeep();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Times every HTTP request (a hook on the whole app, hence fastify-plugin). */
  httpTimer(): HttpPlugin {
    return fp(
      async (app: FastifyInstance) => {
        app.addHook('onResponse', async (request, reply) => {
          this.#httpSeconds.observe(
            {
              method: request.method,
              // The route template keeps the label set small; unmatched paths share one value.
              route: request.routeOptions.url ?? 'unmatched',
              status_code: String(reply.statusCode),
            },
            reply.elapsedTime / 1000,
          );
        });
      },
      { name: 'junjo-http-metrics' },
    );
  }
}

/** The DuckDB file plus its WAL file (absent between checkpoints). */
async function fileBytes(file: string): Promise<number | undefined> {
  const size = async (p: string) => (await stat(p).catch(() => null))?.size ?? 0;
  if (file === ':memory:') return undefined;
  return (await size(file)) + (await size(`${file}.wal`));
}
