// The seam between the span domain and where spans are kept, in the spirit of Jaeger's storage API:
// a writer, a reader with every query the REST API serves, and the maintenance a running server
// needs. Receivers, the poller, retention, /health and the routes depend on these interfaces only;
// db_duckdb/duckdb_span_store.ts implements them, and span_store_contract.ts is the test suite every
// implementation passes.
import type { CompactSpanRow } from './compact_span.ts';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from './rows.ts';
import type { SpanSearch, SpanSearchHit } from './span_search.ts';
import type { WorkflowRunFilter } from './workflow_run_filter.ts';

/** Rows actually inserted; rows already stored (or repeated within the batch) are not counted. */
export interface InsertedCounts {
  spans: number;
  patches: number;
  logRecords: number;
}

export interface SpanWriter {
  /**
   * Spans, then patches, then log records, in ONE transaction (patches may reference spans of the
   * same batch), all or nothing. Log records are kept whether or not their span has arrived yet
   * (the logs and traces exports of an SDK are independent). Idempotent: rows already stored (a replay) are skipped, so the poller may write a
   * batch twice. A patch whose span is neither stored nor in the batch is skipped. Rejects with
   * `storeUnavailable` (errors.ts) when the store cannot write at all; any other rejection means
   * this batch cannot be stored.
   */
  insertBatch(batch: SpanBatch): Promise<InsertedCounts>;
  /**
   * Resolves once the store's own work queued before the next insert is done (DuckDB: a checkpoint
   * or a reopen of its file, ~0.4 s under load). The poller waits for it with a batch converted,
   * and when the wait was long takes in the exports that arrived meanwhile, so that they need not
   * wait for another batch.
   */
  untilWritable?(): Promise<void>;
}

export interface ServiceSummary {
  serviceName: string;
  spanCount: number;
  /** Root spans, i.e. traces started by the service. */
  traceCount: number;
  /** Start of the service's newest span, epoch microseconds. */
  lastSeenMicros: bigint;
}

/** One page of a span list, newest first (start_time, then span_id, descending). */
export interface PageRequest {
  limit: number;
  /** Keyset cursor: only spans strictly older than this (start_time, then span_id when given). */
  before?: { startTime: bigint; spanId?: string };
}

/**
 * Where a trace's spans started, when the caller knows it (epoch microseconds, inclusive): a store
 * may use it to look in fewer partitions. Rows outside it are not returned.
 */
export interface TimeWindow {
  startMicros: bigint;
  endMicros: bigint;
}

/** What workflowStats counts: workflow spans of one service that started in [start, end). */
export interface WorkflowStatsQuery {
  /** Epoch microseconds, a multiple of bucketMicros (inclusive). */
  startMicros: bigint;
  /** Epoch microseconds, a multiple of bucketMicros, after startMicros (exclusive). */
  endMicros: bigint;
  bucketMicros: bigint;
  /** Only the workflow spans with this name; all workflows when absent. */
  workflow?: string;
}

