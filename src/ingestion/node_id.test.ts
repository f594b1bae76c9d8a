// The ingestion node's id: created once in the WAL directory, the same on every later start, new
// for a new (wiped) directory, and a damaged file stops the start instead of being replaced.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { isNodeId, readOrCreateNodeId } from './node_id.ts';
import { tempDir } from './wal/test_support.ts';

const { dir, remove } = tempDir();
after(remove);

test('a node id is created once and read back on every later start', async () => {
  const id = await readOrCreateNodeId(dir);
  assert.ok(isNodeId(id), id);
  assert.equal(await readOrCreateNodeId(dir), id);
  assert.deepEqual(readdirSync(dir), ['node_id'], 'no temporary file left behind');
});

test('a wiped directory gets a new id', async () => {
  const first = await readOrCreateNodeId(path.join(dir, 'one'));
  const second = await readOrCreateNodeId(path.join(dir, 'two'));
  assert.notEqual(first, second);
});

test('a damaged id file stops the start instead of being replaced', async () => {
  const damaged = path.join(dir, 'damaged');
  await readOrCreateNodeId(damaged);
  writeFileSync(path.join(damaged, 'node_id'), 'not an id');
  await assert.rejects(readOrCreateNodeId(damaged), /does not hold a node id/);
});
