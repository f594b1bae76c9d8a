// The poller against a real write-ahead log, a real SQLite poller_state and a real DuckDB, all in a
// temp dir: batches follow the backlog, a restart resumes after the committed key without
// duplicates, an undecodable record is dead-lettered without blocking the ones after it, and a
// failing insert is retried record by record so only the record that keeps failing is moved aside.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { DuckDbSpanStore } from '../db_duckdb/duckdb_span_store.ts';
import { openSqlite, type Sqlite } from '../db_sqlite/connection.ts';
import {
  createPollerStateRepository,
  type PollerStateRepository,
} from '../db_sqlite/poller_state/poller_state_repository.ts';
import { storeUnavailable } from '../errors.ts';
import { legacyWorkflowTrace, toExportRequest } from '../fixtures/junjo_traces.ts';
import { localWalSource } from '../ingestion/local_wal_source.ts';
import { capturingLogger } from '../ingestion/wal/test_support.ts';
import { WriteAheadLog } from '../ingestion/wal/wal.ts';
import { encodeTraceRequestProtobuf } from '../otlp/encode.ts';
import type { SpanBatch } from '../spans/rows.ts';
import { IngestionPoller, type IngestionPollerOptions } from './ingestion_poller.ts';

interface Harness {
  dir: string;
  wal: WriteAheadLog;
  sqlite: Sqlite;
  store: DuckDbSpanStore;
  pollerState: PollerStateRepository;
  pollers: IngestionPoller[];
}

let h: Harness;

beforeEach(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'junjo-poller-'));
  const { logger } = capturingLogger();
  const store = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), logger);
  await store.prepare();
  const sqlite = openSqlite(path.join(dir, 'junjo.db'), logger);
  h = {
    dir,
    wal: await WriteAheadLog.open(path.join(dir, 'wal'), { groupCommitMs: 0, logger }),
    sqlite,
    store,
    pollerState: createPollerStateRepository(sqlite),
    pollers: [],
  };
});

afterEach(async () => {
  for (const poller of h.pollers) await poller.stop();
  await h.wal.close();
  await h.store.close();
  h.sqlite.close();
  rmSync(h.dir, { recursive: true, force: true });
});

/** A poller on the harness stores; the fallback interval is long, so only appends wake it. */
function startPoller(options: Partial<IngestionPollerOptions> = {}): IngestionPoller {
  const poller = new IngestionPoller({
    source: localWalSource(h.wal),
    store: h.store,
    node: 'local',
    pollerState: () => h.pollerState,
    logger: capturingLogger().logger,
    intervalMs: 60_000,
    deadLetterDir: path.join(h.dir, 'dead-letter'),
    ...options,
  });
  h.pollers.push(poller);
  return poller;
}

let seed = 0;
/** Appends one export of a fresh workflow trace; returns its key and span count. */
async function appendTrace(): Promise<{ key: bigint; spans: number; traceId: string }> {
  const trace = legacyWorkflowTrace({ seed: ++seed });
  const payload = encodeTraceRequestProtobuf(toExportRequest(trace.spans));
  const key = await h.wal.append(payload, {
    receivedAtMs: Date.now(),
    apiKeyId: 'key-1',
    format: 'protobuf',
  });
  return { key, spans: trace.spans.length, traceId: trace.traceId };
}

async function appendGarbage(format: 'protobuf' | 'json'): Promise<bigint> {
  const payload = Buffer.from(format === 'json' ? '{"resourceSpans": [' : 'definitely not protobuf \xff');
  return h.wal.append(payload, { receivedAtMs: Date.now(), apiKeyId: 'key-1', format });
}

async function storedSpans(): Promise<{ total: number; distinct: number }> {
  return h.store.db.read(async (conn) => {
    const reader = await conn.runAndReadAll(
      'SELECT count(*)::INTEGER, count(DISTINCT (trace_id, span_id))::INTEGER FROM spans',
    );
    const [total, distinct] = reader.getRows()[0] as [number, number];
    return { total, distinct };
  });
}