/** One time bucket of one workflow's runs. */
export interface WorkflowStatsBucket {
  /** Epoch microseconds; the bucket holds the runs that started in [start, start + bucketMicros). */
  startMicros: bigint;
  runs: number;
  /** Runs whose status_code is STATUS_CODE_ERROR. */
  errors: number;
  /**
   * Quantiles of the runs' durations (end_time - start_time) in milliseconds, interpolated linearly
   * between the closest ranks (DuckDB quantile_cont, numpy's default, ClickHouse
   * quantileExactInclusive); null in a bucket without runs.
   */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface WorkflowStatsSeries {
  /** The workflow spans' name. */
  workflow: string;
  /** Every bucket of the range in time order, also those without runs (runs 0, errors 0). */
  buckets: WorkflowStatsBucket[];
}

export interface SpanReader {
  /** Every service with a stored span, sorted by name. */
  serviceNames(): Promise<string[]>;
  services(): Promise<ServiceSummary[]>;
  /**
   * Root spans of the service; `llmOnly` keeps those whose trace holds an LLM span (llm_span.ts) in
   * any service. Each span as the UTF-8 bytes of its JSON (span_json.ts renderSpan).
   */
  rootSpanPage(serviceName: string, page: PageRequest, filter: { llmOnly: boolean }): Promise<Uint8Array[]>;
  /** Workflow spans of the service (subflows excluded), as rootSpanPage returns them. */
  workflowSpanPage(serviceName: string, page: PageRequest): Promise<Uint8Array[]>;
  /**
   * The workflow spans of workflowSpanPage that meet every condition of the filter (its doc comment
   * in workflow_run_filter.ts says what each one means), in the same order, with the same keyset
   * paging and the same bytes.
   */
  workflowRunPage(serviceName: string, filter: WorkflowRunFilter, page: PageRequest): Promise<Uint8Array[]>;
  /** Every span of the trace, newest first (start_time, then span_id, descending); [] when unknown. */
  traceSpans(traceId: string, window?: TimeWindow): Promise<SpanRow[]>;
  /**
   * Every span of the trace as compact_span.ts defines it, in traceSpans' order; [] when unknown.
   * For the waterfall and the debugger: a store reads neither the attributes (beyond the few the
   * definition names, and whether the span is an LLM span) nor events other than state and
   * exception events into the answer, so a trace of spans with large prompts answers as fast as one
   * without. Equal to `traceSpans(traceId, window).map(compactSpanOf)`.
   */
  compactTrace(traceId: string, window?: TimeWindow): Promise<CompactSpanRow[]>;
  /**
   * The trace's spans as the waterfall draws them, as the JSON text of an array in traceSpans'
   * order; null when unknown. A store reads none of the debugger's columns (state, graph, state
   * events) into the answer, so a 10,000-span workflow trace costs what its timeline needs, and may
   * render the text itself (DuckDB does: the rows never become JS values). Parses to what
   * `jsonArray(compactTrace(traceId, window).map(waterfallSpanOf).map(renderWaterfallSpan))` does.
   */
  waterfallTraceJson(traceId: string, window?: TimeWindow): Promise<string | null>;
  span(traceId: string, spanId: string, window?: TimeWindow): Promise<SpanRow | null>;
  /**
   * The trace's state patches in the order they happened (event_time, then patch_id), optionally of
   * one store only; the window bounds their event_time.
   */
  statePatches(
    traceId: string,
    options?: { storeId?: string; window?: TimeWindow },
  ): Promise<StatePatchRow[]>;
  /** The span's log records in the order they happened (time, sequence, then log_id); [] when none. */
  spanLogRecords(traceId: string, spanId: string): Promise<LogRecordRow[]>;
  /**
   * Runs, errors and duration quantiles over time of the service's workflow spans (subflows
   * excluded), one series per workflow name that has a run in the range, sorted by name; [] when
   * none has.
   */
  workflowStats(serviceName: string, query: WorkflowStatsQuery): Promise<WorkflowStatsSeries[]>;
  /**
   * Spans of one service that started within the search's window and match every one of its
   * conditions (span_search.ts defines each), newest first (start_time, then span_id, descending),
   * one page at a time; each with a summary of its trace's root span (null while that root is not
   * stored). The window is what bounds the work: callers always give one.
   */
  searchSpans(search: SpanSearch, page: PageRequest): Promise<SpanSearchHit[]>;
}

export interface RetentionStep {
  spans: number;
  patches: number;
  logRecords: number;
  /** Nothing that started before the cutoff is left. */
  done: boolean;
}

export interface SpanStoreStats {
  spans: number;
  /** What the store occupies on disk. */
  bytes: number;
  /** Memory the store's engine holds in this process (caches, indexes, buffers). */
  memoryBytes: number;
  /** The engine's memory cap as it reports it (e.g. `192.0 MiB`). */
  memoryLimit: string;
}

/** Why an embedded engine checkpointed by itself (DuckDB: its writer, between two writes). */
export type CheckpointReason = 'rows_held' | 'idle' | 'requested';
/** Why an embedded engine closed its file and opened it again. */
export type ReopenReason = 'index_memory' | 'failed_commit' | 'fatal_error';

export interface UpkeepTotals {
  count: number;
  /** Wall time in all: the writes (and, for a reopen, the reads) waited this long. */
  seconds: number;
}

/**
 * What an embedded engine did to stay within its memory, since the process started: checkpoints
 * for rows held in memory past their share, after the writer was idle, or asked for (retention,
 * backup, close); reopens for index nodes past their share, or to recover from a failed COMMIT
 * or a fatal error. Frequent index-memory reopens mean the indexes a load reads need a larger
 * memory limit (docs/operations.md).
 */
export interface StoreUpkeep {
  checkpoints: Record<CheckpointReason, UpkeepTotals>;
  reopens: Record<ReopenReason, UpkeepTotals>;
}

export interface SpanStoreMaintenance {
  /** Gets the store ready to serve; idempotent, may take minutes on an older store (a back-fill). */
  prepare(): Promise<void>;
  /**
   * Deletes about `maxSpans` of the oldest spans that started before `cutoffMicros` (ties at the
   * step's boundary go too), with their state patches and log records, and log records older than
   * the cutoff whose span never arrived, keeping whatever the reader derives from
   * spans exact. Retention calls it until `done`, so that no step holds the store for long.
   */
  deleteStartedBefore(cutoffMicros: bigint, maxSpans: number): Promise<RetentionStep>;
  /** After a run of deletions: makes their space reusable (the files need not shrink). */
  reclaimSpace(): Promise<void>;
  /** Cheap figures for /health. */
  stats(): Promise<SpanStoreStats>;
  /** Without a query, for /metrics and /health; null where the engine keeps its own memory (ClickHouse). */
  upkeep(): StoreUpkeep | null;
  /** Copies one committed state of the store to `target` while writes go on (online backup). */
  snapshot(target: string): Promise<{ spans: number; statePatches: number }>;
  /** Finishes queued writes and running reads, then closes. */
  close(): Promise<void>;
}

export interface SpanStore extends SpanWriter, SpanReader, SpanStoreMaintenance {}
