import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isUnavailable } from '../errors.ts';
import { createLogger } from '../logger.ts';
import type { SpanRow, StatePatchRow } from '../spans/rows.ts';
import { testSpanRow } from '../spans/test_span_row.ts';
import { type DuckDb, openDuckDb } from './connection.ts';
import { isDuckDbUnavailable, SpanRepository } from './span_repository.ts';
import { prepareQuerySupport } from './summaries.ts';

let dir: string;
let file: string;
let db: DuckDb;
let repo: SpanRepository;
let logLines: { level: number; msg: string; skipped?: number }[];
let counter = 0;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-duckdb-repository-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  logLines = [];
  const logger = createLogger('info', { write: (line: string) => logLines.push(JSON.parse(line)) });
  file = path.join(dir, `spans-${++counter}.duckdb`);
  db = await openDuckDb(file, logger);
  await prepareQuerySupport(db);
  repo = new SpanRepository(db, logger);
});
afterEach(async () => {
  await db.close();
});

function span(fields: Partial<SpanRow> = {}): SpanRow {
  const n = ++counter;
  return testSpanRow({
    trace_id: `${n}`.padStart(32, 'a'),
    span_id: `${n}`.padStart(16, 'b'),
    service_name: 'svc',
    name: `span ${n}`,
    start_time: 1_700_000_000_000_000n + BigInt(n),
    end_time: 1_700_000_000_500_000n + BigInt(n),
    status_code: 'OK',
    attributes_json: '{"k":1}',
    junjo_span_type: 'node',
    ...fields,
  });
}

function patch(of: SpanRow, fields: Partial<StatePatchRow> = {}): StatePatchRow {
  return {
    patch_id: `patch-${++counter}`,
    service_name: of.service_name,
    trace_id: of.trace_id,
    span_id: of.span_id,
    workflow_id: 'wf',
    node_id: 'node',
    event_time: of.start_time + 1n,
    patch_json: '[{"op":"add","path":"/a","value":1}]',
    patch_store_id: 'store',
    ...fields,
  };
}

async function stored(): Promise<{ spans: number; patches: number }> {
  return { spans: await repo.countSpans(), patches: await repo.countStatePatches() };
}

const spans = (n: number) => Array.from({ length: n }, () => span());

