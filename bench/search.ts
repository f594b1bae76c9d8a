// Trace search (GET /otel/search) latency and server CPU per call through HTTP, on generated Junjo
// data, beside the load average (the machine may be shared). Goal at 10M spans: p99 ≤ 300 ms for
// a 24-hour attribute search within one service. Searches end at the data's newest span, so a
// data dir measures the same whenever it is run.
// Run alone: node_modules/.bin/node bench/search.ts --data-dir DIR [--calls 50]
//   (fill DIR first: npm run generate -- --spans 1000000 --data-dir DIR)
// Without --data-dir it generates --spans (default 1M) into a temp dir and deletes it afterwards.
import type { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { searchRoutes } from '../src/features/search/routes.ts';
import { benchArgs, measureCases, withBenchServer } from './http_harness.ts';

export interface SearchBenchOptions {
  /** Measure this data dir as it is; without it, generate `spans` into a temp dir. */
  dataDir?: string;
  spans?: number;
  /** Calls per search (after a warm-up of a tenth as many). */
  calls?: number;
}

const SEARCHES: Record<string, Record<string, string | string[]>> = {
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

export async function benchSearch(opts: SearchBenchOptions): Promise<Record<string, number>> {
  const setup = {
    dataDir: opts.dataDir,
    spans: opts.spans ?? 1_000_000,
    name: 'search',
    routes: (store: DuckDbSpanStore) => [searchRoutes({ store })],
  };
  return withBenchServer(setup, async ({ store, base }) => {
    const services = await store.services();
    const newest =
      services
        .map((s) => s.lastSeenMicros)
        .sort((a, b) => (a < b ? -1 : 1))
        .at(-1) ?? 0n;
    const spans = services.reduce((sum, s) => sum + s.spanCount, 0);
    console.log(`${spans} spans over ${services.length} services`);
    const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();
    const day = { from: iso(newest - 24n * 3_600_000_000n), to: iso(newest) };
    const cases = Object.fromEntries(
      Object.entries(SEARCHES).map(([name, params]) => [
        name,
        (i: number) => {
          const query = new URLSearchParams({
            service: services[i % services.length]!.serviceName,
            ...day,
            limit: '50',
          });
          for (const [key, value] of Object.entries(params)) {
            for (const v of Array.isArray(value) ? value : [value]) query.append(key, v);
          }
          return `/otel/search?${query}`;
        },
      ]),
    );
    return { spans, ...(await measureCases(base, cases, opts.calls ?? 50)) };
  });
}

if (import.meta.main) console.log(JSON.stringify(await benchSearch(benchArgs(50)), null, 2));
