// Filtered workflow-run lists (GET /otel/service/{s}/workflow_runs) through HTTP against the real
// routes, on generated Junjo data: state-path conditions on the end and start state, node
// conditions and a combination, each over the last 24 hours of one service (the goal at 10M spans:
// p99 ≤ 500 ms for a state-path filter), plus one state filter over the whole history for scale.
// Prints p50/p99 and the server's CPU per call beside the load average: on a shared machine the
// latencies are noisy, the CPU figure less so.
// Run alone: node_modules/.bin/node bench/workflow_runs.ts --data-dir DIR [--calls 100]
//            (DIR filled by `npm run generate -- --spans 1000000 --data-dir DIR`), or --spans N to
//            generate into a temp dir that is deleted afterwards.
import type { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { workflowRunRoutes } from '../src/features/workflow_runs/routes.ts';
import { formatTimestamp } from '../src/spans/span_json.ts';
import { benchArgs, measureCases, withBenchServer } from './http_harness.ts';

const DAY_MICROS = 86_400_000_000n;

export async function benchWorkflowRuns(opts: {
  dataDir?: string;
  spans?: number;
  calls?: number;
}): Promise<Record<string, number>> {
  const setup = {
    dataDir: opts.dataDir,
    spans: opts.spans ?? 1_000_000,
    name: 'runs',
    routes: (store: DuckDbSpanStore) => [workflowRunRoutes({ store })],
  };
  return withBenchServer(setup, async ({ store, base }) => {
    // Per service, the 24 hours up to its newest workflow run (generated data ends near "now").
    const windows = await store.db.read(async (conn) => {
      const reader = await conn.runAndReadAll(`
        SELECT service_name, epoch_us(max(start_time)), count(*) FROM spans
        WHERE junjo_span_type = 'workflow' GROUP BY service_name ORDER BY service_name`);
      return reader.getRows().map(([service, newest, runs]) => ({
        service: service as string,
        from: formatTimestamp((newest as bigint) - DAY_MICROS),
        to: formatTimestamp((newest as bigint) + 1n),
        runs: Number(runs as bigint),
      }));
    });
    const spans = (await store.stats()).spans;
    const workflows = windows.reduce((sum, w) => sum + w.runs, 0);
    console.log(`${spans} spans, ${workflows} workflow runs over ${windows.length} services`);

    const day = (i: number, query: Record<string, string>) => {
      const w = windows[i % windows.length]!;
      const params = new URLSearchParams({ ...query, from: w.from, to: w.to, limit: '50' });
      return `/otel/service/${encodeURIComponent(w.service)}/workflow_runs?${params}`;
    };
    const cases: Record<string, (i: number) => string> = {
      state_equals_24h: (i) => day(i, { state: '$.status = "validating"' }),
      state_length_24h: (i) => day(i, { state: '$.items.length > 2' }),
      state_contains_24h: (i) => day(i, { state: '$.greeting contains "ready"' }),
      start_state_24h: (i) => day(i, { state: '$.count = 0', state_of: 'start' }),
      state_no_match_24h: (i) => day(i, { state: '$.status = "never"' }),
      node_ran_24h: (i) => day(i, { node: 'ValidateNode' }),
      failed_node_24h: (i) => day(i, { failed_node: 'ValidateNode' }),
      combined_24h: (i) =>
        day(i, { workflow: 'sample_workflow', not_node: 'TranslateNode', min_ms: '1', state: '$.count > 5' }),
      state_equals_all_time: (i) => {
        const w = windows[i % windows.length]!;
        return `/otel/service/${encodeURIComponent(w.service)}/workflow_runs?limit=50&state=${encodeURIComponent('$.status = "validating"')}`;
      },
    };
    return { spans, workflow_runs: workflows, ...(await measureCases(base, cases, opts.calls ?? 100)) };
  });
}

if (import.meta.main) console.log(JSON.stringify(await benchWorkflowRuns(benchArgs(100)), null, 2));
