import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { DuckDb } from '../db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../db_duckdb/duckdb_span_store.ts';
import { prepareQuerySupport } from '../db_duckdb/summaries.ts';
import { packRequests, workflowMix } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import type { SpanBatch } from '../spans/rows.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import { RetentionJob } from './retention.ts';

const DAY_MS = 86_400_000;
const NOW_MS = Date.parse('2026-03-01T12:00:00Z');
const logger = createLogger('silent');

/** The workflow mix starting `daysAgo` before NOW_MS, as the poller would store it (batches of 256). */
function batchesStarting(daysAgo: number, traces: number, seed: number): SpanBatch[] {
  const start = BigInt(NOW_MS - daysAgo * DAY_MS) * 1_000_000n;
  return packRequests(workflowMix({ traces, services: 3, seed, startTimeUnixNano: start }), 256).map(
    (request) => {
      const { spans, patches } = processTraceRequest(request);
      return { spans, patches };
    },
  );
}

const spanKeys = (batches: SpanBatch[]) =>
  batches.flatMap((b) => b.spans.map((s) => `${s.trace_id}:${s.span_id}`));
const patchIds = (batches: SpanBatch[]) => batches.flatMap((b) => b.patches.map((p) => p.patch_id));

let dir: string;
let store: DuckDbSpanStore;
let db: DuckDb;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-retention-test-'));
  store = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), logger, { idleCheckpointMs: 0 });
  await store.prepare();
  db = store.db;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function column(sql: string): Promise<string[]> {
  return db.read(async (conn) =>
    (await conn.runAndReadAll(sql)).getRows().map((row) => row.map(String).join(':')),
  );
}

/** The query-support tables as sorted text. */
async function querySupport(): Promise<Record<string, string[]>> {
  return {
    services: await column(
      'SELECT service_name, span_count, trace_count, epoch_us(last_seen) FROM service_summaries ORDER BY ALL',
    ),
    listed: await column(
      'SELECT trace_id, span_id, service_name, epoch_us(start_time), has_llm FROM span_list_entries ORDER BY ALL',
    ),
    hours: await column(
      'SELECT service_name, epoch_us(hour), roots, llm_roots, workflows FROM span_list_hours ORDER BY ALL',
    ),
    llmTraces: await column('SELECT DISTINCT trace_id FROM llm_traces ORDER BY ALL'),
  };
}

/** What the tables hold when rebuilt from `spans` alone (prepareQuerySupport's backfill). */
async function rebuiltQuerySupport(): Promise<Record<string, string[]>> {
  await db.write(async (conn) => {
    for (const table of ['service_summaries', 'span_list_entries', 'span_list_hours', 'llm_traces'])
      await conn.run(`DELETE FROM ${table}`);
  });
  await prepareQuerySupport(db);
  return querySupport();
}

