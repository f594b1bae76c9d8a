// This thread's garbage-collection pauses, summed, for the poller's per-batch timings: the poller,
// its conversions and the REST API share the main thread, so a long collection delays all of them.
import { PerformanceObserver } from 'node:perf_hooks';

let totalMs = 0;
let observer: PerformanceObserver | undefined;

/** Milliseconds this thread has spent in GC since the first call (which starts the count). */
export function gcPauseMs(): number {
  if (!observer) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) totalMs += entry.duration;
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return totalMs;
}
