// Trace search (GET /otel/search) latency and server CPU per call through HTTP, on generated Junjo
// data, beside the load average (the machine may be shared). Goal at 10M spans: p99 ≤ 300 ms for
// a 24-hour attribute search within one service. Searches end at the data's newest span, so a
// data dir measures the same whenever it is run.
// Run alone: node_modules/.bin/node bench/search.ts --data-dir DIR [--calls 50]
//   (fill DIR first: npm run generate -- --spans 1000000 --data-dir DIR)
// Without --data-dir it generates --spans (default 1M) into a temp dir and deletes it afterwards.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSpans } from '../scripts/generate.ts';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { searchRoutes } from '../src/features/search/routes.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { measure, round } from './queries.ts';

export interface SearchBenchOptions {
  /** Measure this data dir as it is; without it, generate `spans` into a temp dir. */
  dataDir?: string;
  spans?: number;
  /** Calls per search (after a warm-up of a tenth as many). */
  calls?: number;
}

export async function benchSearch(opts: SearchBenchOptions): Promise<Record<string, number>> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-search-'));
  const file = loadConfig({ JUNJO_DATA_DIR: dataDir }).paths.duckdb;
  mkdirSync(path.dirname(file), { recursive: true });
  const logger = createLogger('warn');
  const store = await DuckDbSpanStore.open(file, logger);
  const app = await buildHttpApp({ logger, guards: [], features: [searchRoutes({ store })] });
  try {
    if (opts.dataDir) await store.prepare();
    else await generateSpans(store, { spans: opts.spans ?? 1_000_000, services: 5, seed: 7 });
    const services = await store.services();
    const newest =
      services
        .map((s) => s.lastSeenMicros)
        .sort((a, b) => (a < b ? -1 : 1))
        .at(-1) ?? 0n;
    const spans = services.reduce((sum, s) => sum + s.spanCount, 0);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();
    const day = { from: iso(newest - 24n * 3_600_000_000n), to: iso(newest) };
    const searches: Record<string, Record<string, string | string[]>> = {
      '24h_newest_page': {},
      '24h_attribute_equals': { attr: 'llm.model_name = gemini-2.5-flash' },
      '24h_attribute_numeric': { attr: 'llm.token_count.total > 10' },
      '24h_attribute_rare': { attr: 'llm.model_name = no-such-model' },
      '24h_two_attributes_and_type': {
        type: 'node',
        attr: ['llm.model_name exists', 'llm.token_count.total between 1 and 100000'],
      },
      '24h_errors_min_duration': { status: 'error', min_ms: '50' },
      '24h_free_text': { q: 'refund' },
    };
    const result: Record<string, number> = { spans };
    const load = os.loadavg()[0]!;
    console.log(`${spans} spans; load average ${load.toFixed(2)} (1 min) at the start`);
    console.log('search                          p50 ms   p99 ms   CPU ms   avg KB');
    for (const [name, params] of Object.entries(searches)) {
      const url = (i: number) => {
        const query = new URLSearchParams({
          service: services[i % services.length]!.serviceName,
          ...day,
          limit: '50',
        });
        for (const [key, value] of Object.entries(params)) {
          for (const v of Array.isArray(value) ? value : [value]) query.append(key, v);
        }
        return `/otel/search?${query}`;
      };
      const { latencies, bytes, cpuMs } = await measure(base, url, opts.calls ?? 50);
      const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
      result[`${name}_p50_ms`] = round(p(0.5));
      result[`${name}_p99_ms`] = round(p(0.99));
      result[`${name}_cpu_ms`] = round(cpuMs);
      console.log(
        `${name.padEnd(30)} ${p(0.5).toFixed(1).padStart(7)} ${p(0.99).toFixed(1).padStart(8)} ` +
          `${cpuMs.toFixed(1).padStart(8)} ${(bytes / latencies.length / 1024).toFixed(0).padStart(8)}`,
      );
    }
    result.load_average_1m = round(os.loadavg()[0]!);
    console.log(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at the end`,
    );
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
      'data-dir': { type: 'string' },
      spans: { type: 'string', default: '1000000' },
      calls: { type: 'string', default: '50' },
    },
  });
  const result = await benchSearch({
    spans: Number(values.spans),
    calls: Number(values.calls),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
