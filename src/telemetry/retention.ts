// JUNJO_RETENTION_DAYS: deletes spans that started longer ago than that, with their state patches
// (a patch goes with its span, whatever its own event_time), and keeps the query-support tables of
// summaries.ts in step. It runs at start and then every `intervalMs` (hourly by default).
//
// Deleting never holds the writer for long: each step deletes at most about `batchSpans` spans in
// its own write transaction, and the job yields between steps, so poller inserts and the idle
// checkpoint queued meanwhile go first, and readers are never blocked (they read committed data).
// A step deletes "everything that started before B", where B is chosen so that about `batchSpans`
// spans qualify. That keeps each step exact for pruneQuerySupport (which drops the derived rows
// older than B and recounts the services), so between steps the tables agree with `spans`.
//
// Two transactions per step: DuckDB refuses to delete a span in the transaction that deletes the
// patches referencing it. A patch stored in between for a span about to go (a late replay) makes the
// second one fail on the foreign key; the step is then simply run again.
//
// Disk: after a run that deleted anything the job forces a CHECKPOINT, which writes the deletions
// into the file so their blocks can be reused; the file itself does not shrink (docs/reliability.md).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { DuckDb } from '../db_duckdb/connection.ts';
import { pruneQuerySupport } from '../db_duckdb/summaries.ts';
import type { Logger } from '../logger.ts';

const MICROS_PER_DAY = 86_400_000_000n;
const DEFAULT_INTERVAL_MS = 60 * 60 * 1000;
const DEFAULT_BATCH_SPANS = 5000;
/** A step whose span delete keeps failing (e.g. patches arriving again and again) gives up the run. */
const MAX_STEP_ATTEMPTS = 5;

// Whether any span has expired, and the start of the batchSpans-th oldest one (NULL when fewer have):
// deleting up to and including it is one step.
const STEP_BOUNDARY = `
  SELECT EXISTS (SELECT 1 FROM spans WHERE start_time < $cutoff),
         (SELECT epoch_us(start_time) FROM spans WHERE start_time < $cutoff
          ORDER BY start_time LIMIT 1 OFFSET $offset)`;
const DELETE_PATCHES = `
  DELETE FROM state_patches WHERE (trace_id, span_id) IN
    (SELECT (trace_id, span_id) FROM spans WHERE start_time < $cutoff)`;
const DELETE_SPANS = 'DELETE FROM spans WHERE start_time < $cutoff';

export interface RetentionOptions {
  db: DuckDb;
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
  steps: number;
  /** Set when the run stopped early on an error; the next run carries on. */
  error: string | null;
}

export class RetentionJob {
  readonly #options: RetentionOptions;
  readonly #totals = { runs: 0, spans_deleted: 0, patches_deleted: 0 };
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
          steps: run.steps,
          error: run.error,
        },
      },
    };
  }

  async #run(): Promise<RetentionRun> {
    const { db, days, logger } = this.#options;
    const nowMs = (this.#options.now ?? Date.now)();
    const started = performance.now();
    const cutoff = BigInt(Math.floor(nowMs)) * 1000n - BigInt(days ?? 0) * MICROS_PER_DAY;
    const run: RetentionRun = {
      startedAt: new Date(nowMs).toISOString(),
      durationMs: 0,
      cutoff: new Date(Number(cutoff / 1000n)).toISOString(),
      spansDeleted: 0,
      patchesDeleted: 0,
      steps: 0,
      error: null,
    };
    try {
      if (days === null) return run;
      for (let done = false; !done && !this.#stopping; ) {
        const step = await this.#step(cutoff);
        run.steps += 1;
        run.spansDeleted += step.spans;
        run.patchesDeleted += step.patches;
        done = step.last;
        await yieldToEventLoop();
      }
      if (run.spansDeleted > 0 && !this.#stopping) await db.checkpoint();
    } catch (err) {
      run.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      run.durationMs = Math.round(performance.now() - started);
      this.#lastRun = run;
      this.#totals.runs += 1;
      this.#totals.spans_deleted += run.spansDeleted;
      this.#totals.patches_deleted += run.patchesDeleted;
      if (run.spansDeleted > 0 || run.error) {
        logger.info({ retention: run }, 'retention run finished');
      }
    }
    return run;
  }

  /** Deletes the next slice of expired spans; `last` once nothing older than the cutoff is left. */
  async #step(cutoff: bigint): Promise<{ spans: number; patches: number; last: boolean }> {
    const { db } = this.#options;
    const batchSpans = this.#options.batchSpans ?? DEFAULT_BATCH_SPANS;
    let patches = 0;
    for (let attempt = 1; ; attempt++) {
      // On a reader: the boundary only sizes the step (the deletes below are exact whatever it is),
      // and a run with nothing to delete then writes nothing (no needless checkpoint afterwards).
      const { expired, boundary } = await db.read(async (conn) => {
        const params = { cutoff: timestamp(cutoff), offset: batchSpans - 1 };
        const reader = await conn.runAndReadAll(STEP_BOUNDARY, params);
        const row = reader.getRows()[0];
        return { expired: row?.[0] === true, boundary: (row?.[1] ?? null) as bigint | null };
      });
      if (!expired) return { spans: 0, patches, last: true };
      // Ties at the boundary go in the same step: a step always deletes everything before its limit.
      const limit = boundary === null ? cutoff : boundary + 1n;
      patches += await db.write(async (conn) =>
        Number((await conn.run(DELETE_PATCHES, { cutoff: timestamp(limit) })).rowsChanged),
      );
      try {
        const spans = await db.write(async (conn) => {
          const deleted = Number((await conn.run(DELETE_SPANS, { cutoff: timestamp(limit) })).rowsChanged);
          await pruneQuerySupport(conn, limit);
          return deleted;
        });
        return { spans, patches, last: boundary === null };
      } catch (err) {
        if (attempt >= MAX_STEP_ATTEMPTS) throw err;
        this.#options.logger.debug({ err, attempt }, 'retention step retried (patches arrived meanwhile?)');
      }
    }
  }
}

function timestamp(micros: bigint): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(micros);
}
