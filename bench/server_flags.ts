// Benchmarks that run the server's code in their own process (the HTTP query benchmark serves from
// it) measure it with the V8 flags and environment the launcher gives the server (src/launch.ts):
// without the flags the young generation is up to 16× larger and old space grows differently, so
// garbage collection, and with it the tail latencies, were not the server's (at 10M spans the trace
// lookup's p99 was 23–31 ms without the flags and 13 ms with them).
import { execWithServerSettings, SERVER_NODE_FLAGS } from '../src/launch.ts';

/** Replaces this process (same pid) with itself under the server's settings, unless it has them. */
export function runWithServerFlags(): void {
  if (SERVER_NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) return;
  execWithServerSettings(process.argv[1]!);
}

/**
 * `K=V` settings from a benchmark's command line as an environment: split at the first `=` only,
 * since values may hold one (`NODE_OPTIONS=--import=…`); `K` alone sets it empty.
 */
export function envFromPairs(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}