async function storedTraceIds(): Promise<Set<string>> {
  return h.store.db.read(async (conn) => {
    const reader = await conn.runAndReadAll('SELECT DISTINCT trace_id FROM spans');
    return new Set(reader.getRows().map((row) => row[0] as string));
  });
}

const committed = (poller: IngestionPoller, key: bigint) =>
  waitFor(() => poller.lastKey === key, `the poller to commit key ${key}`, 10_000);

test('a backlog is indexed in one batch, a trickle one record per batch, and a byte limit splits batches', async () => {
  let total = 0;
  let last = 0n;
  for (let i = 0; i < 40; i++) {
    const appended = await appendTrace();
    total += appended.spans;
    last = appended.key;
  }
  const poller = startPoller();
  await poller.start();
  await committed(poller, last);
  assert.equal(poller.stats.records, 40);
  assert.equal(poller.stats.batches, 1, 'the whole backlog in one transaction');

  for (let i = 0; i < 3; i++) {
    const appended = await appendTrace();
    total += appended.spans;
    await committed(poller, appended.key);
  }
  assert.equal(poller.stats.batches, 4, 'the poller wakes on each append and commits it alone');
  assert.equal(poller.stats.spans_indexed, total);
  await poller.stop();

  // A second poller on a fresh cursor, limited to about three records' bytes per read.
  h.pollerState.setLastKey(last + 3n);
  let limited = 0;
  for (let i = 0; i < 10; i++) {
    const appended = await appendTrace();
    limited += appended.spans;
    last = appended.key;
  }
  const recordBytes = (await h.wal.readAfter(last - 1n, { maxRecords: 1, maxBytes: 1 }))[0]!.payload.length;
  const small = startPoller({ limits: { maxRecords: 2048, maxBytes: recordBytes * 3 } });
  await small.start();
  await committed(small, last);
  assert.equal(small.stats.records, 10);
  assert.ok(small.stats.batches >= 3, `${small.stats.batches} batches`);
  assert.equal(small.stats.spans_indexed, limited);
  assert.deepEqual(await storedSpans(), { total: total + limited, distinct: total + limited });
});

/** Holds the store's writer, as a checkpoint or a reopen of DuckDB's file holds it under load; returns the release. */
function holdWriter(): () => Promise<void> {
  const held = Promise.withResolvers<void>();
  const holding = h.store.db.write(() => held.promise);
  return async () => {
    held.resolve();
    await holding;
  };
}

