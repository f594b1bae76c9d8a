import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newestRunStart, sliceStarts } from './run_slices.ts';
import type { WorkflowRunFilter } from './workflow_run_filter.ts';

const ANY_RUN: WorkflowRunFilter = { nodes: [], notNodes: [], failedNodes: [], stateOf: 'end', state: [] };

test('slices start where the newest hours reach limit × 8 runs, then four times as many', () => {
  const hours: [bigint, bigint][] = [
    [10n, 100n],
    [9n, 300n],
    [8n, 5n],
    [7n, 2000n],
    [6n, 10n],
  ];
  // 400 runs reached at hour 9; then 1600: reached at hour 7 (2405); then 9620: never.
  assert.deepEqual(sliceStarts(hours, 50, ANY_RUN), [9n, 7n]);
  assert.deepEqual(sliceStarts(hours, 1000, ANY_RUN), []);
  assert.deepEqual(sliceStarts([], 50, ANY_RUN), []);
  // A slice may not start at or before the filter's own lower bound: the last slice ends there.
  assert.deepEqual(sliceStarts(hours, 50, { ...ANY_RUN, fromMicros: 7n }), [9n]);
});

test("the newest start a page may hold is the filter's `to` or just after the cursor, the earlier", () => {
  assert.equal(newestRunStart(ANY_RUN, { limit: 50 }), undefined);
  assert.equal(newestRunStart({ ...ANY_RUN, toMicros: 100n }, { limit: 50 }), 100n);
  const cursor = { limit: 50, before: { startTime: 40n } };
  assert.equal(newestRunStart({ ...ANY_RUN, toMicros: 100n }, cursor), 41n);
  assert.equal(newestRunStart({ ...ANY_RUN, toMicros: 10n }, cursor), 10n);
});
