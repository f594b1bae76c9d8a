import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../logger.ts';
import { openSqlite } from '../connection.ts';
import { createPollerStateRepository } from './poller_state_repository.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'junjo-poller-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger('silent');

test('the last key is null before the first commit and survives a reopen exactly', () => {
  const file = path.join(dir, 'state.db');
  const db = openSqlite(file, logger);
  const repository = createPollerStateRepository(db);
  assert.equal(repository.getLastKey(), null);
  const beyondDoublePrecision = (1n << 63n) + 12345n; // a float would round this
  repository.setLastKey(beyondDoublePrecision);
  assert.equal(repository.getLastKey(), beyondDoublePrecision);
  const stored = db.prepare('SELECT last_key FROM poller_state').get()?.last_key as Uint8Array;
  assert.deepEqual(Buffer.from(stored), Buffer.from([0x80, 0, 0, 0, 0, 0, 0x30, 0x39])); // big-endian
  db.close();

  const reopened = openSqlite(file, logger);
  try {
    const again = createPollerStateRepository(reopened);
    assert.equal(again.getLastKey(), beyondDoublePrecision);
    again.setLastKey(0n);
    again.setLastKey((1n << 64n) - 1n);
    assert.equal(again.getLastKey(), (1n << 64n) - 1n);
    assert.equal(reopened.prepare('SELECT COUNT(*) AS n FROM poller_state').get()?.n, 1);
  } finally {
    reopened.close();
  }
});

test('keys outside the unsigned 64-bit range are refused', () => {
  const db = openSqlite(path.join(dir, 'range.db'), logger);
  try {
    const repository = createPollerStateRepository(db);
    assert.throws(() => repository.setLastKey(-1n), RangeError);
    assert.throws(() => repository.setLastKey(1n << 64n), RangeError);
    assert.equal(repository.getLastKey(), null);
  } finally {
    db.close();
  }
});
