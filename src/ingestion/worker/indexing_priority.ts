// In one process the ingestion worker thread acknowledges exports while the main thread converts
// and indexes them (and answers the REST API). Under full load both want the CPU; an exporter
// waits for its acknowledgement, while indexing that falls behind only lets the WAL backlog grow
// (bounded by JUNJO_MAX_BACKLOG_BYTES, then backpressure). So indexing runs at a higher nice value:
// it still gets all the CPU the receivers leave, and all of it when they are idle. Indexing is the
// main thread, libuv's thread pool, where DuckDB runs every statement (@duckdb/node-api queues its
// work there; the pool started with the store, at the priority it then had), and V8's helper
// threads, which collect garbage mostly for the main thread's heap (concurrent marking). The pool
// also does the WAL's writes and fsyncs for the ingestion thread, which mostly wait on the disk.
// With the pool and the helpers niced too, interleaved capacity runs of the ingestion benchmark
// acknowledged 0.56–0.61 of the baseline receiver's rate against 0.38–0.52 with the main thread
// alone (0.49–0.57 with the pool only), at the same indexing rate; whole benchmark runs gave 0.39–0.50
// against 0.39–0.56, so on this shared machine the gain is within the run-to-run spread.
// Linux only: there, setpriority() on a thread id changes that thread alone (threads it starts
// afterwards inherit it); elsewhere it would lower the whole process, receivers included.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from '../../logger.ts';

export function lowerIndexingPriority(niceness: number, logger: Logger): void {
  if (process.platform !== 'linux' || niceness <= 0) return;
  try {
    lowerThread(0, niceness); // 0: the calling thread
    for (const tid of threadIdsNamed(['libuv-worker', 'V8Worker'])) lowerThread(tid, niceness);
  } catch (error) {
    logger.warn(
      { err: error },
      'could not lower indexing’s priority; acknowledgements share the CPU with it',
    );
  }
}

/** Never raises a thread back if the operator started the server nicer still. */
function lowerThread(tid: number, niceness: number): void {
  if (os.getPriority(tid) < niceness) os.setPriority(tid, niceness);
}

/** This process's threads with one of these names (as Node names them on Linux). */
function threadIdsNamed(names: string[]): number[] {
  return readdirSync('/proc/self/task')
    .filter((tid) => names.includes(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()))
    .map(Number);
}
