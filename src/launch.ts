// How the server process is started (`npm start`, the tests, the benchmarks): the main thread's V8
// heap flags, glibc's malloc settings and Node's compile cache must be in place before the process starts, so this
// replaces itself (same pid) with `node <flags> src/main.ts`. Both are measured in the README,
// Memory. Flags given to this script (process.execArgv) come after ours, so they win.
import os from 'node:os';
import path from 'node:path';

/**
 * V8 sized the main thread's heap for throughput: under the ingestion load its pages reached ~300 MB,
 * mostly garbage of converted batches (live data stayed under ~50 MB). Both flags only change
 * when the collector runs, never how much the heap may hold, so a large response cannot fail on them.
 * - a 2 MB semi-space (young generation ~6 MB instead of up to 48 MB): batches die young;
 * - old space grows by 20% over what survived the last full collection instead of V8's 1.1–4x.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=20'];

/**
 * The server's environment (operators' own values win):
 * - glibc's malloc: one arena instead of one per thread;
 * - DuckDB's allocator (the jemalloc built into libduckdb, configured by `DUCKDB_JE_MALLOC_CONF`):
 *   pages DuckDB freed are returned to the system about a second later, by jemalloc's background
 *   threads (src/db_duckdb/connection.ts), instead of lingering as "dirty" and then "muzzy" pages
 *   that still count as resident (DuckDB's own decay is 5 s). Returned sooner, they are faulted in
 *   again by the next blocks DuckDB reads, which is costly on a virtual machine: at 100 ms a cold
 *   trace lookup at 10M spans cost ~20% more CPU, for up to 11 MiB less peak RSS in the soak.
 *   A decay of 0 returned more (peak 511 against 563 MB) but cost the inserts 50–70% more CPU
 *   (`bench/duckdb_spill.ts`). docs/memory.md, "A one-second decay";
 * - Node's compile cache: a module whose source is unchanged loads its stripped JavaScript and V8
 *   code from the cache, so neither the main thread nor the ingestion thread instantiates the
 *   TypeScript stripper (a WebAssembly module of ~17 MB resident in each isolate that used it).
 *   The first start after an install or an upgrade fills it; the directory is keyed by Node's
 *   version and each entry checked against its source, so a stale one is never used.
 */
export const SERVER_ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: '1',
  DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:1000,muzzy_decay_ms:0',
  NODE_COMPILE_CACHE: path.join(os.tmpdir(), 'junjo-server-compile-cache'),
};

const MAIN = path.join(import.meta.dirname, 'main.ts');

/**
 * Replaces this process (same pid) with `node <flags> <script> <this process's arguments>` under the
 * server's flags and environment; false where Node has no execve (Windows). The benchmarks that run
 * server code in their own process use it too (bench/server_flags.ts).
 */
export function execWithServerSettings(script: string): boolean {
  if (typeof process.execve !== 'function') return false;
  process.execve(
    process.execPath,
    [process.execPath, ...SERVER_NODE_FLAGS, ...process.execArgv, script, ...process.argv.slice(2)],
    { ...SERVER_ENV, ...process.env },
  );
  return true;
}

if (import.meta.main && !execWithServerSettings(MAIN)) {
  // No execve (Windows): run in this process, without the flags; memory use is then higher.
  await import('./main.ts');
}
