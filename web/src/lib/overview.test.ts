import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkflowStatsBucket } from '../api/types.ts';
import {
  bucketSearchUrl,
  chartColumns,
  clickedSeries,
  countAxisMax,
  formatMs,
  rangeFromParams,
  rangeQuery,
} from './overview.ts';

const bucket = (
  start: string,
  runs: number,
  errors: number,
  p50: number | null = null,
): WorkflowStatsBucket => ({
  start,
  runs,
  errors,
  p50_ms: p50,
  p95_ms: p50,
  p99_ms: p50,
});

test('the range comes from the URL: last 1h/24h/7d, or an absolute from and to; 24 hours by default', () => {
  const read = (query: string) => rangeFromParams(new URLSearchParams(query));
  assert.deepEqual(read(''), { last: '24h' });
  assert.deepEqual(read('last=7d'), { last: '7d' });
  assert.deepEqual(read('last=5y'), { last: '24h' });
  assert.deepEqual(read('from=2025-06-04T00:00:00Z&to=2025-06-05T00:00:00Z'), {
    from: '2025-06-04T00:00:00Z',
    to: '2025-06-05T00:00:00Z',
  });
  assert.deepEqual(read('from=2025-06-04T00:00:00Z'), { last: '24h' });
  assert.deepEqual(read('last=1h&from=2025-06-04T00:00:00Z&to=2025-06-05T00:00:00Z'), { last: '1h' });
});

test('a relative range ends now; an absolute one is sent as it is', () => {
  const now = Date.UTC(2025, 5, 4, 12, 0, 30);
  assert.deepEqual(rangeQuery({ last: '1h' }, now), {
    from: '2025-06-04T11:00:30Z',
    to: '2025-06-04T12:00:30Z',
  });
  assert.deepEqual(rangeQuery({ last: '7d' }, now).from, '2025-05-28T12:00:30Z');
  const absolute = { from: '2025-06-01T00:00:00Z', to: '2025-06-02T00:00:00Z' };
  assert.deepEqual(rangeQuery(absolute, now), absolute);
});

test('a click on a bucket opens the search of its workflow runs, failed ones for the errors bar', () => {
  const b = bucket('2025-06-04T01:15:00.000000Z', 4, 1);
  assert.equal(
    bucketSearchUrl('my svc', 'Ingest & report', b, 900, false),
    '/search?service=my+svc&type=workflow&name=Ingest+%26+report&from=2025-06-04T01%3A15%3A00Z&to=2025-06-04T01%3A30%3A00Z',
  );
  const errors = new URLSearchParams(bucketSearchUrl('s', 'w', b, 60, true).split('?')[1]);
  assert.deepEqual(Object.fromEntries(errors), {
    service: 's',
    type: 'workflow',
    name: 'w',
    from: '2025-06-04T01:15:00Z',
    to: '2025-06-04T01:16:00Z',
    status: 'error',
  });
});

test('the errors bar is hit at or below its height, the runs bar above it', () => {
  const b = bucket('2025-06-04T01:15:00Z', 4, 2);
  assert.equal(clickedSeries(0.1, b), 'errors');
  assert.equal(clickedSeries(2, b), 'errors');
  assert.equal(clickedSeries(2.5, b), 'runs');
  assert.equal(clickedSeries(0, bucket('2025-06-04T01:15:00Z', 4, 0)), 'runs');
});

test('chart columns: bucket middles in seconds, counts, and gaps where no run was', () => {
  const columns = chartColumns(
    [bucket('2025-06-04T01:15:00.000000Z', 2, 1, 12.5), bucket('2025-06-04T01:16:00.000000Z', 0, 0)],
    60,
  );
  const start = Date.UTC(2025, 5, 4, 1, 15) / 1000;
  assert.deepEqual(columns, {
    x: [start + 30, start + 90],
    runs: [2, 0],
    errors: [1, 0],
    p50: [12.5, null],
    p95: [12.5, null],
    p99: [12.5, null],
  });
  assert.equal(countAxisMax([bucket('x', 0, 0)]), 1);
  assert.equal(countAxisMax([bucket('x', 10, 0), bucket('y', 3, 0)]), 11);
});

test('durations read at every scale', () => {
  assert.deepEqual([null, 0, 0.25, 12.4, 1500, 12_500, 90_000].map(formatMs), [
    '–',
    '0 ms',
    '0.25 ms',
    '12 ms',
    '1.50 s',
    '12.5 s',
    '1.5 min',
  ]);
});
