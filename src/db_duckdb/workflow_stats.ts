// The service overview charts' query (SpanReader.workflowStats): runs, errors and duration
// quantiles of a service's workflow spans per workflow name and time bucket.
//
// It reads `spans` bounded by start_time: rows arrive in about time order, so the zone maps on
// start_time skip every row group outside the range and the scan touches one range's rows only
// (the filter columns, never the JSON). Exact quantiles need every duration, so a per-bucket
// pre-aggregate could not serve them; bench/workflow_stats.ts measures what this costs.
import { type DuckDBConnection, DuckDBTimestampTZValue, type DuckDBValue } from '@duckdb/node-api';
import type { WorkflowStatsQuery, WorkflowStatsSeries } from '../spans/span_store.ts';
import { type WorkflowStatsGroup, workflowStatsSeries } from '../spans/workflow_stats_series.ts';

function workflowStatsSql(oneWorkflow: boolean): string {
  return `
    SELECT coalesce(name, '') AS workflow, (epoch_us(start_time) - $start_us) // $bucket_us AS bucket,
           count(*), count(*) FILTER (WHERE status_code = 'STATUS_CODE_ERROR'),
           quantile_cont((epoch_us(end_time) - epoch_us(start_time)) / 1000.0, [0.5, 0.95, 0.99])
    FROM spans
    WHERE service_name = $service_name AND junjo_span_type = 'workflow'
      AND start_time >= $start AND start_time < $end ${oneWorkflow ? 'AND name = $workflow' : ''}
    GROUP BY ALL ORDER BY workflow, bucket`;
}

export const WORKFLOW_STATS = workflowStatsSql(false);
export const ONE_WORKFLOW_STATS = workflowStatsSql(true);

export async function selectWorkflowStats(
  conn: DuckDBConnection,
  serviceName: string,
  query: WorkflowStatsQuery,
): Promise<WorkflowStatsSeries[]> {
  const params: Record<string, DuckDBValue> = {
    service_name: serviceName,
    start: new DuckDBTimestampTZValue(query.startMicros),
    end: new DuckDBTimestampTZValue(query.endMicros),
    start_us: query.startMicros,
    bucket_us: query.bucketMicros,
  };
  if (query.workflow !== undefined) params.workflow = query.workflow;
  const sql = query.workflow === undefined ? WORKFLOW_STATS : ONE_WORKFLOW_STATS;
  const reader = await conn.runAndReadAll(sql, params);
  return workflowStatsSeries(query, reader.getRowsJS() as WorkflowStatsGroup[]);
}
