// The service overview charts' query (SpanReader.workflowStats) on ClickHouse: runs, errors and
// duration quantiles of a service's workflow spans per workflow name and time bucket.
//
// service_name and start_time lead the spans table's sort key, so the range reads one service's
// granules of the range's day partitions, and only the narrow columns (never the JSON).
// quantilesExactInclusive interpolates linearly between the closest ranks, as DuckDB's
// quantile_cont does, so both stores give the same figures.
import type { WorkflowStatsBucket, WorkflowStatsQuery, WorkflowStatsSeries } from '../spans/span_store.ts';
import { at } from './span_queries.ts';

export function workflowStatsQuery(spansTable: string, serviceName: string, query: WorkflowStatsQuery) {
  const sql = `
    SELECT name,
           intDiv(toUnixTimestamp64Micro(start_time) - {start:Int64}, {bucket:Int64}) AS bucket,
           count(), countIf(status_code = 'STATUS_CODE_ERROR'),
           quantilesExactInclusive(0.5, 0.95, 0.99)(
             (toUnixTimestamp64Micro(end_time) - toUnixTimestamp64Micro(start_time)) / 1000)
    FROM ${spansTable} FINAL
    WHERE service_name = {service_name:String} AND junjo_span_type = 'workflow'
      AND start_time >= ${at('start')} AND start_time < ${at('end')}
      ${query.workflow === undefined ? '' : 'AND name = {workflow:String}'}
    GROUP BY name, bucket ORDER BY name, bucket`;
  const params: Record<string, unknown> = {
    service_name: serviceName,
    start: String(query.startMicros),
    end: String(query.endMicros),
    bucket: String(query.bucketMicros),
  };
  if (query.workflow !== undefined) params.workflow = query.workflow;
  return { sql, params };
}

/** The rows of workflowStatsQuery as series with every bucket of the range. */
export function workflowStatsSeries(query: WorkflowStatsQuery, rows: unknown[][]): WorkflowStatsSeries[] {
  const bucketCount = Number((query.endMicros - query.startMicros) / query.bucketMicros);
  const series = new Map<string, WorkflowStatsBucket[]>();
  for (const [name, bucket, runs, errors, quantiles] of rows) {
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

/** Every bucket of the range without runs: a chart must show "none" as zero, not skip it. */
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