describe('SpanRepository.insertBatch', () => {
  test('inserts spans and patches and returns how many rows went in', async () => {
    const batch = spans(3);
    const patches = [patch(batch[0]!), patch(batch[0]!), patch(batch[2]!)];
    assert.deepEqual(await repo.insertBatch({ spans: batch, patches }), {
      spans: 3,
      patches: 3,
      logRecords: 0,
    });
    assert.deepEqual(await stored(), { spans: 3, patches: 3 });
  });

  test('the same batch a second time inserts nothing', async () => {
    const batch = spans(5);
    const patches = batch.map((s) => patch(s));
    await repo.insertBatch({ spans: batch, patches });
    assert.deepEqual(await repo.insertBatch({ spans: batch, patches }), {
      spans: 0,
      patches: 0,
      logRecords: 0,
    });
    assert.deepEqual(await stored(), { spans: 5, patches: 5 });
  });

  test('a batch mixing stored and new rows inserts exactly the new ones', async () => {
    const old = spans(4);
    const oldPatches = old.map((s) => patch(s));
    await repo.insertBatch({ spans: old, patches: oldPatches });
    const fresh = spans(3);
    const freshPatches = [patch(fresh[0]!), patch(old[1]!)];
    const counts = await repo.insertBatch({
      spans: [old[0]!, ...fresh, old[3]!],
      patches: [oldPatches[2]!, ...freshPatches],
    });
    assert.deepEqual(counts, { spans: 3, patches: 2, logRecords: 0 });
    assert.deepEqual(await stored(), { spans: 7, patches: 6 });
  });

  test('a row repeated within one batch is inserted once', async () => {
    const [a, b] = spans(2) as [SpanRow, SpanRow];
    const p = patch(a);
    assert.deepEqual(await repo.insertBatch({ spans: [a, b, a, { ...a }], patches: [p, p] }), {
      spans: 2,
      patches: 1,
      logRecords: 0,
    });
    // Again, together with a stored row (the INSERT OR IGNORE path).
    const c = span();
    const q = patch(c);
    assert.deepEqual(await repo.insertBatch({ spans: [a, c, c], patches: [q, q, p] }), {
      spans: 1,
      patches: 1,
      logRecords: 0,
    });
    assert.deepEqual(await stored(), { spans: 3, patches: 2 });
  });

  test('patches may reference spans of the same batch or spans stored earlier', async () => {
    const earlier = span();
    await repo.insertBatch({ spans: [earlier], patches: [] });
    const now = span();
    const counts = await repo.insertBatch({ spans: [now], patches: [patch(now), patch(earlier)] });
    assert.deepEqual(counts, { spans: 1, patches: 2, logRecords: 0 });
  });

  test('patches whose span exists nowhere are skipped with a warning; the rest is stored', async () => {
    const s = span();
    const nowhere = span();
    for (const batch of [
      { spans: [s], patches: [patch(s), patch(nowhere), patch(nowhere)] }, // append path
      { spans: [s], patches: [patch(s), patch(nowhere)] }, // INSERT OR IGNORE path (s is stored)
    ]) {
      assert.deepEqual((await repo.insertBatch(batch)).patches, 1);
    }
    assert.deepEqual(await stored(), { spans: 1, patches: 2 });
    const warnings = logLines.filter((l) => l.msg.startsWith('state patches skipped'));
    assert.deepEqual(
      warnings.map((w) => w.skipped),
      [2, 1],
    );
  });

  test('a batch with an invalid row leaves nothing behind, on either path', async () => {
    const stored0 = span();
    await repo.insertBatch({ spans: [stored0], patches: [] });
    const invalidSpan = { ...span(), service_name: null as unknown as string };
    for (const extra of [[], [stored0]]) {
      const good = spans(3);
      await assert.rejects(
        repo.insertBatch({ spans: [...extra, ...good, invalidSpan], patches: good.map((s) => patch(s)) }),
        /NOT NULL constraint failed: spans\.service_name/,
      );
    }
    // A bad patch after good spans: the spans of its batch must go too.
    const good = spans(3);
    const badPatch = { ...patch(good[0]!), patch_json: null as unknown as string };
    await assert.rejects(
      repo.insertBatch({ spans: good, patches: [patch(good[1]!), badPatch] }),
      /NOT NULL constraint failed: state_patches\.patch_json/,
    );
    assert.deepEqual(await stored(), { spans: 1, patches: 0 });
    assert.deepEqual(await repo.insertBatch({ spans: good, patches: [patch(good[1]!)] }), {
      spans: 3,
      patches: 1,
      logRecords: 0,
    });
  });

  test('rows of a batch that failed the append path never turn up later', async () => {
    // A failed appender flush keeps its rows; closing that appender later (e.g. when it is garbage
    // collected) would append them. Provoke it, remove the rows the fallback stored, collect.
    const first = span();
    await repo.insertBatch({ spans: [first], patches: [] });
    const batch = [first, ...spans(3)];
    assert.equal((await repo.insertBatch({ spans: batch, patches: [] })).spans, 3);
    await db.write((conn) => conn.run('DELETE FROM spans'));
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    await db.write(async () => {});
    assert.deepEqual(await stored(), { spans: 0, patches: 0 });
  });

  test('every column round-trips, timestamps to the microsecond', async () => {
    const s = span({
      parent_span_id: 'cccccccccccccccc',
      kind: 'SERVER',
      start_time: 1_731_234_567_891_234n,
      end_time: 1_731_234_567_891_235n,
      status_code: 'ERROR',
      status_message: 'boom',
      attributes_json: '{"a":[1,2,{"b":null}],"ü":"✓"}',
      events_json: '[{"name":"e"}]',
      links_json: '[{"trace_id":"x"}]',
      trace_flags: 257,
      trace_state: 'k=v',
      junjo_id: 'jid',
      junjo_parent_id: 'jpid',
      junjo_span_type: 'workflow',
      junjo_wf_state_start: '{"s":0}',
      junjo_wf_state_end: '{"s":1}',
      junjo_wf_graph_structure: '{"v":2}',
      junjo_wf_store_id: 'store-1',
    });
    const p = patch(s, { event_time: 1_731_234_567_891_299n });
    await repo.insertBatch({ spans: [s], patches: [p] });
    const [spanBack, patchBack] = await db.read(async (conn) => {
      const read = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS()[0];
      return [
        await read(`SELECT * REPLACE (epoch_us(start_time) AS start_time, epoch_us(end_time) AS end_time)
                    FROM spans`),
        await read('SELECT * REPLACE (epoch_us(event_time) AS event_time) FROM state_patches'),
      ];
    });
    assert.deepEqual(spanBack, { ...s });
    assert.deepEqual(patchBack, { ...p });
  });

  test('readers during a long batch see none of it or all of it, and are not held up', async () => {
    const batch = spans(20_000);
    const patches = batch.slice(0, 5000).map((s) => patch(s));
    let done = false;
    const inserting = repo.insertBatch({ spans: batch, patches }).finally(() => {
      done = true;
    });
    const seen: { spans: number; duringWrite: boolean }[] = [];
    while (!done) {
      const spans = await repo.countSpans();
      seen.push({ spans, duringWrite: !done });
    }
    await inserting;
    assert.ok(
      seen.some((s) => s.duringWrite),
      'at least one read completed while the batch was being written',
    );
    for (const s of seen) assert.ok(s.spans === 0 || s.spans === 20_000, `saw ${s.spans} spans`);
    assert.deepEqual(await stored(), { spans: 20_000, patches: 5000 });
  });

  test('close() while a batch is being inserted finishes that batch', async () => {
    const batch = spans(5000);
    const inserting = repo.insertBatch({ spans: batch, patches: batch.map((s) => patch(s)) });
    await db.close();
    assert.deepEqual(await inserting, { spans: 5000, patches: 5000, logRecords: 0 });
    db = await openDuckDb(file, createLogger('silent'));
    repo = new SpanRepository(db, createLogger('silent'));
    assert.deepEqual(await stored(), { spans: 5000, patches: 5000 });
  });

  test('an empty batch is a no-op', async () => {
    assert.deepEqual(await repo.insertBatch({ spans: [], patches: [] }), {
      spans: 0,
      patches: 0,
      logRecords: 0,
    });
  });
});

