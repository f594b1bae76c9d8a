// In one process the ingestion worker thread acknowledges exports while the main thread converts
// and indexes them (and answers the REST API). Under full load both want the CPU; an exporter
// waits for its acknowledgement, while indexing that falls behind only lets the WAL backlog grow
// (bounded by JUNJO_MAX_BACKLOG_BYTES, then backpressure). So the main thread runs at a higher nice
// value: it still gets all the CPU the receivers leave, and all of it when they are idle.
// Linux only: there, setpriority() changes the calling thread alone (threads started by the main
// thread afterwards inherit it); elsewhere it would lower the whole process, receivers included.
import os from 'node:os';
import type { Logger } from '../../logger.ts';

export function lowerIndexingPriority(niceness: number, logger: Logger): void {
  if (process.platform !== 'linux' || niceness <= 0) return;
  try {
    // 0: the calling thread. Never raise it back if the operator started the server nicer still.
    const current = os.getPriority(0);
    if (current < niceness) os.setPriority(0, niceness);
  } catch (error) {
    logger.warn(
      { err: error },
      'could not lower the main thread’s priority; acknowledgements share the CPU with indexing',
    );
  }
}
