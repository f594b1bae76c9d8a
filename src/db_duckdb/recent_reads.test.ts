import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Recent, RecentReads } from './recent_reads.ts';

test('keeps the last distinct items, the most recent first, up to its capacity', () => {
  const recent = new Recent<string>(3);
  assert.deepEqual(recent.newestFirst(), []);
  for (const id of ['a', 'b', 'a', 'c', 'd']) recent.add(id, id);
  assert.deepEqual(recent.newestFirst(), ['d', 'c', 'a']);
  recent.add('c', 'c');
  assert.deepEqual(recent.newestFirst(), ['c', 'd', 'a']);
});

test('lists are remembered by list and service, a service name with colons intact', () => {
  const recent = new RecentReads({ traces: 2, lists: 2 });
  recent.addList('root', 'a:b');
  recent.addList('workflow', 'svc');
  recent.addList('root', 'a:b');
  recent.addList('llm_root', 'svc');
  assert.deepEqual(recent.listsNewestFirst(), [
    { list: 'llm_root', serviceName: 'svc' },
    { list: 'root', serviceName: 'a:b' },
  ]);
});
