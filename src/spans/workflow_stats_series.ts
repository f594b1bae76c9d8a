// The workflowStats answer (span_store.ts) from a store's grouped rows, whatever the store: every
// bucket of the range is present, so that a chart shows "no runs" as zero instead of skipping it.
import type { WorkflowStatsBucket, WorkflowStatsQuery, WorkflowStatsSeries } from './span_store.ts';

/** One group of a store's query: a workflow name, a bucket number from the range's start, figures. */
export type WorkflowStatsGroup = [
  workflow: unknown,
  bucket: unknown,
  runs: unknown,
  errors: unknown,
  quantilesMs: unknown,
];

/** Groups sorted by workflow name as series, each with every bucket of the range. */
export function workflowStatsSeries(
  query: WorkflowStatsQuery,
  groups: Iterable<WorkflowStatsGroup>,
): WorkflowStatsSeries[] {
  const bucketCount = Number((query.endMicros - query.startMicros) / query.bucketMicros);
  const series = new Map<string, WorkflowStatsBucket[]>();
  for (const [name, bucket, runs, errors, quantiles] of groups) {
    let buckets = series.get(name as string);
    if (!buckets) {
      buckets = emptyBuckets(query, bucketCount);
      series.set(name as string, buckets);
    }
    const [p50Ms, p95Ms, p99Ms] = quantiles as number[];
    const i = Number(bucket);
    buckets[i] = {
      startMicros: buckets[i]!.startMicros,
      runs: Number(runs),
      errors: Number(errors),
      p50Ms: p50Ms!,
      p95Ms: p95Ms!,
      p99Ms: p99Ms!,
    };
  }
  return [...series].map(([workflow, buckets]) => ({ workflow, buckets }));
}

function emptyBuckets(query: WorkflowStatsQuery, count: number): WorkflowStatsBucket[] {
  return Array.from({ length: count }, (_, i) => ({
    startMicros: query.startMicros + BigInt(i) * query.bucketMicros,
    runs: 0,
    errors: 0,
    p50Ms: null,
    p95Ms: null,
    p99Ms: null,
  }));
}