describe('RetentionJob', () => {
  test('deletes only the spans that started before the cutoff, with their patches, in many small steps, while inserts keep going', async () => {
    const old = batchesStarting(10, 250, 1); // ten days old: expired under a 7-day retention
    const recent = batchesStarting(1, 60, 2);
    const late = batchesStarting(0.5, 60, 3); // inserted while retention runs
    // A patch goes with its span, not by its own time: a recent span's patch stamped long ago stays.
    const recentPatch = recent.find((b) => b.patches.length > 0)!.patches[0]!;
    recentPatch.event_time = BigInt(NOW_MS - 30 * DAY_MS) * 1000n;
    for (const batch of [...old, ...recent]) await store.insertBatch(batch);
    const oldSpans = spanKeys(old).length;
    assert.ok(oldSpans > 2000, `enough old spans for many steps (${oldSpans})`);

    const job = new RetentionJob({ store, days: 7, logger, batchSpans: 200, now: () => NOW_MS });
    let runDone = false;
    const run = job.runOnce().finally(() => {
      runDone = true;
    });
    const insertedDuringRun: boolean[] = [];
    const insertMs: number[] = [];
    for (const batch of late) {
      const started = performance.now();
      await store.insertBatch(batch);
      insertMs.push(performance.now() - started);
      insertedDuringRun.push(!runDone);
    }
    const result = await run;

    assert.equal(result.error, null);
    assert.equal(result.spansDeleted, oldSpans);
    assert.equal(result.patchesDeleted, patchIds(old).length);
    assert.ok(result.steps >= oldSpans / 200, `${result.steps} steps of about 200 spans`);
    assert.ok(
      insertedDuringRun.filter(Boolean).length >= 2,
      `inserts completed while the run was still deleting (${insertedDuringRun})`,
    );
    assert.ok(
      Math.max(...insertMs) < 5000,
      `no insert waited for the whole run (${insertMs.map(Math.round)})`,
    );

    const kept = [...recent, ...late];
    assert.deepEqual(
      await column("SELECT trace_id || ':' || span_id FROM spans ORDER BY ALL"),
      spanKeys(kept).sort(),
    );
    assert.deepEqual(await column('SELECT patch_id FROM state_patches ORDER BY ALL'), patchIds(kept).sort());
    assert.ok((await column('SELECT patch_id FROM state_patches')).includes(recentPatch.patch_id));

    const pruned = await querySupport();
    assert.ok(pruned.listed!.length > 0 && pruned.llmTraces!.length > 0);
    assert.deepEqual(
      pruned,
      await rebuiltQuerySupport(),
      'the query-support tables agree with the spans left',
    );

    const facts = job.facts().retention as Record<string, unknown>;
    assert.equal(facts.days, 7);
    assert.equal(facts.spans_deleted, oldSpans);
    assert.equal((facts.last_run as { cutoff: string }).cutoff, new Date(NOW_MS - 7 * DAY_MS).toISOString());
  });

  test('more expired spans sharing one start time than a step holds are deleted too', {
    timeout: 60_000, // a bound for a hung run, not a speed check: a busy machine is slow
  }, async () => {
    const batches = batchesStarting(10, 5, 8);
    const sameStart = batches[0]!.spans[0]!.start_time;
    for (const batch of batches) for (const span of batch.spans) span.start_time = sameStart;
    for (const batch of batches) await store.insertBatch(batch);
    const job = new RetentionJob({ store, days: 7, logger, batchSpans: 3, now: () => NOW_MS });
    const result = await job.runOnce();
    assert.equal(result.spansDeleted, spanKeys(batches).length);
    assert.equal(await spanCount(), 0);
  });

  test('a run with nothing expired deletes nothing and writes nothing', async () => {
    for (const batch of batchesStarting(1, 20, 4)) await store.insertBatch(batch);
    await db.checkpoint();
    const before = await column('SELECT count(*) FROM spans');
    const job = new RetentionJob({ store, days: 7, logger, now: () => NOW_MS });
    const result = await job.runOnce();
    assert.deepEqual([result.spansDeleted, result.patchesDeleted, result.steps], [0, 0, 1]);
    assert.deepEqual(await column('SELECT count(*) FROM spans'), before);
  });

  test('runs at start and again every interval, as the clock moves on', async () => {
    const batches = [...batchesStarting(10, 20, 5), ...batchesStarting(1, 20, 6)];
    for (const batch of batches) await store.insertBatch(batch);
    let now = NOW_MS;
    const job = new RetentionJob({ store, days: 7, logger, intervalMs: 50, now: () => now });
    try {
      job.start();
      await waitFor(async () => (job.facts().retention as { runs: number }).runs >= 1);
      assert.equal(await spanCount(), spanKeys(batchesStarting(1, 20, 6)).length);
      now += 7 * DAY_MS; // the recent traces expire too
      await waitFor(async () => (await spanCount()) === 0);
      assert.deepEqual(await querySupport(), { services: [], listed: [], hours: [], llmTraces: [] });
    } finally {
      await job.stop();
    }
  });

  test('without a retention period nothing is ever deleted', async () => {
    for (const batch of batchesStarting(3650, 10, 7)) await store.insertBatch(batch);
    const job = new RetentionJob({ store, days: null, logger, intervalMs: 10 });
    job.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await job.stop();
    assert.equal(await spanCount(), spanKeys(batchesStarting(3650, 10, 7)).length);
    assert.deepEqual(job.facts(), {
      retention: {
        days: null,
        interval_ms: null,
        running: false,
        runs: 0,
        spans_deleted: 0,
        patches_deleted: 0,
        log_records_deleted: 0,
        last_run: null,
      },
    });
  });
});

async function spanCount(): Promise<number> {
  return Number((await column('SELECT count(*) FROM spans'))[0]);
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
