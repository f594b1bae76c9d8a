// Moves accepted exports from the write-ahead log into the span store (the seed's Phase 6b poller):
// read records after the last committed key → their rows (decoded and converted here; the receiver
// only checked them) → one store transaction per batch → advance poller_state. A crash between the store
// commit and the cursor update replays the batch, which the store's idempotent insert makes harmless. Batches grow with the backlog (bounded by bytes),
// and a record that cannot be processed is moved aside instead of blocking the ones after it.
// A backend reading several ingestion nodes runs one poller per node, each with the position of the
// node it identified (see WalSource.identify), so a node that is down holds up only its own poller.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PollerStateRepository } from '../db_sqlite/poller_state/poller_state_repository.ts';
import { isUnavailable } from '../errors.ts';
import {
  NodeChangedError,
  PositionAheadError,
  type ReadLimits,
  type SourceRecord,
  type WalSource,
} from '../ingestion/wal_source.ts';
import type { Logger } from '../logger.ts';
import { processExport } from '../spans/export_processor.ts';
import type { SpanBatch } from '../spans/rows.ts';
import type { SpanWriter } from '../spans/span_store.ts';
import { gcPauseMs } from './gc_pauses.ts';

export interface IngestionPollerOptions {
  /** What the poller reads: `local` in one process, the configured address of an ingestion node. */
  node: string;
  source: WalSource;
  store: SpanWriter;
  /** The position kept for the source's node id (null: this process's own WAL). */
  pollerState: (nodeId: string | null) => PollerStateRepository;
  logger: Logger;
  /** Fallback wake-up interval; a local source also wakes the poller on every append. */
  intervalMs: number;
  deadLetterDir: string;
  limits?: ReadLimits;
  /** Attempts of a single record before it is moved to the dead-letter directory. */
  maxAttempts?: number;
  /** Told about every committed batch (metrics). */
  onBatch?: (node: string, batch: { durationMs: number }) => void;
}

/** One poller's state, as /health/details and /metrics show it. */
export interface PollerFacts extends Readonly<IngestionPoller['stats']> {
  node: string;
  /** The id the ingestion node reported; null before it answered, and for this process's own WAL. */
  node_id: string | null;
  last_key: string | null;
  /** 0 when the last read emptied the source; null when it failed or nothing was read yet. */
  lag_seconds: number | null;
  last_commit_ms_ago: number | null;
  /** Failures since the last successful read (0: healthy). */
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: string | null;
}

// 4 MiB of exports (a few thousand spans) per transaction: their rows, about twice those bytes, are
// the main thread's largest allocation, and a smaller batch becomes queryable sooner. The ingestion
// benchmark's indexed throughput shows what the extra commits cost.
export const DEFAULT_LIMITS: ReadLimits = { maxRecords: 2048, maxBytes: 4 * 1024 * 1024 };

// A batch kept waiting this long by the store's own work takes in the records that arrived
// meanwhile (#arrivedWhileStoreBusy); a shorter wait is an insert's ordinary queueing.
const TOP_UP_AFTER_STORE_WAIT_MS = 5;

const payloadBytes = (records: SourceRecord[]) =>
  records.reduce((sum, record) => sum + record.payload.length, 0);

export class IngestionPoller {
  readonly stats = {
    batches: 0,
    records: 0,
    spans_indexed: 0,
    patches_indexed: 0,
    log_records_indexed: 0,
    dead_lettered: 0,
    failures: 0,
  };
  readonly #options: IngestionPollerOptions;
  /** The position of the identified node; unset until identified, and again after a node change. */
  #position: PollerStateRepository | undefined;
  #nodeId: string | null = null;
  #lastKey: bigint | null = null;
  #running: Promise<void> | undefined;
  #stopping = false;
  readonly #stopped = new AbortController();
  #wake: (() => void) | undefined;
  #pendingWake = false;
  #unsubscribe: (() => void) | undefined;
  #lastCommitAtMs = 0;
  #newestIndexedReceivedAtMs: number | null = null;
  /** Whether the last read drained the source; null when it failed. */
  #caughtUp: boolean | null = null;
  #consecutiveFailures = 0;
  #lastError: { message: string; at: string } | null = null;

  constructor(options: IngestionPollerOptions) {
    this.#options = options;
  }

  get lastKey(): bigint | null {
    return this.#lastKey;
  }

