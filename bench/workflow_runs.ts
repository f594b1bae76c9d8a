// Filtered workflow-run lists (GET /otel/service/{s}/workflow_runs) through HTTP against the real
// routes, on generated Junjo data: state-path conditions on the end and start state, node
// conditions and a combination, each over the last 24 hours of one service (the goal at 10M spans:
// p99 ≤ 500 ms for a state-path filter), plus one state filter over the whole history for scale.
// Prints p50/p99 and the server's CPU per call beside the load average: on a shared machine the
// latencies are noisy, the CPU figure less so.
// Run alone: node_modules/.bin/node bench/workflow_runs.ts --data-dir DIR [--calls 100]
//            (DIR filled by `npm run generate -- --spans 1000000 --data-dir DIR`), or --spans N to
//            generate into a temp dir that is deleted afterwards.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSpans } from '../scripts/generate.ts';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { workflowRunRoutes } from '../src/features/workflow_runs/routes.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { formatTimestamp } from '../src/spans/span_json.ts';
import { measure, round } from './queries.ts';

const DAY_MICROS = 86_400_000_000n;

export async function benchWorkflowRuns(opts: {
  dataDir?: string;
  spans?: number;
  calls?: number;
}): Promise<Record<string, number>> {
  const calls = opts.calls ?? 100;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-runs-'));
  const file = loadConfig({ JUNJO_DATA_DIR: dataDir }).paths.duckdb;
  mkdirSync(path.dirname(file), { recursive: true });
  const logger = createLogger('warn');
  const store = await DuckDbSpanStore.open(file, logger);
  const app = await buildHttpApp({ logger, guards: [], features: [workflowRunRoutes({ store })] });
  try {
    if (opts.dataDir) await store.prepare();
    else await generateSpans(store, { spans: opts.spans ?? 1_000_000, services: 5, seed: 7 });
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

    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
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
    const result: Record<string, number> = { spans, workflow_runs: workflows };
    console.log(
      `load average before: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('filter                     p50 ms   p99 ms   max ms   CPU ms   load1');
    for (const [name, url] of Object.entries(cases)) {
      const { latencies, cpuMs } = await measure(base, url, calls);
      const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
      const load = os.loadavg()[0]!;
      Object.assign(result, {
        [`${name}_p50_ms`]: round(p(0.5)),
        [`${name}_p99_ms`]: round(p(0.99)),
        [`${name}_cpu_ms`]: round(cpuMs),
        [`${name}_load1`]: round(load),
      });
      console.log(
        `${name.padEnd(26)} ${p(0.5).toFixed(1).padStart(6)} ${p(0.99).toFixed(1).padStart(8)} ` +
          `${latencies.at(-1)!.toFixed(1).padStart(8)} ${cpuMs.toFixed(1).padStart(8)} ${load.toFixed(2).padStart(7)}`,
      );
    }
    return result;
  } finally {
    await app.close();
    await store.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      calls: { type: 'string', default: '100' },
      'data-dir': { type: 'string' },
    },
  });
  const result = await benchWorkflowRuns({
    spans: Number(values.spans),
    calls: Number(values.calls),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
