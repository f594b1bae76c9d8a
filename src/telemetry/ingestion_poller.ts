// Moves accepted exports from the write-ahead log into the span store (the seed's Phase 6b poller):
// read records after the last committed key → their rows (converted by the receiver, or decoded
// again here) → one store transaction per batch → advance poller_state. A crash between the store
// commit and the cursor update replays the batch, which the store's idempotent insert makes harmless. Batches grow with the backlog (bounded by bytes),
// and a record that cannot be processed is moved aside instead of blocking the ones after it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PollerStateRepository } from '../db_sqlite/poller_state/poller_state_repository.ts';
import { isUnavailable } from '../errors.ts';
import {
  PositionAheadError,
  type ReadLimits,
  type SourceRecord,
  type WalSource,
} from '../ingestion/wal_source.ts';
import type { Logger } from '../logger.ts';
import { processExport } from '../spans/export_processor.ts';
import type { SpanBatch } from '../spans/rows.ts';
import type { SpanWriter } from '../spans/span_store.ts';

export interface IngestionPollerOptions {
  source: WalSource;
  store: SpanWriter;
  pollerState: PollerStateRepository;
  logger: Logger;
  /** Fallback wake-up interval; a local source also wakes the poller on every append. */
  intervalMs: number;
  deadLetterDir: string;
  limits?: ReadLimits;
  /** Attempts of a single record before it is moved to the dead-letter directory. */
  maxAttempts?: number;
  /** Told about every committed batch (metrics). */
  onBatch?: (batch: { durationMs: number; newestReceivedAtMs: number }) => void;
}

// 4 MiB of exports (a few thousand spans) per transaction: their rows, about twice those bytes, are
// the main thread's largest allocation, and a smaller batch becomes queryable sooner. The ingestion
// benchmark's indexed throughput shows what the extra commits cost.
const DEFAULT_LIMITS: ReadLimits = { maxRecords: 2048, maxBytes: 4 * 1024 * 1024 };

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
  #lastKey: bigint | null;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  #unsubscribe: (() => void) | undefined;
  #lastCommitAtMs = 0;

  constructor(options: IngestionPollerOptions) {
    this.#options = options;
    this.#lastKey = options.pollerState.getLastKey();
  }

  get lastKey(): bigint | null {
    return this.#lastKey;
  }

  async start(): Promise<void> {
    // Tell the source what is already committed: it may delete that, and must never hand out
    // keys at or below it again (e.g. after its files were lost).
    if (this.#lastKey !== null) await this.#options.source.release(this.#lastKey);
    this.#unsubscribe = this.#options.source.onAppend?.(() => this.#signal());
    this.#running = this.#loop();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    this.#signal();
    await this.#running;
  }

  facts(): Record<string, unknown> {
    return {
      poller: {
        ...this.stats,
        last_key: this.#lastKey?.toString() ?? null,
        last_commit_ms_ago: this.#lastCommitAtMs ? Date.now() - this.#lastCommitAtMs : null,
      },
    };
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
    let consecutiveFailures = 0;
    while (!this.#stopping) {
      this.#pendingWake = false;
      try {
        const records = await this.#options.source.read(
          this.#lastKey,
          this.#options.limits ?? DEFAULT_LIMITS,
        );
        if (records.length === 0) {
          await this.#waitForWork();
          continue;
        }
        await this.#commit(records);
        consecutiveFailures = 0;
      } catch (error) {
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
        consecutiveFailures += 1;
        this.stats.failures += 1;
        const backoffMs = Math.min(30_000, 250 * 2 ** Math.min(consecutiveFailures, 7));
        this.#options.logger.error({ err: error, backoffMs }, 'poller batch failed; will retry');
        await sleep(backoffMs);
      }
    }
  }

  /** Converts and inserts a batch; isolates records that fail on their own. */
  async #commit(records: SourceRecord[]): Promise<void> {
    const startedAtMs = Date.now();
    const good: SourceRecord[] = [];
    const merged: Required<SpanBatch> = { spans: [], patches: [], logRecords: [] };
    for (const record of records) {
      const converted = await this.#convert(record);
      if (!converted) continue;
      good.push(record);
      for (const span of converted.spans) merged.spans.push(span);
      for (const patch of converted.patches) merged.patches.push(patch);
      for (const record of converted.logRecords ?? []) merged.logRecords.push(record);
    }
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
    await this.#advance(records.at(-1)!.key);
    this.stats.records += records.length;
    this.#options.onBatch?.({
      durationMs: Date.now() - startedAtMs,
      newestReceivedAtMs: records.at(-1)!.receivedAtMs,
    });
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
          await sleep(backoffMs);
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
    this.#options.pollerState.setLastKey(key);
    this.#lastKey = key;
    this.#lastCommitAtMs = Date.now();
    await this.#options.source.release(key);
  }

  /**
   * The record's rows, decoded here when the source has none; an undecodable record goes to the
   * dead-letter directory (null).
   */
  async #convert(record: SourceRecord): Promise<SpanBatch | null> {
    if (record.rows) return record.rows;
    try {
      return processExport(record.payload, record.format, record.signal).rows;
    } catch (error) {
      await this.#deadLetter(record, `cannot decode: ${String(error)}`);
      return null;
    }
  }

  async #deadLetter(record: SourceRecord, reason: string): Promise<void> {
    const dir = this.#options.deadLetterDir;
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
