// The SpanStore (spans/span_store.ts) on ClickHouse: the schema of schema.ts, the SQL of
// span_queries.ts, one client (HTTP, or chdb in-process). Writes go one batch at a time (the
// poller is the only writer); reads run concurrently.
//
// Idempotency, in two layers (docs/scale-out.md): before inserting, the writer asks which rows of
// the batch are already stored (the trace index makes that a primary-key lookup, and a fresh
// trace costs nothing more), so counts are exact and a replayed batch writes nothing; and every
// table is a ReplacingMergeTree read with FINAL, so a row that was written twice anyway (a crash
// between two of a batch's inserts, then the replay) is still answered once.
import type { ClickHouseClient } from '@clickhouse/client';
import { invalidInput, storeUnavailable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CompactSpanRow } from '../spans/compact_span.ts';
import { isLlmAttributesJson } from '../spans/llm_span.ts';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from '../spans/rows.ts';
import { gatherSlices, newestRunStart, sliceStarts } from '../spans/run_slices.ts';
import { jsonArray, renderSpan, renderWaterfallSpan } from '../spans/span_json.ts';
import { assembleSearchHits, type SpanSearch, type SpanSearchHit } from '../spans/span_search.ts';
import type {
  InsertedCounts,
  PageRequest,
  RetentionStep,
  ServiceSummary,
  SpanStore,
  SpanStoreStats,
  TimeWindow,
  WorkflowStatsQuery,
  WorkflowStatsSeries,
} from '../spans/span_store.ts';
import type { WorkflowRunFilter } from '../spans/workflow_run_filter.ts';
import { type WorkflowStatsGroup, workflowStatsSeries } from '../spans/workflow_stats_series.ts';
import {
  type ClickHouseConnection,
  type ClickHouseSettings,
  checkServer,
  isClickHouseUnavailable,
  openClickHouse,
} from './connection.ts';
import { migrate } from './migrations.ts';
import { patchKey, type SchemaTarget } from './schema.ts';
import { ServiceTotals } from './service_totals.ts';
import {
  type Cursor,
  compactFromRow,
  type ListScope,
  logRecordFromRow,
  patchFromRow,
  type SpanList,
  type StoreQueries,
  spanFromRow,
  storeQueries,
  waterfallFromRow,
} from './span_queries.ts';
import { searchHitRowsQuery, searchHitsQuery } from './span_search_queries.ts';
import { dateTime64, type RowLayout, tabSeparated } from './tab_separated.ts';
import { workflowRunPageQuery } from './workflow_run_queries.ts';
import { workflowStatsQuery } from './workflow_stats.ts';

export interface ClickHouseStoreOptions extends ClickHouseSettings, SchemaTarget {
  /** JUNJO_RETENTION_DAYS, kept as table TTLs; null keeps everything. */
  retentionDays: number | null;
}

type Params = Record<string, unknown>;
type TraceRange = { from: bigint; to: bigint };

export class ClickHouseSpanStore implements SpanStore {
  readonly client: ClickHouseClient;
  readonly #insertBody: ClickHouseConnection['insertBody'];
  readonly #options: ClickHouseStoreOptions;
  readonly #logger: Logger;
  readonly #sql: StoreQueries;
  /**
   * Whether spans were ever deleted (span_deletions): until then the service list is the summary
   * alone, kept in memory. Read at prepare() and set by retention here: the backend is the store's
   * only writer.
   */
  #spansDeleted = true;
  /** The tail of the write queue: one batch or retention step at a time. */
  #writes: Promise<unknown> = Promise.resolve();
  /**
   * Per service, the newest span start this process has inserted or read in the service list:
   * where a list's first page looks first (#listPage). Stale or missing only costs a wider read.
   */
  readonly #newestStarts = new Map<string, bigint>();
  /** The service list while nothing was deleted, kept up to date by this writer (service_totals.ts). */
  readonly #serviceTotals = new ServiceTotals();

  constructor(connection: ClickHouseConnection, options: ClickHouseStoreOptions, logger: Logger) {
    this.client = connection.client;
    this.#insertBody = connection.insertBody;
    this.#options = options;
    this.#logger = logger;
    this.#sql = storeQueries(options);
  }

  /** The ClickHouse database holding the tables (JUNJO_CLICKHOUSE_DATABASE). */
  get database(): string {
    return this.#options.database;
  }

