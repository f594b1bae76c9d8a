import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from '../spans/rows.ts';
import { CHUNK_SHARE, IndexLoadEstimate, takeChunk } from './insert_chunks.ts';

const MIB = 2 ** 20;

// Only the keys matter to the split.
const span = (traceId: string, spanId: string) => ({ trace_id: traceId, span_id: spanId }) as SpanRow;
const patch = (traceId: string, spanId: string, patchId: string) =>
  ({ trace_id: traceId, span_id: spanId, patch_id: patchId }) as StatePatchRow;
const ids = (rows: readonly { span_id?: string; patch_id?: string }[]) =>
  rows.map((r) => r.patch_id ?? r.span_id);

describe('takeChunk', () => {
  const batch: SpanBatch = {
    spans: [span('t1', 'a'), span('t1', 'b'), span('t2', 'c'), span('t2', 'd')],
    patches: [
      patch('t2', 'd', 'p-d'),
      patch('t1', 'a', 'p-a'),
      patch('t9', 'z', 'p-stored'),
      patch('t2', 'c', 'p-c'),
    ],
    logRecords: [{ log_id: 'l1' } as LogRecordRow],
  };

  test('a batch that fits is one chunk, the same object', () => {
    assert.deepEqual(takeChunk(batch, 4), { chunk: batch, rest: null });
  });

  test('each patch goes with its span; patches of spans outside the batch and log records go first', () => {
    const first = takeChunk(batch, 2);
    assert.deepEqual(ids(first.chunk.spans), ['a', 'b']);
    assert.deepEqual(ids(first.chunk.patches), ['p-a', 'p-stored']);
    assert.deepEqual(first.chunk.logRecords, batch.logRecords);
    assert.ok(first.rest);
    assert.deepEqual(ids(first.rest.spans), ['c', 'd']);
    assert.deepEqual(ids(first.rest.patches), ['p-d', 'p-c']);
    assert.equal(first.rest.logRecords, undefined);

    const second = takeChunk(first.rest, 1);
    assert.deepEqual(ids(second.chunk.spans), ['c']);
    assert.deepEqual(ids(second.chunk.patches), ['p-c']);
    assert.deepEqual(ids(second.rest?.patches ?? []), ['p-d']);
  });
});

describe('IndexLoadEstimate', () => {
  const limit = 128 * MIB;

  test('batches go in whole until an insert runs out of memory, however much they load', () => {
    const estimate = new IndexLoadEstimate();
    assert.equal(estimate.chunkSpans(limit), Number.POSITIVE_INFINITY);
    estimate.observe(500, 100 * MIB, limit);
    assert.equal(estimate.chunkSpans(limit), Number.POSITIVE_INFINITY);
  });

  test('after that: a chunk over its share raises the bytes per span at once, a lower one lowers them by a quarter', () => {
    const estimate = new IndexLoadEstimate();
    estimate.outOfMemory(512, limit); // the next chunk: 256 spans, 128 KiB each at a quarter of 128 MiB
    assert.equal(estimate.chunkSpans(limit), 256);
    estimate.observe(100, 64 * MIB, limit); // 655 KiB per span, over the share
    assert.equal(estimate.chunkSpans(limit), Math.floor((limit * CHUNK_SHARE) / ((64 * MIB) / 100)));
    assert.equal(estimate.chunkSpans(limit), 50);
    estimate.observe(100, 16 * MIB, limit); // a quarter of the way down to 164 KiB: 532 KiB per span
    assert.equal(estimate.bytesPerSpan, (64 * MIB) / 100 - 0.25 * ((48 * MIB) / 100));
    assert.equal(estimate.chunkSpans(limit), 61);
    estimate.observe(10, 20 * MIB, limit); // more per span, but within the share: no change
    assert.equal(estimate.chunkSpans(limit), 61);
    estimate.observe(40, 40 * MIB, limit); // over the share: 1 MiB per span
    assert.equal(estimate.chunkSpans(limit), 32);
  });

  test('out of memory: the next chunk is at most half the one that failed, and never under one span', () => {
    const estimate = new IndexLoadEstimate();
    estimate.outOfMemory(4000, limit);
    assert.equal(estimate.chunkSpans(limit), 2000);
    estimate.outOfMemory(2000, limit);
    assert.equal(estimate.chunkSpans(limit), 1000);
    for (let i = 0; i < 20; i++) estimate.outOfMemory(1, limit);
    assert.equal(estimate.chunkSpans(limit), 1);
  });
});
