// The one SQLite connection of the process (node:sqlite, synchronous). WAL lets readers run while the
// single writer commits; every statement is short, so a synchronous API does not stall the event loop.
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../logger.ts';
import { applyMigrations } from './migrations.ts';

export type Sqlite = DatabaseSync;

const BUSY_TIMEOUT_MS = 5000;

/** Opens (creating if needed) the database file, sets the pragmas and brings the schema up to date. */
export function openSqlite(path: string, logger: Logger): Sqlite {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: BUSY_TIMEOUT_MS });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commit.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    applyMigrations(db, logger);
  } catch (error) {
    db.close();
    throw lockedByAnotherProcess(error, path) ?? error;
  }
  return db;
}

/** SQLITE_BUSY at start means another process holds the file; the bare "database is locked" named neither. */
function lockedByAnotherProcess(error: unknown, path: string): Error | null {
  if ((error as { errcode?: number } | null)?.errcode !== 5) return null;
  return new Error(
    `SQLite file ${path} is locked by another process (still busy after ${BUSY_TIMEOUT_MS} ms): stop the ` +
      'other junjo-server or point JUNJO_SQLITE_PATH elsewhere.',
    { cause: error },
  );
}

/**
 * Runs `work` inside BEGIN IMMEDIATE … COMMIT: the write lock is taken up front, so a read-then-write
 * inside `work` cannot interleave with another connection's write (also across processes).
 */
export function inWriteTransaction<T>(db: Sqlite, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** True when `error` is SQLite's UNIQUE (or PRIMARY KEY) constraint failure. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { errcode?: number } | null)?.errcode;
  return code === 2067 || code === 1555; // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
}
