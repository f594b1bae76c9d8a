// The service overview charts' query (GET /otel/service/:service_name/workflow_stats) through HTTP
// against the real routes, on generated Junjo data: p50/p99 latency and the server's CPU per call
// for the 24-hour charts (all workflows, and one workflow), the last hour and the last 7 days,
// with the load average beside them (the machine may be shared).
// The generator starts about one trace a second whatever the total, so a 24-hour window holds the
// same runs in a 1M-span store as in a 10M one; the total only adds row groups the start_time zone
// maps skip. Run alone:
//   node_modules/.bin/node bench/workflow_stats.ts --spans 1000000 [--calls 200]
//   node_modules/.bin/node bench/workflow_stats.ts --data-dir DIR [--calls 200]
import type { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { workflowStatsRoutes } from '../src/features/workflow_stats/routes.ts';
import { benchArgs, measureCases, withBenchServer } from './http_harness.ts';

export interface WorkflowStatsBenchOptions {
  spans: number;
  /** Calls per case (after a warm-up of a tenth as many). */
  calls?: number;
  /** Measure this data dir as it is instead of generating into a temp dir. */
  dataDir?: string;
}

const HOUR_MS = 3_600_000;

export async function benchWorkflowStats(opts: WorkflowStatsBenchOptions): Promise<Record<string, number>> {
  const setup = {
    dataDir: opts.dataDir,
    spans: opts.spans,
    name: 'stats',
    routes: (store: DuckDbSpanStore) => [workflowStatsRoutes({ store })],
  };
  return withBenchServer(setup, async ({ store, base }) => {
    const services = await store.services();
    const spans = services.reduce((sum, s) => sum + s.spanCount, 0);
    // Ranges end at the newest span, so that an older data dir is measured on its busiest day.
    const newestMs = Math.max(...services.map((s) => Number(s.lastSeenMicros / 1000n)));
    const firstWorkflow = await firstWorkflowName(base, services[0]!.serviceName, newestMs);
    const url = (i: number, hours: number, workflow?: string) => {
      const service = services[i % services.length]!.serviceName;
      // Each call a range ending up to a day earlier, so that no two calls ask the same question.
      const to = newestMs - (i % 24) * HOUR_MS;
      const params = new URLSearchParams({
        from: new Date(to - hours * HOUR_MS).toISOString(),
        to: new Date(to).toISOString(),
      });
      if (workflow) params.set('workflow', workflow);
      return `/otel/service/${encodeURIComponent(service)}/workflow_stats?${params}`;
    };
    const cases: Record<string, (i: number) => string> = {
      last_24h: (i) => url(i, 24),
      last_24h_one_workflow: (i) => url(i, 24, firstWorkflow),
      last_1h: (i) => url(i, 1),
      last_7d: (i) => url(i, 24 * 7),
    };
    console.log(`${spans} spans over ${services.length} services`);
    return { spans, ...(await measureCases(base, cases, opts.calls ?? 200)) };
  });
}

async function firstWorkflowName(base: string, service: string, newestMs: number): Promise<string> {
  const params = new URLSearchParams({ from: new Date(newestMs - 24 * HOUR_MS).toISOString() });
  params.set('to', new Date(newestMs).toISOString());
  const response = await fetch(
    `${base}/otel/service/${encodeURIComponent(service)}/workflow_stats?${params}`,
  );
  const body = (await response.json()) as { workflows: { workflow: string }[] };
  return body.workflows[0]?.workflow ?? 'none';
}

if (import.meta.main) console.log(JSON.stringify(await benchWorkflowStats(benchArgs(200)), null, 2));
