// The SpanStore (spans/span_store.ts) on one embedded DuckDB file: inserts through the span
// repository (appender, INSERT OR IGNORE fallback), reads through span_queries.ts on the reader pool,
// retention through span_retention.ts. Every read runs on a reader connection, so it never waits for
// the ingestion writer, and in one snapshot (one statement, or one read transaction for a list page),
// so an insert batch is either wholly visible or not at all.
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '../logger.ts';
import type { CompactSpanRow } from '../spans/compact_span.ts';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from '../spans/rows.ts';
import type { SpanSearch, SpanSearchHit } from '../spans/span_search.ts';
import type {
  InsertedCounts,
  PageRequest,
  RetentionStep,
  ServiceSummary,
  SpanStore,
  SpanStoreStats,
  StoreUpkeep,
  TimeWindow,
  WorkflowStatsQuery,
  WorkflowStatsSeries,
} from '../spans/span_store.ts';
import type { WorkflowRunFilter } from '../spans/workflow_run_filter.ts';
import { type DuckDb, type DuckDbOptions, openDuckDb } from './connection.ts';
import { migrateStore } from './migrations.ts';
import { RecentReads } from './recent_reads.ts';
import { snapshotDuckDb } from './snapshot.ts';
import {
  readListsAgain,
  readTracesAgain,
  type SpanList,
  selectCompactTrace,
  selectListPage,
  selectServiceNames,
  selectServices,
  selectSpan,
  selectSpanLogRecords,
  selectStatePatches,
  selectTotalSpans,
  selectTraceSpans,
  selectWaterfallTraceJson,
} from './span_queries.ts';
import { SpanRepository } from './span_repository.ts';
import { deleteStep } from './span_retention.ts';
import { selectSearchHits } from './span_search_queries.ts';
import { prepareQuerySupport } from './summaries.ts';
import { selectWorkflowRunPage } from './workflow_run_queries.ts';
import { selectWorkflowStats } from './workflow_stats.ts';

// When the file has been opened again (connection.ts: to release loaded index nodes, once every few
// hundred traces read not read before at 10M spans), the traces read last are read again while the
// reads wait for the reopen anyway. A user going back to one finds it loaded; and a stall DuckDB has
// once ~14 trace lookups into a fresh open (15-20 ms against ~5 for a lookup, after every reopen at
// 10M spans; its cause was not found: docs/memory.md) falls inside the reopen instead of a user's
// read. 24 traces add ~130 ms to a reopen's ~300 (a scratch loop over the 10M store, 5 December).
// The first page of the lists read last is read again too: the first list page after a reopen
// read its row groups from the file again, 21-30 ms against ~10 (the same loop).
const READ_AGAIN_AFTER_REOPEN = { traces: 24, lists: 4 };
const READ_AGAIN_BUDGET_MS = 200;

export class DuckDbSpanStore implements SpanStore {
  /** The database itself, for DuckDB-only tools (benchmarks, the data generator, tests). */
  readonly db: DuckDb;
  readonly #logger: Logger;
  readonly #repository: SpanRepository;
  readonly #recent: RecentReads;

  constructor(db: DuckDb, logger: Logger, recent = new RecentReads(READ_AGAIN_AFTER_REOPEN)) {
    this.db = db;
    this.#logger = logger;
    this.#repository = new SpanRepository(db, logger);
    this.#recent = recent;
  }

  /** Opens (or creates) the file; call prepare() before serving. */
  static async open(file: string, logger: Logger, options?: DuckDbOptions): Promise<DuckDbSpanStore> {
    const recent = new RecentReads(READ_AGAIN_AFTER_REOPEN);
    const afterReopen = async (reader: DuckDBConnection) => {
      const started = performance.now();
      const traces = await readTracesAgain(reader, recent.tracesNewestFirst(), READ_AGAIN_BUDGET_MS);
      const lists = await readListsAgain(reader, recent.listsNewestFirst());
      const ms = Math.round(performance.now() - started);
      logger.debug(
        { traces, lists, ms },
        'DuckDB read the last traces and lists again after opening its file again',
      );
    };
    return new DuckDbSpanStore(await openDuckDb(file, logger, { afterReopen, ...options }), logger, recent);
  }

  // ---- writer ----

  insertBatch(batch: SpanBatch): Promise<InsertedCounts> {
    return this.#repository.insertBatch(batch);
  }

  untilWritable(): Promise<void> {
    return this.db.writesQueued();
  }

  // ---- reader ----

  serviceNames(): Promise<string[]> {
    return this.db.read(selectServiceNames);
  }

  services(): Promise<ServiceSummary[]> {
    return this.db.read(selectServices);
  }

