// The service overview charts' query (SpanReader.workflowStats) on ClickHouse: runs, errors and
// duration quantiles of a service's workflow spans per workflow name and time bucket.
//
// service_name and start_time lead the spans table's sort key, so the range reads one service's
// granules of the range's day partitions, and only the narrow columns (never the JSON).
// quantilesExactInclusive interpolates linearly between the closest ranks, as DuckDB's
// quantile_cont does, so both stores give the same figures.
import type { WorkflowStatsQuery } from '../spans/span_store.ts';
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
