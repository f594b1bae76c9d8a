// JUNJO_RETENTION_DAYS: deletes spans that started longer ago than that, with their state patches (and log records)
// (a patch goes with its span, whatever its own event_time), through the span store, which keeps
// what it derives from spans exact. It runs at start and then every `intervalMs` (hourly by default).
//
// Deleting never holds the store for long: each step deletes about `batchSpans` spans (the store's
// deleteStartedBefore; DuckDB: db_duckdb/span_retention.ts), and the job yields between steps, so
// poller inserts and the idle checkpoint queued meanwhile go first, and readers are never blocked.
//
// Disk: after a run that deleted anything the job asks the store to reclaim the space (DuckDB: a
// CHECKPOINT, so the deleted blocks can be reused; the file itself does not shrink, docs/reliability.md).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import type { SpanStoreMaintenance } from '../spans/span_store.ts';

const MICROS_PER_DAY = 86_400_000_000n;
const DEFAULT_INTERVAL_MS = 60 * 60 * 1000;
const DEFAULT_BATCH_SPANS = 5000;
export interface RetentionOptions {
  store: Pick<SpanStoreMaintenance, 'deleteStartedBefore' | 'reclaimSpace'>;
  /** Spans that started more than this many days ago are deleted; null keeps everything. */
  days: number | null;
  logger: Logger;
  /** Between runs (default one hour). */
  intervalMs?: number;
  /** Spans deleted per write transaction, about (default 5000). */
  batchSpans?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

export interface RetentionRun {
  startedAt: string;
  durationMs: number;
  /** Spans that started before this instant were deleted. */
  cutoff: string;
  spansDeleted: number;
  patchesDeleted: number;
  logRecordsDeleted: number;
  steps: number;
  /** Set when the run stopped early on an error; the next run carries on. */
  error: string | null;
}

export class RetentionJob {
  readonly #options: RetentionOptions;
  readonly #totals = { runs: 0, spans_deleted: 0, patches_deleted: 0, log_records_deleted: 0 };
  #lastRun: RetentionRun | null = null;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionRun> | null = null;
  #stopping = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  /** Runs once now (in the background) and then every interval; does nothing when days is null. */
  start(): void {
    if (this.#options.days === null) return;
    const runInBackground = () => {
      this.runOnce().catch((err) => this.#options.logger.error({ err }, 'retention run failed'));
    };
    runInBackground();
    this.#timer = setInterval(runInBackground, this.#options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Lets the step in flight finish, then stops; call before the database closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One run; a run already in progress is joined rather than started twice. */
  runOnce(): Promise<RetentionRun> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  facts(): Record<string, unknown> {
    const run = this.#lastRun;
    return {
      retention: {
        days: this.#options.days,
        interval_ms: this.#options.days === null ? null : (this.#options.intervalMs ?? DEFAULT_INTERVAL_MS),
        running: this.#running !== null,
        ...this.#totals,
        last_run: run && {
          started_at: run.startedAt,
          duration_ms: run.durationMs,
          cutoff: run.cutoff,
          spans_deleted: run.spansDeleted,
          patches_deleted: run.patchesDeleted,
          log_records_deleted: run.logRecordsDeleted,
          steps: run.steps,
          error: run.error,
        },
      },
    };
  }

  async #run(): Promise<RetentionRun> {
    const { store, days, logger } = this.#options;
    const nowMs = (this.#options.now ?? Date.now)();
    const started = performance.now();
    const cutoff = BigInt(Math.floor(nowMs)) * 1000n - BigInt(days ?? 0) * MICROS_PER_DAY;
    const run: RetentionRun = {
      startedAt: new Date(nowMs).toISOString(),
      durationMs: 0,
      cutoff: new Date(Number(cutoff / 1000n)).toISOString(),
      spansDeleted: 0,
      patchesDeleted: 0,
      logRecordsDeleted: 0,
      steps: 0,
      error: null,
    };
    try {
      if (days === null) return run;
      for (let done = false; !done && !this.#stopping; ) {
        const step = await store.deleteStartedBefore(cutoff, this.#options.batchSpans ?? DEFAULT_BATCH_SPANS);
        run.steps += 1;
        run.spansDeleted += step.spans;
        run.patchesDeleted += step.patches;
        run.logRecordsDeleted += step.logRecords;
        done = step.done;
        await yieldToEventLoop();
      }
      if (run.spansDeleted + run.logRecordsDeleted > 0 && !this.#stopping) await store.reclaimSpace();
    } catch (err) {
      run.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      run.durationMs = Math.round(performance.now() - started);
      this.#lastRun = run;
      this.#totals.runs += 1;
      this.#totals.spans_deleted += run.spansDeleted;
      this.#totals.patches_deleted += run.patchesDeleted;
      this.#totals.log_records_deleted += run.logRecordsDeleted;
      if (run.spansDeleted + run.logRecordsDeleted > 0 || run.error) {
        logger.info({ retention: run }, 'retention run finished');
      }
    }
    return run;
  }
}
