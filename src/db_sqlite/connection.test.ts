import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createLogger } from '../logger.ts';
import { inWriteTransaction, isUniqueViolation, openSqlite } from './connection.ts';
import { applyMigrations, loadMigrations } from './migrations.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'junjo-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger('silent');
const file = (name: string) => path.join(dir, name);

test('openSqlite turns on WAL, foreign keys and a busy timeout', () => {
  const db = openSqlite(file('pragmas.db'), logger);
  try {
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    assert.equal(db.prepare('PRAGMA foreign_keys').get()?.foreign_keys, 1);
    assert.equal(db.prepare('PRAGMA busy_timeout').get()?.timeout, 5000);
    assert.equal(db.prepare('PRAGMA synchronous').get()?.synchronous, 1); // NORMAL
  } finally {
    db.close();
  }
});

test('migrations create every table once; reopening applies nothing and keeps the data', () => {
  const db = openSqlite(file('reopen.db'), logger);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((row) => row.name);
  assert.deepEqual(tables, [
    'api_keys',
    'poller_state',
    'schema_migrations',
    'sessions',
    'sign_in_attempts',
    'users',
  ]);
  db.prepare("INSERT INTO users (email, password_hash, created_at) VALUES ('a@b.co', 'h', 't')").run();
  const versions = () => db.prepare('SELECT version, name FROM schema_migrations').all();
  const before = versions();
  assert.equal(before.length, loadMigrations().length);
  applyMigrations(db, logger);
  assert.deepEqual(versions(), before);
  db.close();

  const reopened = openSqlite(file('reopen.db'), logger);
  try {
    assert.deepEqual(reopened.prepare('SELECT version, name FROM schema_migrations').all(), before);
    assert.equal(reopened.prepare('SELECT COUNT(*) AS n FROM users').get()?.n, 1);
  } finally {
    reopened.close();
  }
});

test('a database from a newer server is refused instead of being used with an unknown schema', () => {
  const db = openSqlite(file('newer.db'), logger);
  db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')").run();
  db.close();
  assert.throws(() => openSqlite(file('newer.db'), logger), /schema version 999 is newer/);
});

test('a failing migration leaves neither its tables nor its version behind', () => {
  const db = new DatabaseSync(':memory:');
  const migrations = [
    { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER);' },
    { version: 2, name: 'bad', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);' },
  ];
  assert.throws(() => applyMigrations(db, logger, migrations), /migration 2_bad failed/);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  assert.deepEqual(
    tables.map((row) => row.name),
    ['a', 'schema_migrations'],
  );
  assert.deepEqual(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((row) => row.version),
    [1],
  );
});

test('migration files must be numbered without gaps', () => {
  const migrationsDir = file('gap');
  mkdirSync(migrationsDir);
  writeFileSync(path.join(migrationsDir, '0001_one.sql'), 'SELECT 1;');
  writeFileSync(path.join(migrationsDir, '0003_three.sql'), 'SELECT 1;');
  assert.throws(() => loadMigrations(migrationsDir), /out of sequence/);
});

test('inWriteTransaction rolls back everything when the work throws', () => {
  const db = openSqlite(file('tx.db'), logger);
  try {
    const insert = db.prepare("INSERT INTO users (email, password_hash, created_at) VALUES (?, 'h', 't')");
    assert.throws(() =>
      inWriteTransaction(db, () => {
        insert.run('one@example.com');
        insert.run('ONE@example.com'); // same address: emails are unique regardless of case
      }),
    );
    assert.equal(db.prepare('SELECT COUNT(*) AS n FROM users').get()?.n, 0);
    assert.equal(db.isTransaction, false);
    insert.run('one@example.com');
    try {
      insert.run('One@Example.com');
      assert.fail('duplicate email was accepted');
    } catch (error) {
      assert.equal(isUniqueViolation(error), true);
    }
  } finally {
    db.close();
  }
});
