// Sliding-window counters kept in SQLite, so a restart does not hand an attacker a fresh window. Keys
// are stored as SHA-256; attempts older than the window are deleted as new ones arrive, so the table
// holds at most one window of attempts.
import type { SignInAttemptsRepository } from '../../db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import type { Clock } from './clock.ts';
import { sha256Hex } from './tokens.ts';

export interface WindowLimit {
  max: number;
  windowMs: number;
}

export interface SlidingWindowLimiter {
  /** Milliseconds until `key` may try again; 0 when it is under the limit now. */
  retryAfterMs(key: string): number;
  record(key: string): void;
  reset(key: string): void;
}

/** `scope` names this limiter's rows; limiters with different scopes never see each other's keys. */
export function createSlidingWindowLimiter(
  scope: string,
  limit: WindowLimit,
  clock: Clock,
  attempts: SignInAttemptsRepository,
): SlidingWindowLimiter {
  return {
    retryAfterMs(key) {
      const now = clock();
      const oldestCounted = attempts.nthNewestSince(
        scope,
        sha256Hex(key),
        now - limit.windowMs,
        limit.max - 1,
      );
      return oldestCounted === undefined ? 0 : Math.max(1, oldestCounted + limit.windowMs - now);
    },
    record(key) {
      const now = clock();
      attempts.deleteOlderThan(scope, now - limit.windowMs);
      attempts.insert(scope, sha256Hex(key), now);
    },
    reset(key) {
      attempts.deleteKey(scope, sha256Hex(key));
    },
  };
}
