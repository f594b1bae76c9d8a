// The service overview page's logic, without the DOM: the range its URL names, the API query for
// it, the chart data of a workflow's buckets, and where a click on a bucket leads.
import type { WorkflowStatsBucket } from '../api/types.ts';

export const LAST_RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;
export type LastRange = keyof typeof LAST_RANGES;
export const DEFAULT_LAST: LastRange = '24h';

/** The range of the page: relative to now (`?last=`), or absolute (`?from=&to=`). */
export type OverviewRange = { last: LastRange } | { from: string; to: string };

/** Reads the range from the page's URL; an absolute range needs both ends, else the default. */
export function rangeFromParams(params: URLSearchParams): OverviewRange {
  const from = params.get('from');
  const to = params.get('to');
  if (from && to && !params.has('last')) return { from, to };
  const last = params.get('last');
  return { last: last !== null && last in LAST_RANGES ? (last as LastRange) : DEFAULT_LAST };
}

/** The API's from/to for the range, relative ranges ending at `nowMs`. */
export function rangeQuery(range: OverviewRange, nowMs: number): { from: string; to: string } {
  if ('from' in range) return range;
  return { from: rfc3339(nowMs - LAST_RANGES[range.last]), to: rfc3339(nowMs) };
}

/** An absolute instant from a <input type="datetime-local"> value (local time), or null. */
export function localInputToRfc3339(value: string): string | null {
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : rfc3339(ms);
}

/** The other way round, for the inputs' initial values. */
export function rfc3339ToLocalInput(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Whole seconds suffice for bucket bounds: `2025-06-04T01:15:00Z`. */
export function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * uPlot's columns for one workflow: x is each bucket's middle in seconds (so that the cursor's
 * nearest point is the bucket under it), then runs, errors, p50, p95, p99 (null: no runs, a gap).
 */
export function chartColumns(buckets: readonly WorkflowStatsBucket[], bucketSeconds: number) {
  return {
    x: buckets.map((b) => Date.parse(b.start) / 1000 + bucketSeconds / 2),
    runs: buckets.map((b) => b.runs),
    errors: buckets.map((b) => b.errors),
    p50: buckets.map((b) => b.p50_ms),
    p95: buckets.map((b) => b.p95_ms),
    p99: buckets.map((b) => b.p99_ms),
  };
}

/** Top of the runs chart's value axis: the largest count with a little headroom, at least 1. */
export function countAxisMax(buckets: readonly WorkflowStatsBucket[]): number {
  const max = Math.max(0, ...buckets.map((b) => b.runs));
  return max === 0 ? 1 : Math.ceil(max * 1.1);
}

/**
 * Which bar a click at `value` (the count at the cursor's height) hit: the errors bar is drawn over
 * the runs bar from zero up to the errors, so at or below it the click means the errors.
 */
export function clickedSeries(value: number, bucket: WorkflowStatsBucket): 'runs' | 'errors' {
  return bucket.errors > 0 && value <= bucket.errors ? 'errors' : 'runs';
}

/** The trace search of one bucket's runs of a workflow (failed ones only for the errors bar). */
export function bucketSearchUrl(
  service: string,
  workflow: string,
  bucket: WorkflowStatsBucket,
  bucketSeconds: number,
  errorsOnly: boolean,
): string {
  const start = Date.parse(bucket.start);
  const params = new URLSearchParams({
    service,
    type: 'workflow',
    name: workflow,
    from: rfc3339(start),
    to: rfc3339(start + bucketSeconds * 1000),
  });
  if (errorsOnly) params.set('status', 'error');
  return `/search?${params}`;
}

/** A bucket's span of time for the tooltip, e.g. "14:05–14:10" or "Jun 4 14:00 – Jun 4 16:00". */
export function bucketLabel(bucket: WorkflowStatsBucket, bucketSeconds: number): string {
  const start = new Date(bucket.start);
  const end = new Date(start.getTime() + bucketSeconds * 1000);
  const time = (d: Date) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const day = (d: Date) => d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return bucketSeconds < 86_400 && start.toDateString() === new Date(end.getTime() - 1).toDateString()
    ? `${day(start)} ${time(start)}–${time(end)}`
    : `${day(start)} ${time(start)} – ${day(end)} ${time(end)}`;
}

/** A duration in milliseconds for axes and tooltips. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
