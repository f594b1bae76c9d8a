import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createLogger } from '../../logger.ts';
import { openSqlite } from '../connection.ts';
import { applyMigrations, loadMigrations } from '../migrations.ts';
import { createNodePollerStateRepository, createPollerStateRepository } from './poller_state_repository.ts';

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

const NODE_A = 'a'.repeat(32);
const NODE_B = 'b'.repeat(32);

test('an upgraded database keeps its one position: row 1 still serves one process, and the first node adopts it', () => {
  const file = path.join(dir, 'upgraded.db');
  // The schema before positions per node, holding a position (key 42).
  const old = new DatabaseSync(file);
  applyMigrations(
    old,
    logger,
    loadMigrations().filter((migration) => migration.name !== 'poller_state_per_node'),
  );
  old
    .prepare("INSERT INTO poller_state (id, last_key, updated_at) VALUES (1, ?, '2026-01-01T00:00:00.000Z')")
    .run(Buffer.from([0, 0, 0, 0, 0, 0, 0, 42]));
  old.close();

  const db = openSqlite(file, logger);
  try {
    assert.equal(createPollerStateRepository(db).getLastKey(), 42n, 'one process reads on from row 1');
    assert.equal(
      createNodePollerStateRepository(db, NODE_B, { adoptUnclaimedRow: false }).getLastKey(),
      null,
      'a node that may not adopt starts from its beginning',
    );
    const a = createNodePollerStateRepository(db, NODE_A, { adoptUnclaimedRow: true });
    assert.equal(a.getLastKey(), 42n, 'the first node carries the old position on');
    const b = createNodePollerStateRepository(db, NODE_B, { adoptUnclaimedRow: true });
    assert.equal(b.getLastKey(), null, 'row 1 is taken: another node starts from its beginning');
    b.setLastKey(7n);
    a.setLastKey(43n);
    assert.equal(b.getLastKey(), 7n);
    assert.equal(a.getLastKey(), 43n);
    const rows = db.prepare('SELECT id, node_id FROM poller_state ORDER BY id').all();
    assert.deepEqual(
      rows.map((row) => [row.id, row.node_id]),
      [
        [1, NODE_A],
        [2, NODE_B],
      ],
    );
  } finally {
    db.close();
  }
  const reopened = openSqlite(file, logger);
  try {
    const a = createNodePollerStateRepository(reopened, NODE_A, { adoptUnclaimedRow: true });
    assert.equal(a.getLastKey(), 43n, 'positions survive a reopen, by node id');
    assert.equal(
      createNodePollerStateRepository(reopened, NODE_B, { adoptUnclaimedRow: false }).getLastKey(),
      7n,
    );
  } finally {
    reopened.close();
  }
});