  async start(): Promise<void> {
    // This process's own WAL is there at once; a remote node is identified by the loop, which
    // retries while the node is down without holding up the server's start.
    if (!this.#options.source.identify) await this.#attach();
    this.#unsubscribe = this.#options.source.onAppend?.(() => this.#signal());
    this.#running = this.#loop();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopped.abort();
    this.#unsubscribe?.();
    this.#signal();
    await this.#running;
  }

  facts(): PollerFacts {
    return {
      node: this.#options.node,
      node_id: this.#nodeId,
      ...this.stats,
      last_key: this.#lastKey?.toString() ?? null,
      lag_seconds: this.lagSeconds(),
      last_commit_ms_ago: this.#lastCommitAtMs ? Date.now() - this.#lastCommitAtMs : null,
      consecutive_failures: this.#consecutiveFailures,
      last_error: this.#lastError?.message ?? null,
      last_error_at: this.#lastError?.at ?? null,
    };
  }

  /** While records wait, the age of the newest record indexed so far; 0 when caught up. */
  lagSeconds(): number | null {
    if (this.#caughtUp === null) return null;
    if (this.#caughtUp) return 0;
    return this.#newestIndexedReceivedAtMs === null
      ? null
      : Math.max(0, (Date.now() - this.#newestIndexedReceivedAtMs) / 1000);
  }

  /**
   * Learns which node the source is (when it can say), loads that node's position and tells the
   * source what is already committed: it may delete that, and must never hand out keys at or below
   * it again (e.g. after its files were lost).
   */
  async #attach(): Promise<void> {
    const nodeId = (await this.#options.source.identify?.()) ?? null;
    const position = this.#options.pollerState(nodeId);
    this.#lastKey = position.getLastKey();
    if (this.#lastKey !== null) await this.#options.source.release(this.#lastKey);
    if (nodeId !== this.#nodeId && nodeId !== null) {
      this.#options.logger.info(
        { nodeId, lastKey: String(this.#lastKey) },
        'reading ingestion node from its position',
      );
    }
    this.#nodeId = nodeId;
    this.#position = position;
  }

  /** A backoff that a stop cuts short (a node that stays down must not delay shutdown). */
  async #sleepUnlessStopped(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#stopped.signal }).catch(() => undefined);
  }

  #signal(): void {
    this.#pendingWake = true;
    this.#wake?.();
  }

  async #waitForWork(): Promise<void> {
    if (this.#pendingWake || this.#stopping) return;
    const controller = new AbortController();
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#wake = resolve;
      }),
      sleep(this.#options.intervalMs, undefined, { signal: controller.signal }).catch(() => undefined),
    ]);
    controller.abort();
    this.#wake = undefined;
  }

  async #loop(): Promise<void> {
    const limits = this.#options.limits ?? DEFAULT_LIMITS;
    while (!this.#stopping) {
      this.#pendingWake = false;
      try {
        if (!this.#position) await this.#attach();
        const readStartedAtMs = performance.now();
        const records = await this.#options.source.read(this.#lastKey, limits);
        const readMs = performance.now() - readStartedAtMs;
        this.#consecutiveFailures = 0;
        if (records.length === 0) {
          this.#caughtUp = true;
          await this.#waitForWork();
          continue;
        }
        const committed = await this.#commit(records, readMs, limits);
        // A batch short of the limits took everything the source had when it was read. (The byte
        // limit counts record headers too, so a batch just under it may be taken as the last one;
        // the next read corrects that.)
        this.#caughtUp = committed.length < limits.maxRecords && payloadBytes(committed) < limits.maxBytes;
      } catch (error) {
        this.#caughtUp = null;
        this.#lastError = { message: String(error), at: new Date().toISOString() };
        if (error instanceof NodeChangedError) {
          // The address now leads to another node: our position is the old node's. Identify again.
          this.#options.logger.warn(
            { err: error, nodeId: this.#nodeId },
            'another ingestion node answers at this address; switching to its position',
          );
          this.#position = undefined;
          continue;
        }
        if (error instanceof PositionAheadError) {
          // Waiting would lose data: the source's keys would climb past our position unread.
          // Re-reading everything it holds is safe because indexing a record twice is a no-op.
          this.#options.logger.error(
            { err: error, lastKey: String(this.#lastKey) },
            "the WAL source is behind this poller's position (its WAL lost or replaced?); re-reading it from its oldest record",
          );
          this.#lastKey = null;
          continue;
        }
        this.#consecutiveFailures += 1;
        this.stats.failures += 1;
        // Mostly an unreachable source (a node restarting): retried often enough that a node
        // coming back is read within seconds; a failed attempt costs one connection.
        const backoffMs = Math.min(5_000, 250 * 2 ** Math.min(this.#consecutiveFailures, 5));
        this.#options.logger.error({ err: error, backoffMs }, 'poller batch failed; will retry');
        await this.#sleepUnlessStopped(backoffMs);
      }
    }
  }

  /**
   * Converts and inserts a batch, with the records that arrived while the store kept it waiting;
   * isolates records that fail on their own. Returns the records committed.
   */
  async #commit(read: SourceRecord[], readMs: number, limits: ReadLimits): Promise<SourceRecord[]> {
    const startedAtMs = Date.now();
    // Only a debug log reads the batch's timings; the GC observer then starts with the first batch.
    const logTimings = this.#options.logger.isLevelEnabled('debug');
    const gcBefore = logTimings ? gcPauseMs() : 0;
    const convertStartedAt = performance.now();
    const good: SourceRecord[] = [];
    const merged: Required<SpanBatch> = { spans: [], patches: [], logRecords: [] };
    const convert = async (batch: SourceRecord[]) => {
      for (const record of batch) {
        const converted = await this.#convert(record);
        if (!converted) continue;
        good.push(record);
        for (const span of converted.spans) merged.spans.push(span);
        for (const patch of converted.patches) merged.patches.push(patch);
        for (const record of converted.logRecords ?? []) merged.logRecords.push(record);
      }
    };
    await convert(read);
    const waitStartedAt = performance.now();
    const arrived = await this.#arrivedWhileStoreBusy(read, limits);
    const storeWaitMs = performance.now() - waitStartedAt;
    await convert(arrived);
    const records = [...read, ...arrived];
    const insertStartedAt = performance.now();
    const convertMs = insertStartedAt - convertStartedAt - storeWaitMs;
    try {
      await this.#insert(merged);
    } catch (error) {
      // One record may be poisoning the batch: retry record by record so the rest still lands and a
      // record that keeps failing is moved aside, also when it is alone in its batch (rethrowing
      // would retry it with backoff for as long as no other record arrives).
      this.#options.logger.warn(
        { err: error, records: good.length },
        'batch insert failed; retrying record by record',
      );
      for (const record of good) await this.#commitOne(record);
    }
    const advanceStartedAt = performance.now();
    const insertMs = advanceStartedAt - insertStartedAt;
    await this.#advance(records.at(-1)!.key);
    this.stats.records += records.length;
    this.#newestIndexedReceivedAtMs = records.at(-1)!.receivedAtMs;
    const committedAtMs = Date.now();
    this.#options.onBatch?.(this.#options.node, { durationMs: committedAtMs - startedAtMs });
    // Where an acknowledged export's wait for queryability went, batch by batch (bench/ingestion.ts
    // --batch-detail reads these lines): the oldest record's age says how long the slowest wait was.
    if (!logTimings) return records;
    this.#options.logger.debug(
      {
        records: records.length,
        spans: merged.spans.length,
        bytes: payloadBytes(records),
        oldestAgeMs: committedAtMs - records[0]!.receivedAtMs,
        readMs: Math.round(readMs),
        convertMs: Math.round(convertMs),
        storeWaitMs: Math.round(storeWaitMs),
        arrivedWhileWaiting: arrived.length,
        insertMs: Math.round(insertMs),
        advanceMs: Math.round(performance.now() - advanceStartedAt),
        gcMs: Math.round(gcPauseMs() - gcBefore),
      },
      'poller batch',
    );
    return records;
  }

  /**
   * Waits until the store has done its own queued work (DuckDB: a checkpoint or a reopen of its
   * file, ~0.4 s under load). When that kept the batch waiting, returns the records that arrived
   * meanwhile, within what the batch's limits leave: they go in with it instead of waiting for
   * the next batch (the batch was read and converted before the wait, which a full load needs).
   */
  async #arrivedWhileStoreBusy(batch: SourceRecord[], limits: ReadLimits): Promise<SourceRecord[]> {
    const started = performance.now();
    await this.#options.store.untilWritable?.();
    if (performance.now() - started < TOP_UP_AFTER_STORE_WAIT_MS) return [];
    const left = {
      maxRecords: limits.maxRecords - batch.length,
      maxBytes: limits.maxBytes - payloadBytes(batch),
    };
    if (left.maxRecords <= 0 || left.maxBytes <= 0) return [];
    // The batch goes in either way: a failed read here only leaves those records to the next one.
    const arrived = await this.#options.source.read(batch.at(-1)!.key, left).catch((err: unknown) => {
      this.#options.logger.debug({ err }, 'reading the records that arrived while the store was busy failed');
      return [];
    });
    // A read always returns its first record, however large: only those within the bytes left
    // join the batch (the rest are read again for the next one).
    let bytes = 0;
    const fitting: SourceRecord[] = [];
    for (const record of arrived) {
      bytes += record.payload.length;
      if (bytes > left.maxBytes) break;
      fitting.push(record);
    }
    return fitting;
  }

  async #commitOne(record: SourceRecord): Promise<void> {
    const maxAttempts = this.#options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const converted = await this.#convert(record);
      if (!converted) return;
      try {
        await this.#insert(converted);
        return;
      } catch (error) {
        // A store that cannot write at all (disk full, I/O error) is waited out, never blamed on
        // the record: dead-lettering would hide spans that a retry a minute later would index.
        if (isUnavailable(error)) {
          this.stats.failures += 1;
          const backoffMs = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
          this.#options.logger.error(
            { err: error, walKey: record.key.toString(), backoffMs },
            'span store unavailable; retrying',
          );
          if (this.#stopping) throw error;
          // Cut short by a stop: a store down for minutes must not hold up shutdown (SIGTERM).
          await this.#sleepUnlessStopped(backoffMs);
          if (this.#stopping) throw error;
          continue;
        }
        if (attempt >= maxAttempts) {
          await this.#deadLetter(record, `insert failed ${attempt} times: ${String(error)}`);
          return;
        }
        await sleep(100 * attempt);
      }
    }
  }

  async #insert(batch: SpanBatch): Promise<void> {
    if (batch.spans.length === 0 && !batch.logRecords?.length) return;
    const inserted = await this.#options.store.insertBatch(batch);
    this.stats.batches += 1;
    this.stats.spans_indexed += inserted.spans;
    this.stats.patches_indexed += inserted.patches;
    this.stats.log_records_indexed += inserted.logRecords;
  }

  async #advance(key: bigint): Promise<void> {
    this.#position!.setLastKey(key);
    this.#lastKey = key;
    this.#lastCommitAtMs = Date.now();
    await this.#options.source.release(key);
  }

  /** The record's rows; an undecodable record goes to the dead-letter directory (null). */
  async #convert(record: SourceRecord): Promise<SpanBatch | null> {
    try {
      return processExport(record.payload, record.format, record.signal).rows;
    } catch (error) {
      await this.#deadLetter(record, `cannot decode: ${String(error)}`);
      return null;
    }
  }

  async #deadLetter(record: SourceRecord, reason: string): Promise<void> {
    // Keys are per node: each node's records get their own folder, so equal keys never collide.
    const dir = this.#nodeId
      ? path.join(this.#options.deadLetterDir, this.#nodeId)
      : this.#options.deadLetterDir;
    await mkdir(dir, { recursive: true });
    const base = path.join(dir, `${record.key.toString().padStart(20, '0')}`);
    await writeFile(
      `${base}${record.signal === 'logs' ? '.logs' : ''}.${record.format === 'json' ? 'json' : 'pb'}`,
      record.payload,
    );
    await writeFile(
      `${base}.reason.json`,
      JSON.stringify({
        key: record.key.toString(),
        receivedAtMs: record.receivedAtMs,
        apiKeyId: record.apiKeyId,
        reason,
      }),
    );
    this.stats.dead_lettered += 1;
    this.#options.logger.error(
      // `walKey`, not `key`: the logger redacts every field named key.
      { walKey: record.key.toString(), reason, file: base },
      'WAL record moved to dead-letter',
    );
  }
}

/** /health/details: every poller's own facts, and their counters summed (`poller`). */
export function pollersFacts(pollers: IngestionPoller[]): {
  poller: IngestionPoller['stats'];
  pollers: PollerFacts[];
} {
  const totals = { ...pollers[0]!.stats };
  for (const key of Object.keys(totals) as Array<keyof typeof totals>) {
    totals[key] = pollers.reduce((sum, poller) => sum + poller.stats[key], 0);
  }
  return { poller: totals, pollers: pollers.map((poller) => poller.facts()) };
}
