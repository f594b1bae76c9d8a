// In-memory sliding-window counters. One process serves the HTTP API, so memory is the right store;
// the number of tracked keys is capped so a flood of distinct keys cannot grow it without bound.
import type { Clock } from './clock.ts';

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

const DEFAULT_MAX_KEYS = 10_000;

export function createSlidingWindowLimiter(
  limit: WindowLimit,
  clock: Clock,
  maxKeys: number = DEFAULT_MAX_KEYS,
): SlidingWindowLimiter {
  const hits = new Map<string, number[]>();

  const recent = (key: string): number[] => {
    const windowStart = clock() - limit.windowMs;
    const kept = (hits.get(key) ?? []).filter((at) => at > windowStart);
    if (kept.length === 0) hits.delete(key);
    else hits.set(key, kept);
    return kept;
  };

  const makeRoom = () => {
    if (hits.size < maxKeys) return;
    for (const key of hits.keys()) recent(key);
    // Still full: forget the keys tracked longest (Map keeps insertion order).
    for (const key of hits.keys()) {
      if (hits.size < maxKeys) break;
      hits.delete(key);
    }
  };

  return {
    retryAfterMs(key) {
      const kept = recent(key);
      if (kept.length < limit.max) return 0;
      const oldestCounted = kept[kept.length - limit.max] ?? clock();
      return Math.max(1, oldestCounted + limit.windowMs - clock());
    },
    record(key) {
      const kept = recent(key);
      if (kept.length === 0) makeRoom();
      hits.set(key, [...kept, clock()]);
    },
    reset(key) {
      hits.delete(key);
    },
  };
}
