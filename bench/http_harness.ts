// The harness the HTTP query benches share: open a data dir (or generate spans into a temp one),
// serve some routes over loopback, call each case's URLs from a child process and print p50/p99,
// the server's CPU per call and the load average beside them (the machine may be shared; the CPU
// figure is disturbed less by noisy neighbours than latency).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  constants,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
  PerformanceObserver,
} from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateDuckDbFile } from '../scripts/generate.ts';
import { loadConfig } from '../src/config.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { buildHttpApp, type HttpPlugin } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';

export interface HttpBenchServer {
  store: DuckDbSpanStore;
  /** The server's origin, e.g. http://127.0.0.1:40123. */
  base: string;
}

export interface HttpBenchSetup {
  /** Measure this data dir as it is; without it, generate `spans` into a temp dir deleted afterwards. */
  dataDir?: string | undefined;
  spans: number;
  services?: number;
  /** Names the temp dir, e.g. 'search'. */
  name: string;
  routes: (store: DuckDbSpanStore) => HttpPlugin[];
}

/** The command line of an HTTP query bench run alone: --spans N (default 1M) or --data-dir DIR, --calls N. */
export function benchArgs(defaultCalls: number): { spans: number; calls: number; dataDir?: string } {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '1000000' },
      calls: { type: 'string', default: String(defaultCalls) },
      'data-dir': { type: 'string' },
    },
  });
  return {
    spans: Number(values.spans),
    calls: Number(values.calls),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  };
}

/** Runs `bench` against a listening server (no auth guard: the guard's cost is not the query's). */
export async function withBenchServer<T>(
  setup: HttpBenchSetup,
  bench: (server: HttpBenchServer) => Promise<T>,
): Promise<T> {
  const dataDir = setup.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `junjo-bench-${setup.name}-`));
  const file = loadConfig({ JUNJO_DATA_DIR: dataDir }).paths.duckdb;
  mkdirSync(path.dirname(file), { recursive: true });
  if (!setup.dataDir) {
    // Generated at the generator's own limit, then served at the server's (generateDuckDbFile).
    const services = setup.services ?? 5;
    console.log(`generating ${setup.spans} spans over ${services} services…`);
    await generateDuckDbFile(file, { spans: setup.spans, services, seed: 7 });
  }
  const logger = createLogger('warn');
  const store = await DuckDbSpanStore.open(file, logger);
  const app = await buildHttpApp({ logger, guards: [], features: setup.routes(store) });
  try {
    await store.prepare();
    await app.listen({ host: '127.0.0.1', port: 0 });
    return await bench({ store, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
  } finally {
    await app.close();
    await store.close();
    if (!setup.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Calls each case's URLs (`url(i)` for call i) and prints one table row per case: p50, p99 and
 * max latency, the server's CPU per call, its main thread's garbage collection (pause per call, and
 * full collections per 100 calls: each one lengthens the call it falls in by several ms), the average
 * response size and the 1-minute load average after the case. Returns `<case>_p50_ms`, `_p99_ms`,
 * `_cpu_ms`, `_gc_ms`, `_full_gcs_per_100` and `_load1` per case.
 */
export async function measureCases(
  base: string,
  cases: Record<string, (i: number) => string>,
  calls: number,
): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  console.log(`load average ${loadAverage()} before`);
  console.log(`${'case'.padEnd(30)} p50 ms   p99 ms   max ms   CPU ms    GC ms  full GC   avg KB   load1`);
  for (const [name, url] of Object.entries(cases)) {
    const { latencies, bytes, cpuMs, gcMs, fullGcs } = await measure(base, url, calls);
    const fullGcsPer100 = (fullGcs * 100) / latencies.length;
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    const load = os.loadavg()[0]!;
    Object.assign(result, {
      [`${name}_p50_ms`]: round(p(0.5)),
      [`${name}_p99_ms`]: round(p(0.99)),
      [`${name}_cpu_ms`]: round(cpuMs),
      [`${name}_gc_ms`]: round(gcMs),
      [`${name}_full_gcs_per_100`]: round(fullGcsPer100),
      [`${name}_load1`]: round(load),
    });
    console.log(
      `${name.padEnd(30)} ${[p(0.5), p(0.99), latencies.at(-1)!, cpuMs, gcMs, fullGcsPer100]
        .map((ms) => ms.toFixed(1).padStart(6))
        .join(
          '   ',
        )} ${(bytes / latencies.length / 1024).toFixed(0).padStart(8)} ${load.toFixed(2).padStart(7)}`,
    );
  }
  console.log(`load average ${loadAverage()} after`);
  return result;
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface ClientResult {
  latencies: number[];
  bytes: number;
}

/**
 * Calls the URLs from a child process, like an outside client: an in-process client would share
 * the server's event loop and garbage collector, and its CPU would count as the server's. This
 * process's CPU (Fastify, the service, DuckDB's threads) is measured from the end of the warm-up
 * (a tenth as many calls, at least 5), and so are this process's garbage collections (the server's
 * main thread: pauses, and how many were full ones). Latencies come back sorted.
 */
export async function measure(base: string, url: (i: number) => string, calls: number) {
  const warmUp = Math.max(5, Math.round(calls / 10));
  const urls = Array.from({ length: warmUp + calls }, (_, i) => base + url(i));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--client'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify({ urls, warmUp }));
  let cpu = process.cpuUsage();
  let result: ClientResult | undefined;
  const gc = { counting: false, ms: 0, full: 0 };
  const countGc = (entries: readonly PerformanceEntry[]) => {
    if (!gc.counting) return;
    for (const entry of entries) {
      gc.ms += entry.duration;
      const { kind } = (entry as PerformanceEntry & { detail: NodeGCPerformanceDetail }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.full++;
    }
  };
  const observer = new PerformanceObserver((list) => countGc(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'warm') {
      observer.takeRecords(); // the warm-up's collections: not counted
      cpu = process.cpuUsage();
      gc.counting = true;
    } else result = JSON.parse(line) as ClientResult;
  }
  const used = process.cpuUsage(cpu);
  countGc(observer.takeRecords());
  observer.disconnect();
  if (!result) throw new Error(`the bench client failed on ${urls[0]}`);
  return {
    latencies: result.latencies.sort((a, b) => a - b),
    bytes: result.bytes,
    cpuMs: (used.user + used.system) / 1000 / calls,
    gcMs: gc.ms / calls,
    fullGcs: gc.full,
  };
}

async function runClient(): Promise<void> {
  const { urls, warmUp } = JSON.parse(await text(process.stdin)) as { urls: string[]; warmUp: number };
  const result: ClientResult = { latencies: [], bytes: 0 };
  for (let i = 0; i < urls.length; i++) {
    if (i === warmUp) process.stdout.write('warm\n');
    const started = performance.now();
    const response = await fetch(urls[i]!);
    const body = await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`${urls[i]} → ${response.status} ${Buffer.from(body)}`);
    if (i >= warmUp) {
      result.latencies.push(elapsed);
      result.bytes += body.byteLength;
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export const round = (n: number) => Math.round(n * 10) / 10;

if (import.meta.main && process.argv.includes('--client')) await runClient();