describe('SpanRepository single-table helpers', () => {
  test('batchInsertSpans and batchInsertStatePatches return the rows actually inserted', async () => {
    const batch = spans(4);
    assert.equal(await repo.batchInsertSpans(batch), 4);
    assert.equal(await repo.batchInsertSpans([...batch, span()]), 1);
    const patches = batch.map((s) => patch(s));
    assert.equal(await repo.batchInsertStatePatches(patches), 4);
    assert.equal(await repo.batchInsertStatePatches([...patches, patch(span())]), 0);
    assert.deepEqual(await stored(), { spans: 5, patches: 4 });
  });
});

// Small rows at a small limit: what fills it is what every row keeps in memory until a checkpoint
// (~20 s of inserts here on a quiet machine).
const OOM_TEST_LIMIT = '16MiB';
const OOM_TEST_BATCH_SPANS = 500;
const OOM_TEST_MAX_BATCHES = 2000;

describe('DuckDB out of memory', () => {
  test('a batch over the memory limit goes in by smaller chunks, each after DuckDB released what it held', async () => {
    const lines: { msg: string; spans?: number }[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(JSON.parse(line)) });
    const small = await openDuckDb(path.join(dir, `small-${++counter}.duckdb`), logger, {
      memoryLimit: '16MiB',
      threads: 1,
    });
    try {
      await prepareQuerySupport(small);
      // ~40 MB of attributes: more than the limit holds in one transaction.
      const spans = Array.from({ length: 2000 }, (_, i) =>
        span({ attributes_json: JSON.stringify({ k: 'x'.repeat(20_000) + i }) }),
      );
      const inserted = await new SpanRepository(small, logger).insertBatch({
        spans,
        patches: spans.map((s) => patch(s)),
      });
      assert.deepEqual(inserted, { spans: 2000, patches: 2000, logRecords: 0 });
      const halvings = lines.filter((line) => line.msg.startsWith('DuckDB out of memory while inserting'));
      assert.ok(halvings.length >= 1, 'the whole batch ran out of memory first');
      assert.equal(halvings[0]?.spans, 2000);
      const counted = await small.read((conn) =>
        conn.runAndReadAll(
          'SELECT (SELECT count(*) FROM spans)::INTEGER, (SELECT count(*) FROM state_patches)::INTEGER',
        ),
      );
      assert.deepEqual(counted.getRows(), [[2000, 2000]]);
    } finally {
      await small.close();
    }
  });

  test('a span over the memory limit rejects as store-unavailable (waited out by the poller, never dead-lettered)', async () => {
    const logger = createLogger('error', { write: () => {} });
    const small = await openDuckDb(path.join(dir, `small-${++counter}.duckdb`), logger, {
      memoryLimit: '16MiB',
      threads: 1,
    });
    try {
      await prepareQuerySupport(small);
      const huge = span({ attributes_json: JSON.stringify({ k: 'x'.repeat(24 * 2 ** 20) }) });
      await assert.rejects(
        new SpanRepository(small, logger).insertBatch({ spans: [huge], patches: [] }),
        (error) => {
          assert.ok(isUnavailable(error), String(error));
          return true;
        },
      );
    } finally {
      await small.close();
    }
  });

  /**
   * Inserts batches at a small limit with no idle or held-memory checkpoint (under a steady load
   * there is no idle moment; what is tested is the last resort, for when the limit fills anyway)
   * until an insert has run out of memory and three more batches went in. Returns the warnings.
   */
  async function fillUntilOutOfMemory(blockSize: number): Promise<string[]> {
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(JSON.parse(line)) });
    const small = await openDuckDb(path.join(dir, `steady-${++counter}.duckdb`), logger, {
      memoryLimit: OOM_TEST_LIMIT,
      threads: 1,
      blockSize,
      idleCheckpointMs: 0,
      heldMemoryCheckpointShare: Number.POSITIVE_INFINITY,
    });
    try {
      await prepareQuerySupport(small);
      const repository = new SpanRepository(small, logger);
      const recovered = () =>
        lines.some((line) => line.msg.startsWith('DuckDB out of memory while inserting'));
      let inserted = 0;
      let batchesAfterRecovery = 0;
      for (let batch = 0; batch < OOM_TEST_MAX_BATCHES && batchesAfterRecovery < 3; batch++) {
        const spans = Array.from({ length: OOM_TEST_BATCH_SPANS }, () => span());
        inserted += (await repository.insertBatch({ spans, patches: [] })).spans;
        if (recovered()) batchesAfterRecovery++;
      }
      assert.ok(recovered(), `no insert ran out of memory at ${OOM_TEST_LIMIT} within ${inserted} spans`);
      const counted = await small.read((conn) => conn.runAndReadAll('SELECT count(*)::INTEGER FROM spans'));
      assert.equal(counted.getRows()[0]?.[0], inserted, 'every batch went in once');
      return lines.map((line) => line.msg);
    } finally {
      await small.close();
    }
  }

  test('rows held in memory until a checkpoint fill the limit: the insert checkpoints and goes on', async () => {
    // With 16 KiB blocks the insert itself runs out of memory, before its COMMIT.
    await fillUntilOutOfMemory(16 * 1024);
  });

  test('a COMMIT that runs out of memory leaves no key behind: the file is opened again and the rows go in', async () => {
    // With 64 KiB blocks the same load runs out at the COMMIT, whose revert left the batch's keys
    // in the primary-key index: without opening the file again the retry failed as a duplicate of
    // itself ("Duplicate key … violates primary key constraint") and the batch was lost.
    const warnings = await fillUntilOutOfMemory(64 * 1024);
    assert.ok(
      warnings.some((msg) => msg.startsWith('DuckDB COMMIT failed')),
      `no COMMIT failed: ${warnings.join(' | ')}`,
    );
  });

  test('a commit that cannot pin a block is DuckDB out of memory, not a bad row', () => {
    // Verbatim from a full ingestion load at a 128 MiB limit, where it dead-lettered exports.
    const commitFailure =
      'Error: TransactionContext Error: Failed to commit: failed to pin block of size 256.0 KiB (127.8 MiB/128.0 MiB used)';
    assert.equal(isDuckDbUnavailable(commitFailure), true);
    assert.equal(
      isDuckDbUnavailable('Error: Constraint Error: Duplicate key "span_id: x" violates primary key'),
      false,
    );
  });
});
