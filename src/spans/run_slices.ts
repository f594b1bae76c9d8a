// Newest slices first, for the filtered workflow-run list of every store. A store's top-N over a
// long range tests every run in it before it can keep the newest 50, so the range is cut into
// slices at hour starts, newest first, each holding about four times the runs of all newer ones
// (counted from the store's per-hour summary), and the page's statement runs on one slice after
// the other until the page is full: a filter that matches one run in ten reads about an hour of
// runs, and only a filter that matches (almost) nothing reads the whole range. The slices cover
// the range without gap or overlap, so the page is the one the whole range would give.
import type { PageRequest } from './span_store.ts';
import type { WorkflowRunFilter } from './workflow_run_filter.ts';

/** Runs the first slice should hold per row of the page, and how much each slice outgrows the newer ones. */
const FIRST_SLICE_RUNS_PER_ROW = 8;
const SLICE_GROWTH = 4;

/**
 * Lower bounds (hour starts, newest first) of the slices, from the runs per hour (newest first):
 * a slice ends where the runs from the newest hour on reach the next target. The oldest slice
 * has no lower bound but the filter's, so none is returned at or below `filter.fromMicros`.
 */
export function sliceStarts(
  hours: [hour: bigint, runs: bigint][],
  limit: number,
  filter: WorkflowRunFilter,
): bigint[] {
  const starts: bigint[] = [];
  let target = BigInt(limit * FIRST_SLICE_RUNS_PER_ROW);
  let runs = 0n;
  for (const [hour, count] of hours) {
    runs += count;
    if (runs < target) continue;
    if (filter.fromMicros === undefined || hour > filter.fromMicros) starts.push(hour);
    target = runs * BigInt(SLICE_GROWTH);
  }
  return starts;
}

/** Exclusive upper bound of the page's start times (from `to` and the cursor); undefined when none. */
export function newestRunStart(filter: WorkflowRunFilter, page: PageRequest): bigint | undefined {
  const bounds = [filter.toMicros, page.before && page.before.startTime + 1n];
  return bounds.reduce((a, b) => (a === undefined || (b !== undefined && b < a) ? b : a), undefined);
}

/** One slice's bounds: `from` inclusive (none for the oldest), `to` exclusive (none for the newest). */
export interface RunSlice {
  from?: bigint;
  to?: bigint;
}

/**
 * The page gathered slice by slice, newest first: `readSlice` is asked for the rows the page still
 * lacks in each slice until the page is full or the slices run out.
 */
export async function gatherSlices<T>(
  starts: bigint[],
  limit: number,
  readSlice: (slice: RunSlice, remaining: number) => Promise<T[]>,
): Promise<T[]> {
  const found: T[] = [];
  let to: bigint | undefined;
  for (const from of [...starts, undefined]) {
    found.push(...(await readSlice({ from, to }, limit - found.length)));
    if (found.length >= limit) break;
    to = from;
  }
  return found;
}