  /** Creates the client; prepare() checks the server and the schema before serving. */
  static async open(options: ClickHouseStoreOptions, logger: Logger): Promise<ClickHouseSpanStore> {
    return new ClickHouseSpanStore(await openClickHouse(options), options, logger);
  }

  // ---- writer ----

  insertBatch(batch: SpanBatch): Promise<InsertedCounts> {
    return this.#serialized(async () => {
      try {
        return await this.#insert(batch);
      } catch (error) {
        throw isClickHouseUnavailable(error) ? storeUnavailable(String(error), error) : error;
      }
    });
  }

  async #insert(batch: SpanBatch): Promise<InsertedCounts> {
    const spans = uniqueBy(batch.spans, spanKey);
    const patches = uniqueBy(batch.patches, (p) => p.patch_id);
    const logRecords = uniqueBy(batch.logRecords ?? [], (r) => r.log_id);
    const known = await this.#traceRanges(unique([...spans, ...patches].map((row) => row.trace_id)));
    const storedSpans = await this.#storedSpanKeys(known);
    const newSpans = spans.filter((s) => !storedSpans.has(spanKey(s)));
    const inBatch = new Set(spans.map(spanKey));
    const withSpan = patches.filter((p) => inBatch.has(spanKey(p)) || storedSpans.has(spanKey(p)));
    // A patch can be stored only once its span is, so only traces already indexed can hold it.
    const storedPatches = await this.#storedIds(
      this.#sql.storedPatchIds,
      withSpan.filter((p) => known.has(p.trace_id)),
      (p) => p.patch_id,
    );
    const newPatches = withSpan.filter((p) => !storedPatches.has(p.patch_id));
    // Log records may come before their span: any of them may be stored.
    const storedLogs = await this.#storedIds(this.#sql.storedLogIds, logRecords, (r) => r.log_id);
    const newLogs = logRecords.filter((r) => !storedLogs.has(r.log_id));

    const { tables } = this.#sql;
    await this.#insertRows(tables.llm.read, LLM_TRACE_LAYOUT, llmTraceRows(newSpans));
    // Through the Null table whose views write spans and the service summary (schema.ts).
    await this.#serviceTotals.write(newSpans, () =>
      this.#insertRows(tables.ingest.read, SPAN_LAYOUT, newSpans),
    );
    for (const span of newSpans) this.#noteNewestStart(span.service_name, span.start_time);
    await this.#insertRows(tables.patches.read, PATCH_LAYOUT, newPatches);
    await this.#insertRows(tables.logs.read, LOG_LAYOUT, newLogs);
    const orphans = patches.length - withSpan.length;
    if (orphans > 0) {
      this.#logger.warn(
        { skipped: orphans, attempted: batch.patches.length },
        'state patches skipped: their span is neither stored nor in the batch',
      );
    }
    return { spans: newSpans.length, patches: newPatches.length, logRecords: newLogs.length };
  }

  async #insertRows<Row>(table: string, layout: RowLayout<Row>, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#insertBody({
      table,
      columns: layout.columns,
      format: 'TabSeparated',
      body: tabSeparated(layout, rows),
      settings: this.#insertSettings,
    });
  }

  /**
   * - async_insert 0: the poller's batch is already large, and must be in a part (readable) when
   *   insertBatch returns. chdb turns async inserts on by default, and each insert then waited for
   *   the queue's flush timer (50–200 ms) before answering.
   * - optimize_on_insert 0: the writer has already removed rows repeated within a batch, so the
   *   per-insert replacing pass over the block finds nothing; FINAL still collapses replays.
   * - On a cluster the Distributed table forwards the rows before answering, so a batch is on its
   *   shards when the poller records it as done.
   */
  get #insertSettings(): Record<string, number> {
    const settings: Record<string, number> = { async_insert: 0, optimize_on_insert: 0 };
    if (this.#options.cluster) settings.distributed_foreground_insert = 1;
    return settings;
  }

  async #traceRanges(traceIds: string[]): Promise<Map<string, TraceRange>> {
    const ranges = new Map<string, TraceRange>();
    for (const chunk of chunks(traceIds)) {
      for (const [traceId, from, to] of await this.#rows(this.#sql.traceRanges, { trace_ids: chunk })) {
        ranges.set(traceId as string, { from: BigInt(from as string), to: BigInt(to as string) });
      }
    }
    return ranges;
  }

  async #storedSpanKeys(known: Map<string, TraceRange>): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const traceIds of chunks([...known.keys()])) {
      const params = { trace_ids: traceIds, ...coveringRange(known, traceIds) };
      for (const [traceId, spanId] of await this.#rows(this.#sql.storedSpanKeys, params)) {
        keys.add(`${traceId}/${spanId}`);
      }
    }
    return keys;
  }

  async #storedIds<Row extends { trace_id: string }>(
    query: string,
    rows: Row[],
    id: (row: Row) => string,
  ): Promise<Set<string>> {
    const stored = new Set<string>();
    for (const chunk of chunks(rows)) {
      const params = { trace_ids: unique(chunk.map((r) => r.trace_id)), ids: chunk.map(id) };
      for (const [found] of await this.#rows(query, params)) stored.add(found as string);
    }
    return stored;
  }

  // ---- reader ----

  /** From the service summary, as services() (a DISTINCT over spans would read every span). */
  async serviceNames(): Promise<string[]> {
    return (await this.services()).map((service) => service.serviceName);
  }

  async services(): Promise<ServiceSummary[]> {
    const nothingDeleted = this.#options.retentionDays === null && !this.#spansDeleted;
    const services = nothingDeleted
      ? (this.#serviceTotals.list() ??
        (await this.#serviceTotals.load(() => this.#readServices(this.#sql.servicesNothingDeleted))))
      : await this.#readServices(this.#sql.services);
    for (const service of services) this.#noteNewestStart(service.serviceName, service.lastSeenMicros);
    return services;
  }

  async #readServices(query: string): Promise<ServiceSummary[]> {
    return (await this.#rows(query)).map((row) => ({
      serviceName: row[0] as string,
      spanCount: Number(row[1]),
      traceCount: Number(row[2]),
      lastSeenMicros: BigInt(row[3] as string),
    }));
  }

  #noteNewestStart(serviceName: string, startMicros: bigint): void {
    const known = this.#newestStarts.get(serviceName);
    if (known === undefined || startMicros > known) this.#newestStarts.set(serviceName, startMicros);
  }

  rootSpanPage(serviceName: string, page: PageRequest, filter: { llmOnly: boolean }): Promise<Uint8Array[]> {
    return this.#listPage(filter.llmOnly ? 'llm_root' : 'root', serviceName, page);
  }

  workflowSpanPage(serviceName: string, page: PageRequest): Promise<Uint8Array[]> {
    return this.#listPage('workflow', serviceName, page);
  }

  async #listPage(list: SpanList, serviceName: string, page: PageRequest): Promise<Uint8Array[]> {
    const params: Params = { service_name: serviceName, limit: page.limit };
    let cursor: Cursor = 'first_page';
    if (page.before) {
      params.before = String(page.before.startTime);
      cursor = 'before_time';
      if (page.before.spanId !== undefined) {
        params.before_span_id = page.before.spanId;
        cursor = 'before_time_and_span';
      }
    }
    // The day before the cursor, or before the service's newest span: where a page of a busy
    // service lies, and the parts and partitions older than it are not read. At 10M spans over 13
    // days the first page took ~60 ms without it, 25–30 with it (docs/scale-out.md).
    const newest = page.before?.startTime ?? this.#newestStarts.get(serviceName);
    const scopes: ListScope[] = ['bounded', 'whole'];
    if (newest !== undefined) {
      params.floor = String(newest - LIST_FLOOR_MICROS);
      scopes.unshift('recent');
    }
    // Short: the end of the list, fewer rows in the scope than a page, or rows stored twice among
    // the newest: only a wider scope is exact, and the last one is the whole list.
    let rows: unknown[][] = [];
    for (const scope of scopes) {
      rows = await this.#rows(this.#sql.listPage(list, cursor, scope), params);
      if (rows.length >= page.limit) break;
    }
    return rows.map((row) => Buffer.from(renderSpan(spanFromRow(row))));
  }

  async traceSpans(traceId: string, window?: TimeWindow): Promise<SpanRow[]> {
    const rows = await this.#rows(this.#sql.traceSpans(window !== undefined), traceParams(traceId, window));
    return rows.map(spanFromRow);
  }

  async compactTrace(traceId: string, window?: TimeWindow): Promise<CompactSpanRow[]> {
    const rows = await this.#rows(this.#sql.compactTrace(window !== undefined), traceParams(traceId, window));
    return rows.map(compactFromRow);
  }

  async waterfallTraceJson(traceId: string, window?: TimeWindow): Promise<string | null> {
    const rows = await this.#rows(
      this.#sql.waterfallTrace(window !== undefined),
      traceParams(traceId, window),
    );
    return rows.length === 0
      ? null
      : jsonArray(rows.map((row) => renderWaterfallSpan(waterfallFromRow(row))));
  }

  async workflowRunPage(
    serviceName: string,
    filter: WorkflowRunFilter,
    page: PageRequest,
  ): Promise<Uint8Array[]> {
    const until = newestRunStart(filter, page);
    const hourParams = {
      service_name: serviceName,
      ...(filter.fromMicros === undefined ? {} : { from: String(filter.fromMicros) }),
      ...(until === undefined ? {} : { until: String(until) }),
    };
    const hours = await this.#rows(
      this.#sql.runHours({ from: filter.fromMicros !== undefined, until: until !== undefined }),
      hourParams,
    );
    const starts = sliceStarts(
      hours.map(([hour, runs]) => [BigInt(hour as string), BigInt(runs as string)]),
      page.limit,
      filter,
    );
    // A slice is the filter narrowed in time (spans/run_slices.ts).
    const rows = await gatherSlices(starts, page.limit, ({ from, to }, remaining) => {
      const slice: WorkflowRunFilter = {
        ...filter,
        ...(from === undefined ? {} : { fromMicros: from }),
        ...(to === undefined ? {} : { toMicros: to }),
      };
      const { sql, params } = workflowRunPageQuery(this.#sql.tables.spans, serviceName, slice, {
        ...page,
        limit: remaining,
      });
      return this.#rows(sql, params);
    });
    return rows.map((row) => Buffer.from(renderSpan(spanFromRow(row))));
  }

  async workflowStats(serviceName: string, query: WorkflowStatsQuery): Promise<WorkflowStatsSeries[]> {
    const { sql, params } = workflowStatsQuery(this.#sql.tables.spans.read, serviceName, query);
    return workflowStatsSeries(query, (await this.#rows(sql, params)) as WorkflowStatsGroup[]);
  }

  async searchSpans(search: SpanSearch, page: PageRequest): Promise<SpanSearchHit[]> {
    const spansTable = this.#sql.tables.spans.read;
    const statement = searchHitsQuery(spansTable, search, page);
    const hits = (await this.#rows(statement.sql, statement.params)) as [string, string][];
    if (hits.length === 0) return [];
    const ranges = await this.#traceRanges(unique(hits.map(([traceId]) => traceId)));
    const spanIds = unique(hits.map(([, spanId]) => spanId));
    const rows: SpanRow[] = [];
    for (const traceIds of chunks([...ranges.keys()])) {
      const params = { trace_ids: traceIds, span_ids: spanIds, ...coveringRange(ranges, traceIds) };
      rows.push(...(await this.#rows(searchHitRowsQuery(spansTable), params)).map(spanFromRow));
    }
    // Without a snapshot across the two reads, a hit that retention deleted in between is left out.
    return assembleSearchHits(hits, rows);
  }

  async span(traceId: string, spanId: string, window?: TimeWindow): Promise<SpanRow | null> {
    const params = { ...traceParams(traceId, window), span_id: spanId };
    const [row] = await this.#rows(this.#sql.oneSpan(window !== undefined), params);
    return row ? spanFromRow(row) : null;
  }

  async statePatches(
    traceId: string,
    options: { storeId?: string; window?: TimeWindow } = {},
  ): Promise<StatePatchRow[]> {
    const { storeId, window } = options;
    const params: Params = { trace_id: traceId };
    if (storeId !== undefined) params.store_id = storeId;
    if (window) Object.assign(params, { from: String(window.startMicros), to: String(window.endMicros) });
    const query = this.#sql.statePatches(storeId !== undefined, window !== undefined);
    return (await this.#rows(query, params)).map(patchFromRow);
  }

  async spanLogRecords(traceId: string, spanId: string): Promise<LogRecordRow[]> {
    const rows = await this.#rows(this.#sql.spanLogRecords, { trace_id: traceId, span_id: spanId });
    return rows.map(logRecordFromRow);
  }

  // ---- maintenance ----

  /** Checks the server (reachable, credentials, version), then migrates the schema and sets the TTLs. */
  async prepare(): Promise<void> {
    const version = await checkServer(this.client, this.#options);
    this.#logger.info({ version, database: this.#options.database }, 'ClickHouse server checked');
    await migrate(this.client, this.#options, this.#logger, this.#options.retentionDays);
    this.#spansDeleted = (await this.#count(this.#sql.anySpanDeleted)) > 0;
  }

  /**
   * Same steps as the DuckDB store: the boundary is the start of the maxSpans-th oldest expired span;
   * patches and log records go before their spans (their delete finds them through the spans).
   * Lightweight DELETEs: the rows vanish from reads at once, their space goes at later merges.
   */
  deleteStartedBefore(cutoffMicros: bigint, maxSpans: number): Promise<RetentionStep> {
    return this.#serialized(async () => {
      const cutoff = String(cutoffMicros);
      if ((await this.#count(this.#sql.anyExpiredSpan, { cutoff })) === 0) {
        const logsExpired = (await this.#count(this.#sql.anyExpiredLog, { cutoff })) > 0;
        const logRecords = logsExpired ? await this.#deleteLogs(cutoff) : 0;
        return { spans: 0, patches: 0, logRecords, done: true };
      }
      const [boundary] = await this.#rows(this.#sql.stepBoundary, { cutoff, offset: maxSpans - 1 });
      // Ties at the boundary go in the same step.
      const limit = boundary ? String(BigInt(boundary[0] as string) + 1n) : cutoff;
      const patches = await this.#count(this.#sql.countPatchesOf, { limit });
      if (patches > 0) await this.#command(this.#sql.deletePatchesOf, { limit });
      const logRecords = await this.#deleteLogs(limit);
      const spans = await this.#count(this.#sql.countSpansBefore, { limit });
      await this.#command(this.#sql.deleteLlmTracesBefore, { limit });
      this.#spansDeleted = true;
      this.#serviceTotals.forget();
      await this.#command(this.#sql.recordDeletion, { limit });
      await this.#command(this.#sql.deleteSpansBefore, { limit });
      return { spans, patches, logRecords, done: !boundary };
    });
  }

  async #deleteLogs(limit: string): Promise<number> {
    const count = await this.#count(this.#sql.countLogsOf, { limit });
    if (count > 0) await this.#command(this.#sql.deleteLogsOf, { limit });
    return count;
  }

  /** Lightweight-deleted rows are dropped by ClickHouse's background merges; nothing to do here. */
  async reclaimSpace(): Promise<void> {}

  async stats(): Promise<SpanStoreStats> {
    const spans = await this.#count(this.#sql.totalSpans);
    const bytes = await this.#count(this.#sql.bytesOnDisk, { database: this.#options.database });
    // The server's memory is shared by all its clients and managed by its own limits; no figure of
    // this process's share is worth a query per /health call (docs/scale-out.md).
    return { spans, bytes, memoryBytes: 0, memoryLimit: 'n/a' };
  }

  /** ClickHouse keeps its memory by its own settings: nothing of this process's to report. */
  upkeep(): null {
    return null;
  }

  /**
   * ClickHouse's own BACKUP of the whole database into `target`, a directory ON THE CLICKHOUSE
   * SERVER that its `backups.allowed_path` must cover (docs/scale-out.md).
   */
  async snapshot(target: string): Promise<{ spans: number; statePatches: number }> {
    // BACKUP takes no query parameters: the path is a literal, so only a plain path passes.
    if (!/^\/[\w./-]+$/.test(target) || target.includes('..')) {
      throw invalidInput(
        `backup path ${JSON.stringify(target)}: expected an absolute path of letters, digits, _ . / -`,
      );
    }
    await this.client.command({ query: `BACKUP DATABASE ${this.#options.database} TO File('${target}')` });
    return {
      spans: await this.#count(this.#sql.totalSpans),
      statePatches: await this.#count(this.#sql.totalPatches),
    };
  }

  async close(): Promise<void> {
    await this.#writes;
    await this.client.close();
  }

  // ---- plumbing ----

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work, work);
    this.#writes = run.catch(() => {});
    return run;
  }

  async #rows(query: string, params?: Params): Promise<unknown[][]> {
    const result = await this.client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
    return result.json<unknown[]>();
  }

  /** A query of one number (ClickHouse sends 64-bit integers as text). */
  async #count(query: string, params?: Params): Promise<number> {
    const [row] = await this.#rows(query, params);
    return Number(row?.[0] ?? 0);
  }

  async #command(query: string, params: Params): Promise<void> {
    await this.client.command({ query, query_params: params });
  }
}

/** A trace lookup's parameters; its range comes from the trace index inside the statement. */
function traceParams(traceId: string, window?: TimeWindow): Params {
  if (!window) return { trace_id: traceId };
  return { trace_id: traceId, from: String(window.startMicros), to: String(window.endMicros) };
}

/** One time range covering the given traces' ranges: the partitions a lookup of them reads. */
function coveringRange(ranges: Map<string, TraceRange>, traceIds: string[]): { from: string; to: string } {
  let { from, to } = ranges.get(traceIds[0]!)!;
  for (const id of traceIds) {
    const range = ranges.get(id)!;
    if (range.from < from) from = range.from;
    if (range.to > to) to = range.to;
  }
  return { from: String(from), to: String(to) };
}

const SPAN_LAYOUT: RowLayout<SpanRow> = {
  columns: [
    'trace_id',
    'span_id',
    'parent_span_id',
    'service_name',
    'name',
    'kind',
    'start_time',
    'end_time',
    'status_code',
    'status_message',
    'attributes_json',
    'events_json',
    'links_json',
    'trace_flags',
    'trace_state',
    'junjo_id',
    'junjo_parent_id',
    'junjo_span_type',
    'junjo_wf_state_start',
    'junjo_wf_state_end',
    'junjo_wf_graph_structure',
    'junjo_wf_store_id',
  ],
  cells: (s) => [
    s.trace_id,
    s.span_id,
    s.parent_span_id,
    s.service_name,
    s.name,
    s.kind,
    dateTime64(s.start_time),
    dateTime64(s.end_time),
    s.status_code,
    s.status_message,
    s.attributes_json,
    s.events_json,
    s.links_json,
    s.trace_flags,
    s.trace_state,
    s.junjo_id,
    s.junjo_parent_id,
    s.junjo_span_type,
    s.junjo_wf_state_start,
    s.junjo_wf_state_end,
    s.junjo_wf_graph_structure,
    s.junjo_wf_store_id,
  ],
};

const PATCH_LAYOUT: RowLayout<StatePatchRow> = {
  columns: [
    'patch_key',
    'service_name',
    'trace_id',
    'span_id',
    'workflow_id',
    'node_id',
    'event_time',
    'patch_json',
    'patch_store_id',
  ],
  cells: (p) => [
    patchKey(p),
    p.service_name,
    p.trace_id,
    p.span_id,
    p.workflow_id,
    p.node_id,
    dateTime64(p.event_time),
    p.patch_json,
    p.patch_store_id,
  ],
};

const LOG_LAYOUT: RowLayout<LogRecordRow> = {
  columns: [
    'log_id',
    'trace_id',
    'span_id',
    'service_name',
    'time',
    'observed_time',
    'sequence',
    'severity_number',
    'severity_text',
    'event_name',
    'body_json',
    'attributes_json',
  ],
  cells: (r) => [
    r.log_id,
    r.trace_id,
    r.span_id,
    r.service_name,
    dateTime64(r.time),
    dateTime64(r.observed_time),
    r.sequence,
    r.severity_number,
    r.severity_text,
    r.event_name,
    r.body_json,
    r.attributes_json,
  ],
};

type LlmTrace = { trace_id: string; start_time: bigint };

const LLM_TRACE_LAYOUT: RowLayout<LlmTrace> = {
  columns: ['trace_id', 'start_time'],
  cells: (t) => [t.trace_id, dateTime64(t.start_time)],
};

/** One row per trace of the batch with an LLM span (spans/llm_span.ts): its earliest start. */
function llmTraceRows(spans: SpanRow[]): LlmTrace[] {
  const earliest = new Map<string, bigint>();
  for (const span of spans) {
    if (!isLlmAttributesJson(span.attributes_json)) continue;
    const seen = earliest.get(span.trace_id);
    if (seen === undefined || span.start_time < seen) earliest.set(span.trace_id, span.start_time);
  }
  return [...earliest].map(([trace_id, start_time]) => ({ trace_id, start_time }));
}

/** A list page reads the day before its cursor or its service's newest span first (#listPage). */
const LIST_FLOOR_MICROS = 24n * 3_600_000_000n;

// Ids per lookup: over HTTP the query parameters travel in the URL, which ClickHouse caps (1 MiB
// by default); a thousand ids stay far below it whatever the batch size.
const LOOKUP_CHUNK = 1000;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += LOOKUP_CHUNK) out.push(items.slice(i, i + LOOKUP_CHUNK));
  return out;
}

function spanKey(row: { trace_id: string; span_id: string }): string {
  return `${row.trace_id}/${row.span_id}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function uniqueBy<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
