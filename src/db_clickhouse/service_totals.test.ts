// When the in-memory service list may be kept: never from a read that a write to spans_ingest
// overlapped (its rows may or may not be in it), and not after a failed write. The store-level
// test (clickhouse_store.test.ts) compares the list with the summary after real inserts; these
// interleavings are hard to provoke there, so the reads and writes here are held and released.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceSummary } from '../spans/span_store.ts';
import { testSpanRow } from '../spans/test_span_row.ts';
import { ServiceTotals } from './service_totals.ts';

const STORED: ServiceSummary[] = [{ serviceName: 'a', spanCount: 1, traceCount: 1, lastSeenMicros: 10n }];
const span = (service: string, parent: string | null) =>
  testSpanRow({
    trace_id: 't',
    span_id: 's',
    service_name: service,
    start_time: 20n,
    parent_span_id: parent,
  });

/** A promise and the function that settles it. */
function held<T>() {
  let release!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { promise, release, fail };
}

test('a read that a write overlapped in any way is answered but not kept', async () => {
  const totals = new ServiceTotals();
  const read = held<ServiceSummary[]>();
  const loading = totals.load(() => read.promise);
  const insert = held<void>();
  const writing = totals.write([span('a', null)], () => insert.promise);
  read.release(STORED);
  assert.deepEqual(await loading, STORED);
  insert.release();
  await writing;
  assert.equal(totals.list(), null, 'the write began during the read');

  const readAgain = held<ServiceSummary[]>();
  const loadingAgain = totals.load(() => readAgain.promise);
  await totals.write([span('a', null)], async () => {});
  readAgain.release(STORED);
  await loadingAgain;
  assert.equal(totals.list(), null, 'the write began and ended during the read');

  const insertAgain = held<void>();
  const writingAgain = totals.write([span('a', null)], () => insertAgain.promise);
  await totals.load(async () => STORED);
  assert.equal(totals.list(), null, 'the write was under way when the read began');
  insertAgain.release();
  await writingAgain;
});

test('a kept list counts each written span, its roots and newest start, and a failed write forgets it', async () => {
  const totals = new ServiceTotals();
  await totals.load(async () => STORED);
  await totals.write([span('a', 'p'), span('b', null)], async () => {});
  assert.deepEqual(totals.list(), [
    { serviceName: 'a', spanCount: 2, traceCount: 1, lastSeenMicros: 20n },
    { serviceName: 'b', spanCount: 1, traceCount: 1, lastSeenMicros: 20n },
  ]);
  const insert = held<void>();
  const writing = totals.write([span('a', null)], () => insert.promise);
  insert.fail(new Error('insert refused'));
  await assert.rejects(writing, /insert refused/);
  assert.equal(totals.list(), null);
});
