// SQL for the sign-in attempts that the rate limiters count (see rate_limiter.ts).
import type { Sqlite } from '../connection.ts';

const INSERT_ATTEMPT = 'INSERT INTO sign_in_attempts (scope, key_hash, at_ms) VALUES (?, ?, ?)';
// The n-th most recent attempt (0 = newest) after `since`: with n = max - 1 it is the attempt whose
// expiry lifts the limit.
const SELECT_NTH_NEWEST = `SELECT at_ms FROM sign_in_attempts
  WHERE scope = ? AND key_hash = ? AND at_ms > ? ORDER BY at_ms DESC LIMIT 1 OFFSET ?`;
const DELETE_KEY = 'DELETE FROM sign_in_attempts WHERE scope = ? AND key_hash = ?';
const DELETE_OLD = 'DELETE FROM sign_in_attempts WHERE scope = ? AND at_ms <= ?';

export interface SignInAttemptsRepository {
  insert(scope: string, keyHash: string, atMs: number): void;
  nthNewestSince(scope: string, keyHash: string, sinceMs: number, n: number): number | undefined;
  deleteKey(scope: string, keyHash: string): void;
  deleteOlderThan(scope: string, atMs: number): void;
}

export function createSignInAttemptsRepository(db: Sqlite): SignInAttemptsRepository {
  const insert = db.prepare(INSERT_ATTEMPT);
  const selectNth = db.prepare(SELECT_NTH_NEWEST);
  const deleteKey = db.prepare(DELETE_KEY);
  const deleteOld = db.prepare(DELETE_OLD);
  return {
    insert: (scope, keyHash, atMs) => {
      insert.run(scope, keyHash, atMs);
    },
    nthNewestSince: (scope, keyHash, sinceMs, n) => {
      const row = selectNth.get(scope, keyHash, sinceMs, n) as { at_ms: number } | undefined;
      return row?.at_ms;
    },
    deleteKey: (scope, keyHash) => {
      deleteKey.run(scope, keyHash);
    },
    deleteOlderThan: (scope, atMs) => {
      deleteOld.run(scope, atMs);
    },
  };
}
