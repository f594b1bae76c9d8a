import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentTraces } from './recent_traces.ts';

test('keeps the last distinct trace ids, the most recent first, up to its capacity', () => {
  const recent = new RecentTraces(3);
  assert.deepEqual(recent.newestFirst(), []);
  for (const id of ['a', 'b', 'a', 'c', 'd']) recent.add(id);
  assert.deepEqual(recent.newestFirst(), ['d', 'c', 'a']);
  recent.add('c');
  assert.deepEqual(recent.newestFirst(), ['c', 'd', 'a']);
});
