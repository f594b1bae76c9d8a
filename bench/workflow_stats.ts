// The service overview charts' query (GET /otel/service/:service_name/workflow_stats) through HTTP
// against the real routes, on generated Junjo data: p50/p99 latency and the server's CPU per call
// for the 24-hour charts (all workflows, and one workflow), the last hour and the last 7 days,
// with the load average beside them (the machine may be shared).
// The generator starts about one trace a second whatever the total, so a 24-hour window holds the
// same runs in a 1M-span store as in a 10M one; the total only adds row groups the start_time zone
// maps skip. Run alone:
//   node_modules/.bin/node bench/workflow_stats.ts --spans 1000000 [--calls 200]
//   node_modules/.bin/node bench/workflow_stats.ts --data-dir DIR [--calls 200]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSpans } from '../scripts/generate.ts';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { workflowStatsRoutes } from '../src/features/workflow_stats/routes.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { measure } from './queries.ts';

export interface WorkflowStatsBenchOptions {
  spans: number;
  /** Calls per case (after a warm-up of a tenth as many). */
  calls?: number;
  /** Measure this data dir as it is instead of generating into a temp dir. */
  dataDir?: string;
}

const HOUR_MS = 3_600_000;

export async function benchWorkflowStats(opts: WorkflowStatsBenchOptions): Promise<Record<string, number>> {
  const calls = opts.calls ?? 200;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-stats-'));
  const file = loadConfig({ JUNJO_DATA_DIR: dataDir }).paths.duckdb;
  mkdirSync(path.dirname(file), { recursive: true });
  const logger = createLogger('warn');
  const store = await DuckDbSpanStore.open(file, logger);
  const app = await buildHttpApp({ logger, guards: [], features: [workflowStatsRoutes({ store })] });
  try {
    if (opts.dataDir) await store.prepare();
    else {
      console.log(`generating ${opts.spans} spans…`);
      await generateSpans(store, { spans: opts.spans, services: 5, seed: 7 });
      await store.db.checkpoint();
    }
    const services = await store.services();
    const spans = services.reduce((sum, s) => sum + s.spanCount, 0);
    // Ranges end at the newest span, so that an older data dir is measured on its busiest day.
    const newestMs = Math.max(...services.map((s) => Number(s.lastSeenMicros / 1000n)));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
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
    const result: Record<string, number> = { spans, load_1m: round(os.loadavg()[0]!) };
    console.log(
      `${spans} spans, ${services.length} services; load average ${os.loadavg().map(round).join(' ')}`,
    );
    console.log('case                        p50 ms   p99 ms   CPU ms   load');
    for (const [name, caseUrl] of Object.entries(cases)) {
      const { latencies, cpuMs } = await measure(base, caseUrl, calls);
      const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
      const load = os.loadavg()[0]!;
      Object.assign(result, {
        [`${name}_p50_ms`]: round(p(0.5)),
        [`${name}_p99_ms`]: round(p(0.99)),
        [`${name}_cpu_ms`]: round(cpuMs),
        [`${name}_load`]: round(load),
      });
      console.log(
        `${name.padEnd(26)} ${p(0.5).toFixed(1).padStart(7)} ${p(0.99).toFixed(1).padStart(8)} ` +
          `${cpuMs.toFixed(1).padStart(8)} ${load.toFixed(2).padStart(6)}`,
      );
    }
    return result;
  } finally {
    await app.close();
    await store.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
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

const round = (n: number) => Math.round(n * 100) / 100;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      calls: { type: 'string', default: '200' },
      'data-dir': { type: 'string' },
    },
  });
  const result = await benchWorkflowStats({
    spans: Number(values.spans),
    calls: Number(values.calls),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
