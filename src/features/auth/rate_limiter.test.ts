import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { movableClock } from '../../../test/accounts/harness.ts';
import { openSqlite, type Sqlite } from '../../db_sqlite/connection.ts';
import { createSignInAttemptsRepository } from '../../db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import { createLogger } from '../../logger.ts';
import { createSlidingWindowLimiter, type WindowLimit } from './rate_limiter.ts';

const logger = createLogger('error');

/** Runs `body` with a way to open (and reopen) one fresh SQLite file. */
async function withDatabase(body: (open: () => Sqlite) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'junjo-limiter-'));
  const opened: Sqlite[] = [];
  try {
    const file = path.join(dir, 'junjo.db');
    await body(() => {
      const db = openSqlite(file, logger);
      opened.push(db);
      return db;
    });
  } finally {
    for (const db of opened) if (db.isOpen) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const limiterOn = (db: Sqlite, limit: WindowLimit, clock: () => number, scope = 'email') =>
  createSlidingWindowLimiter(scope, limit, clock, createSignInAttemptsRepository(db));

test('a key is refused after `max` hits until the oldest hit leaves the window', () =>
  withDatabase((open) => {
    const clock = movableClock(0);
    const limiter = limiterOn(open(), { max: 3, windowMs: 1000 }, clock);
    for (const at of [0, 100, 200]) {
      clock.advance(at - clock());
      assert.equal(limiter.retryAfterMs('a'), 0);
      limiter.record('a');
    }
    assert.equal(limiter.retryAfterMs('a'), 800); // the hit at 0 expires at 1000
    assert.equal(limiter.retryAfterMs('b'), 0, 'other keys are not affected');
    clock.advance(800);
    assert.equal(limiter.retryAfterMs('a'), 0);
    limiter.record('a');
    assert.equal(limiter.retryAfterMs('a'), 100, 'now the hit at 100 is the oldest that counts');
  }));

test('reset forgets a key; scopes do not share keys', () =>
  withDatabase((open) => {
    const clock = movableClock(0);
    const db = open();
    const byEmail = limiterOn(db, { max: 1, windowMs: 1000 }, clock, 'email');
    const byIp = limiterOn(db, { max: 1, windowMs: 1000 }, clock, 'ip');
    byEmail.record('a');
    assert.ok(byEmail.retryAfterMs('a') > 0);
    assert.equal(byIp.retryAfterMs('a'), 0);
    byEmail.reset('a');
    assert.equal(byEmail.retryAfterMs('a'), 0);
  }));

test('attempts survive reopening the database; expired ones are deleted, keys are stored hashed', () =>
  withDatabase((open) => {
    const clock = movableClock(0);
    const first = open();
    const limiter = limiterOn(first, { max: 2, windowMs: 1000 }, clock);
    limiter.record('old@example.com');
    clock.advance(2000);
    limiter.record('admin@example.com');
    limiter.record('admin@example.com');
    first.close();

    const reopened = open();
    assert.ok(limiterOn(reopened, { max: 2, windowMs: 1000 }, clock).retryAfterMs('admin@example.com') > 0);
    const rows = reopened.prepare('SELECT key_hash FROM sign_in_attempts').all() as { key_hash: string }[];
    assert.equal(rows.length, 2, 'the attempt outside the window was deleted');
    for (const row of rows) assert.match(row.key_hash, /^[0-9a-f]{64}$/);
  }));
