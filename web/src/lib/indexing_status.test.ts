import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PollerFacts } from '../api/types.ts';
import { describeIndexing, indexingStatus } from './indexing_status.ts';

const poller = (changes: Partial<PollerFacts>): PollerFacts => ({
  node: 'local',
  node_id: null,
  batches: 1,
  records: 1,
  spans_indexed: 10,
  patches_indexed: 0,
  log_records_indexed: 0,
  dead_lettered: 0,
  failures: 0,
  last_key: '1',
  lag_seconds: 0,
  last_commit_ms_ago: 100,
  consecutive_failures: 0,
  last_error: null,
  last_error_at: null,
  ...changes,
});

test('says nothing while every poller keeps up, or lags by an ordinary few seconds', () => {
  assert.equal(indexingStatus([]), null);
  assert.equal(indexingStatus([poller({}), poller({ node: 'b:50052', lag_seconds: 9.9 })]), null);
  assert.equal(indexingStatus([poller({ lag_seconds: null, consecutive_failures: 2 })]), null);
});

test('says how far the slowest poller is behind', () => {
  const status = indexingStatus([poller({ lag_seconds: 12 }), poller({ node: 'b:50052', lag_seconds: 150 })]);
  assert.deepEqual(status, { kind: 'behind', seconds: 150 });
  assert.deepEqual(describeIndexing(status!), {
    label: 'Indexing 3 min behind',
    detail: 'Accepted spans wait about 3 min to be indexed: the newest traces appear once they are.',
  });
  assert.equal(describeIndexing({ kind: 'behind', seconds: 42.4 }).label, 'Indexing 42 s behind');
  assert.equal(describeIndexing({ kind: 'behind', seconds: 3 * 3600 }).label, 'Indexing 3 h behind');
});

test('a poller that keeps failing is a pause, named by its node and error, before any lag', () => {
  const status = indexingStatus([
    poller({ lag_seconds: 600 }),
    poller({ node: '10.0.0.7:50052', consecutive_failures: 3, last_error: 'connect ECONNREFUSED' }),
  ]);
  assert.deepEqual(status, { kind: 'paused', node: '10.0.0.7:50052', error: 'connect ECONNREFUSED' });
  assert.deepEqual(describeIndexing(status!), {
    label: 'Indexing paused',
    detail:
      'The server cannot read the spans it accepted from the ingestion node 10.0.0.7:50052 (connect ECONNREFUSED). They are kept, and indexed once it can.',
  });
  assert.match(
    describeIndexing({ kind: 'paused', node: 'local', error: null }).detail,
    /from its write-ahead log\. They are kept/,
  );
});