  rootSpanPage(serviceName: string, page: PageRequest, filter: { llmOnly: boolean }): Promise<Uint8Array[]> {
    return this.#listPage(filter.llmOnly ? 'llm_root' : 'root', serviceName, page);
  }

  workflowSpanPage(serviceName: string, page: PageRequest): Promise<Uint8Array[]> {
    return this.#listPage('workflow', serviceName, page);
  }

  #listPage(list: SpanList, serviceName: string, page: PageRequest): Promise<Uint8Array[]> {
    this.#recent.addList(list, serviceName);
    return this.db.read((conn) => selectListPage(conn, list, serviceName, page));
  }

  workflowRunPage(serviceName: string, filter: WorkflowRunFilter, page: PageRequest): Promise<Uint8Array[]> {
    return this.db.read((conn) => selectWorkflowRunPage(conn, serviceName, filter, page));
  }

  // DuckDB has no partitions to skip: the trace_id index finds a trace's rows, and a second
  // condition in that scan would make DuckDB give the index up (span_queries.ts), so a time window
  // is applied to the rows found.
  async traceSpans(traceId: string, window?: TimeWindow): Promise<SpanRow[]> {
    this.#recent.addTrace(traceId);
    const spans = await this.db.read((conn) => selectTraceSpans(conn, traceId));
    return window ? spans.filter((span) => within(span.start_time, window)) : spans;
  }

  async compactTrace(traceId: string, window?: TimeWindow): Promise<CompactSpanRow[]> {
    this.#recent.addTrace(traceId);
    const spans = await this.db.read((conn) => selectCompactTrace(conn, traceId));
    return window ? spans.filter((span) => within(span.start_time, window)) : spans;
  }

  waterfallTraceJson(traceId: string, window?: TimeWindow): Promise<string | null> {
    this.#recent.addTrace(traceId);
    return this.db.read((conn) => selectWaterfallTraceJson(conn, traceId, window));
  }

  async span(traceId: string, spanId: string, window?: TimeWindow): Promise<SpanRow | null> {
    const span = await this.db.read((conn) => selectSpan(conn, traceId, spanId));
    return span && (!window || within(span.start_time, window)) ? span : null;
  }

  async statePatches(
    traceId: string,
    options: { storeId?: string; window?: TimeWindow } = {},
  ): Promise<StatePatchRow[]> {
    const { storeId, window } = options;
    const patches = await this.db.read((conn) => selectStatePatches(conn, traceId, storeId));
    return window ? patches.filter((patch) => within(patch.event_time, window)) : patches;
  }

  spanLogRecords(traceId: string, spanId: string): Promise<LogRecordRow[]> {
    return this.db.read((conn) => selectSpanLogRecords(conn, traceId, spanId));
  }

  workflowStats(serviceName: string, query: WorkflowStatsQuery): Promise<WorkflowStatsSeries[]> {
    return this.db.read((conn) => selectWorkflowStats(conn, serviceName, query));
  }

  searchSpans(search: SpanSearch, page: PageRequest): Promise<SpanSearchHit[]> {
    return this.db.read((conn) => selectSearchHits(conn, search, page));
  }

  // ---- maintenance ----

  /**
   * Creates the query-support tables (back-filled once for a database from before them), then
   * rewrites data that older versions stored differently (migrations.ts).
   */
  async prepare(): Promise<void> {
    await prepareQuerySupport(this.db);
    await migrateStore(this.db, this.#logger);
  }

  deleteStartedBefore(cutoffMicros: bigint, maxSpans: number): Promise<RetentionStep> {
    return deleteStep(this.db, this.#logger, cutoffMicros, maxSpans);
  }

  /** A checkpoint writes the deletions into the file, so that their blocks can be reused. */
  reclaimSpace(): Promise<void> {
    return this.db.checkpoint();
  }

  async stats(): Promise<SpanStoreStats> {
    const spans = await this.db.read(selectTotalSpans);
    let bytes = 0;
    for (const file of [this.db.path, `${this.db.path}.wal`]) {
      bytes += await stat(file).then(
        (s) => s.size,
        () => 0, // no WAL right after a checkpoint; no file at all for ':memory:'
      );
    }
    const memory = await this.db.memory();
    return { spans, bytes, memoryBytes: memory.usedBytes, memoryLimit: memory.limit };
  }

  upkeep(): StoreUpkeep {
    return this.db.upkeep();
  }

  snapshot(target: string): Promise<{ spans: number; statePatches: number }> {
    return snapshotDuckDb(this.db, target);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function within(micros: bigint, window: TimeWindow): boolean {
  return micros >= window.startMicros && micros <= window.endMicros;
}