/** Appends `count` traces 20 ms apart (time for a poller to read each, if it would); the last key. */
async function appendSpaced(count: number): Promise<bigint> {
  let last = 0n;
  for (let i = 0; i < count; i++) {
    last = (await appendTrace()).key;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return last;
}

/** Appends `count` traces while the writer is held, then waits until the poller has committed them. */
async function appendWhileWriterHeld(poller: IngestionPoller, count: number): Promise<void> {
  const release = holdWriter();
  const last = await appendSpaced(count);
  await release();
  await committed(poller, last);
}

test('exports that arrive while the store is busy with its own work join the batch that waited for it', async () => {
  const poller = startPoller();
  await poller.start();
  const first = await appendTrace();
  await committed(poller, first.key);
  await appendWhileWriterHeld(poller, 5);
  assert.equal(poller.stats.records, 6);
  assert.equal(poller.stats.batches, 2, 'the five exports in one batch, not the first alone before the rest');
  assert.equal(poller.stats.spans_indexed, (await storedSpans()).total);
});

test('what arrived while the store was busy joins a batch only within its byte limit', async () => {
  const first = await appendTrace();
  const recordBytes = (await h.wal.readAfter(first.key - 1n, { maxRecords: 1, maxBytes: 1 }))[0]!.payload
    .length;
  // Room for one record and a half: a batch holds one of these records, never two.
  const poller = startPoller({ limits: { maxRecords: 2048, maxBytes: Math.floor(recordBytes * 1.5) } });
  await poller.start();
  await committed(poller, first.key);
  await appendWhileWriterHeld(poller, 4);
  assert.equal(poller.stats.records, 5);
  assert.equal(poller.stats.batches, 5, 'one record per batch');
});

test('a failed read of what arrived while the store was busy leaves it to the next batch', async () => {
  const source = localWalSource(h.wal);
  let failNextReadAfter: bigint | null = null;
  const poller = startPoller({
    source: {
      ...source,
      read: async (afterKey, limits) => {
        if (afterKey !== null && afterKey === failNextReadAfter) {
          failNextReadAfter = null;
          throw new Error('simulated read failure');
        }
        return source.read(afterKey, limits);
      },
    },
  });
  await poller.start();
  const first = await appendTrace();
  await committed(poller, first.key);
  const release = holdWriter();
  const waiting = await appendTrace();
  failNextReadAfter = waiting.key; // the read of what arrives after it, while the writer is held
  await new Promise((resolve) => setTimeout(resolve, 20));
  const last = await appendSpaced(3);
  await release();
  await committed(poller, last);
  assert.equal(failNextReadAfter, null, 'the read after the waiting batch was tried');
  assert.equal(poller.stats.failures, 0, 'the batch was not failed for it');
  assert.equal(poller.stats.batches, 3, 'the waiting batch alone, then the three after it');
  assert.equal(poller.stats.records, 5);
});

test('a restarted poller resumes after the committed key; a replayed batch adds no duplicates', async () => {
  let first = 0;
  let key = 0n;
  for (let i = 0; i < 5; i++) {
    const appended = await appendTrace();
    first += appended.spans;
    key = appended.key;
  }
  const one = startPoller();
  await one.start();
  await committed(one, key);
  await one.stop();
  assert.equal(h.pollerState.getLastKey(), key);

  let second = 0;
  for (let i = 0; i < 5; i++) {
    const appended = await appendTrace();
    second += appended.spans;
    key = appended.key;
  }
  const two = startPoller();
  await two.start();
  await committed(two, key);
  await two.stop();
  assert.equal(two.stats.records, 5, 'only the records after the cursor');
  assert.equal(two.stats.spans_indexed, second);

  // A crash after the DuckDB commit but before the cursor update: the cursor is behind.
  h.pollerState.setLastKey(3n);
  const three = startPoller();
  await three.start();
  await committed(three, key);
  assert.equal(three.stats.records, 7, 'records 4..10 are read again');
  assert.equal(three.stats.spans_indexed, 0, 'and none of their spans is inserted twice');
  assert.deepEqual(await storedSpans(), { total: first + second, distinct: first + second });
});

test('an undecodable record is dead-lettered with a log line and does not block later records', async () => {
  const before = await appendTrace();
  const badProtobuf = await appendGarbage('protobuf');
  const badJson = await appendGarbage('json');
  const afterwards = await appendTrace();
  const { logger, lines } = capturingLogger();
  const poller = startPoller({ logger });
  await poller.start();
  await committed(poller, afterwards.key);

  assert.deepEqual(await storedTraceIds(), new Set([before.traceId, afterwards.traceId]));
  assert.equal(poller.stats.dead_lettered, 2);
  for (const [key, extension] of [
    [badProtobuf, 'pb'],
    [badJson, 'json'],
  ] as const) {
    const base = path.join(h.dir, 'dead-letter', key.toString().padStart(20, '0'));
    assert.ok(existsSync(`${base}.${extension}`), 'the payload is kept');
    const reason = JSON.parse(readFileSync(`${base}.reason.json`, 'utf8')) as { key: string; reason: string };
    assert.equal(reason.key, key.toString());
    assert.match(reason.reason, /cannot decode/);
    assert.ok(
      lines.some((line) => line.msg === 'WAL record moved to dead-letter' && line.walKey === key.toString()),
      'a log line names the record',
    );
  }
});

/** The real store, except that batches holding `poisonTraceId` fail (`failures` times, or always). */
function poisonedStore(poisonTraceId: () => string | null, failures = Number.POSITIVE_INFINITY) {
  const attempts: number[] = [];
  return {
    attempts,
    insertBatch: async (batch: SpanBatch) => {
      const poison = poisonTraceId();
      if (poison !== null && batch.spans.some((span) => span.trace_id === poison)) {
        attempts.push(batch.spans.length);
        if (attempts.length <= failures) throw new Error('simulated insert failure');
      }
      return h.store.insertBatch(batch);
    },
  };
}

test('a failing batch is retried record by record: only the record that keeps failing is dead-lettered', async () => {
  let poison: string | null = null;
  const store = poisonedStore(() => poison);
  const first = await appendTrace();
  const bad = await appendTrace();
  poison = bad.traceId;
  const third = await appendTrace();
  const fourth = await appendTrace();
  const { logger, lines } = capturingLogger();
  const poller = startPoller({ store, logger });
  await poller.start();
  await committed(poller, fourth.key);

  assert.deepEqual(await storedTraceIds(), new Set([first.traceId, third.traceId, fourth.traceId]));
  assert.equal(store.attempts.length, 4, 'the batch once, then the record three times');
  assert.ok(lines.some((line) => line.msg === 'batch insert failed; retrying record by record'));
  assert.equal(poller.stats.dead_lettered, 1);
  const reason = readFileSync(
    path.join(h.dir, 'dead-letter', `${bad.key.toString().padStart(20, '0')}.reason.json`),
    'utf8',
  );
  assert.match(reason, /insert failed 3 times/);
});

test('a record that fails alone is also dead-lettered after its attempts, never retried forever', async () => {
  let poison: string | null = null;
  const store = poisonedStore(() => poison);
  const poller = startPoller({ store });
  await poller.start();
  const bad = legacyWorkflowTrace({ seed: 10_000 });
  poison = bad.traceId;
  const badKey = await h.wal.append(encodeTraceRequestProtobuf(toExportRequest(bad.spans)), {
    receivedAtMs: Date.now(),
    apiKeyId: 'key-1',
    format: 'protobuf',
  });
  // Three quick attempts (the batch, then two retries of the record) and it is moved aside, even
  // though no other record arrives to share a batch with it.
  await waitFor(() => poller.stats.dead_lettered === 1, 'the lone record to be dead-lettered', 3000);
  assert.equal(poller.lastKey, badKey);
  const next = await appendTrace();
  await committed(poller, next.key);
  assert.equal(poller.stats.dead_lettered, 1);
  assert.ok(existsSync(path.join(h.dir, 'dead-letter', `${badKey.toString().padStart(20, '0')}.pb`)));
  assert.ok((await storedTraceIds()).has(next.traceId));
});

test('a transient insert failure is retried and loses nothing', async () => {
  let poison: string | null = null;
  const store = poisonedStore(() => poison, 1);
  const first = await appendTrace();
  poison = first.traceId;
  const second = await appendTrace();
  const poller = startPoller({ store });
  await poller.start();
  await committed(poller, second.key);
  assert.equal(poller.stats.dead_lettered, 0);
  assert.deepEqual(await storedTraceIds(), new Set([first.traceId, second.traceId]));
});

test('a stop during the backoff of a store that cannot write ends the wait: no attempt after it', async () => {
  const attempts: number[] = [];
  const store = {
    insertBatch: async (_batch: SpanBatch): Promise<never> => {
      attempts.push(Date.now());
      throw storeUnavailable('simulated: disk full', new Error('No space left on device'));
    },
  };
  await appendTrace();
  const poller = startPoller({ store });
  await poller.start();
  // The batch, then the record (backoff 500 ms), then again (backoff 1 s, then 2 s): stopped in a wait.
  await waitFor(() => attempts.length >= 3, 'three attempts on the unavailable store', 10_000);
  const before = attempts.length;
  await poller.stop();
  assert.equal(attempts.length, before, 'an attempt after the stop: the backoff was waited out');
});
