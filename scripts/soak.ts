// Soak: sustained ingest plus queries against a real server process, watching for leaks.
//
//   node_modules/.bin/node scripts/soak.ts [--minutes 10] [--spans-per-second 500] [--sample-seconds 10]
//                                          [--query-concurrency 2] [--out results.md]
//
// Exporters (gRPC and OTLP/HTTP, protobuf and JSON) send unique realistic Junjo traces at a steady
// rate while readers loop over four query endpoints (service list, a service's root spans, its
// workflow spans, a recent trace's nested spans). Every sample prints the server's RSS and its peak
// so far (VmHWM), the two JavaScript heaps and the ArrayBuffer memory of each (main thread, ingestion thread), its open file descriptors, p50/p99 latency per endpoint over the interval, spans stored and the backlog. At the end
// it compares the last fifth of the run with the second fifth (after warm-up) and says whether RSS,
// descriptors and latency stayed flat, and whether the peak RSS stayed under the 512 MB goal. Not a CI test: it takes minutes and judges trends.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { mib, openFileDescriptors, peakRssBytes, rssBytes } from '../test/hardening/process_stats.ts';
import { postOtlp, RawGrpcClient } from '../test/ingestion/otlp_clients.ts';
import { type RequestFormat, UniqueRequests } from '../test/ingestion/unique_requests.ts';
import { createApiKey, signIn } from '../test/support/accounts.ts';
import { health } from '../test/support/health.ts';
import { startServerProcess } from '../test/support/server_process.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'spans-per-second': { type: 'string', default: '500' },
    'sample-seconds': { type: 'string', default: '10' },
    'query-concurrency': { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const durationMs = Number(args.minutes) * 60_000;
const spansPerSecond = Number(args['spans-per-second']);
const sampleMs = Number(args['sample-seconds']) * 1000;

const ENDPOINTS = ['services', 'root_spans', 'workflows', 'nested_spans'] as const;
/** Issue #13's memory goal: the whole process under 512 MB (decimal) of resident memory. */
const RSS_GOAL_BYTES = 512e6;
type Endpoint = (typeof ENDPOINTS)[number];

interface Sample {
  atSeconds: number;
  rssMiB: number;
  /** VmHWM in bytes: the verdict judges bytes, the table shows MiB. */
  peakRssBytes: number;
  mainHeapMiB: number;
  ingestionHeapMiB: number;
  mainBuffersMiB: number;
  ingestionBuffersMiB: number;
  fds: number;
  spansStored: number;
  backlogKiB: number;
  exportP99Ms: number;
  latency: Record<Endpoint, { p50: number; p99: number; n: number }>;
  errors: number;
}

/** A server log line as "<seconds into the soak> s: <message> (<ms> ms): <error>". */
function describeLogLine(line: string, startedAt: number): string {
  try {
    // The server's logger writes ISO times (src/logger.ts).
    const entry = JSON.parse(line) as { time?: string; msg?: string; ms?: number; err?: unknown };
    const time = Date.parse(entry.time ?? '');
    const at = Number.isNaN(time) ? '?' : ((time - startedAt) / 1000).toFixed(0);
    const err = entry.err === undefined ? '' : `: ${JSON.stringify(entry.err).slice(0, 200)}`;
    return `${at} s: ${entry.msg ?? ''}${entry.ms === undefined ? '' : ` (${entry.ms} ms)`}${err}`;
  } catch {
    return line.slice(0, 300);
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

const median = (values: number[]) => percentile(values, 50);

const server = await startServerProcess();
const pid = server.child.pid!;
let stopping = false;
process.on('SIGINT', () => {
  stopping = true;
});

try {
  const session = await signIn(server.baseUrl);
  const apiKey = (await createApiKey(session)).key;
  const requests = new UniqueRequests();
  const grpcClient = new RawGrpcClient(server.ports.otlpGrpc);
  const recentTraces: string[] = [];
  let exportTimes: number[] = [];
  const queryTimes: Record<Endpoint, number[]> = {
    services: [],
    root_spans: [],
    workflows: [],
    nested_spans: [],
  };
  let errors = 0;
  const started = performance.now();
  const startedAt = Date.now(); // the server logs wall-clock times
  // The first failures, said in full at the end: a count alone cannot tell a refusal from a crash.
  const failures: string[] = [];
  const fail = (what: string) => {
    errors++;
    if (failures.length < 10)
      failures.push(`${((performance.now() - started) / 1000).toFixed(0)} s: ${what}`);
  };
  const running = () => !stopping && performance.now() - started < durationMs;

  // Exporters: each of the four kinds sends its share of the target rate.
  const kinds: [transport: 'grpc' | 'http', format: RequestFormat][] = [
    ['grpc', 'protobuf'],
    ['http', 'protobuf'],
    ['grpc', 'protobuf'],
    ['http', 'json'],
  ];
  const exporters = kinds.map(async ([transport, format]) => {
    let spansSent = 0;
    const loopStarted = performance.now();
    while (running()) {
      const request = requests.next(format);
      const sentAt = performance.now();
      if (transport === 'grpc') {
        const answer = await grpcClient.exportTraces(request.body, apiKey);
        if (answer.code !== grpc.status.OK)
          fail(`gRPC export: ${grpc.status[answer.code]} ${answer.details}`);
      } else {
        const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', request.body, {
          apiKey,
          contentType: format === 'json' ? 'application/json' : 'application/x-protobuf',
        });
        if (answer.status !== 200) {
          fail(`HTTP ${format} export: ${answer.status} ${answer.body.toString('utf8', 0, 200)}`);
        }
      }
      exportTimes.push(performance.now() - sentAt);
      spansSent += request.spans.length;
      recentTraces.push(request.spans[0]!.slice(0, 32));
      if (recentTraces.length > 200) recentTraces.shift();
      // Pace to this exporter's share of the target rate.
      const dueMs = (spansSent / (spansPerSecond / kinds.length)) * 1000 - (performance.now() - loopStarted);
      if (dueMs > 0) await new Promise((resolve) => setTimeout(resolve, dueMs));
    }
  });

  // Readers.
  const get = async (endpoint: Endpoint, path: string) => {
    const sentAt = performance.now();
    const response = await session.request('GET', path);
    const body = await response.text();
    queryTimes[endpoint].push(performance.now() - sentAt);
    if (!response.ok) fail(`GET ${path}: ${response.status} ${body.slice(0, 200)}`);
  };
  let services: string[] = [];
  const readers = Array.from({ length: Number(args['query-concurrency']) }, async (_, reader) => {
    for (let i = reader; running(); i++) {
      const endpoint = ENDPOINTS[i % ENDPOINTS.length]!;
      if (endpoint === 'services') {
        const sentAt = performance.now();
        const response = await session.request('GET', '/otel/span_service_names');
        services = (await response.json()) as string[];
        queryTimes.services.push(performance.now() - sentAt);
        continue;
      }
      const service = services[i % Math.max(1, services.length)];
      const trace = recentTraces[recentTraces.length - 1 - (i % 50)];
      if (!service || !trace) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const name = encodeURIComponent(service);
      if (endpoint === 'root_spans') await get(endpoint, `/otel/service/${name}/root_spans`);
      else if (endpoint === 'workflows') await get(endpoint, `/otel/spans/type/workflow/${name}`);
      else await get(endpoint, `/otel/trace/${trace}/nested_spans`);
    }
  });

  // Sampler.
  const samples: Sample[] = [];
  const header =
    '| t (s) | RSS (MiB) | peak RSS (MiB) | heap main / ingestion (MiB) | buffers main / ingestion (MiB) | fds | spans stored | backlog (KiB) | export p99 (ms) | ' +
    ENDPOINTS.map((e) => `${e} p50/p99 (ms)`).join(' | ') +
    ' | errors |';
  console.log(`soak: ${args.minutes} min, ${spansPerSecond} spans/s, server pid ${pid}`);
  console.log(header);
  console.log(
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
  );
  const sampler = (async () => {
    while (running()) {
      await new Promise((resolve) => setTimeout(resolve, sampleMs));
      const facts = await health(server.baseUrl);
      const latency = Object.fromEntries(
        ENDPOINTS.map((e) => [
          e,
          { p50: percentile(queryTimes[e], 50), p99: percentile(queryTimes[e], 99), n: queryTimes[e].length },
        ]),
      ) as Sample['latency'];
      const sample: Sample = {
        atSeconds: Math.round((performance.now() - started) / 1000),
        rssMiB: mib(rssBytes(pid) ?? 0),
        peakRssBytes: peakRssBytes(pid) ?? 0,
        mainHeapMiB: mib(facts.process.heap_used_bytes),
        ingestionHeapMiB: mib(facts.worker_heap_used_bytes ?? 0),
        mainBuffersMiB: mib(facts.process.array_buffers_bytes),
        ingestionBuffersMiB: mib(facts.worker_array_buffers_bytes ?? 0),
        fds: openFileDescriptors(pid) ?? 0,
        spansStored: facts.poller?.spans_indexed ?? 0,
        backlogKiB: Math.round((facts.ingestion?.backlog_bytes ?? 0) / 1024),
        exportP99Ms: percentile(exportTimes, 99),
        latency,
        errors,
      };
      samples.push(sample);
      for (const e of ENDPOINTS) queryTimes[e] = [];
      exportTimes = [];
      console.log(
        `| ${sample.atSeconds} | ${sample.rssMiB} | ${mib(sample.peakRssBytes)} | ${sample.mainHeapMiB} / ${sample.ingestionHeapMiB} | ${sample.mainBuffersMiB} / ${sample.ingestionBuffersMiB} | ${sample.fds} | ${sample.spansStored} | ${sample.backlogKiB} | ${sample.exportP99Ms} | ` +
          ENDPOINTS.map((e) => `${latency[e].p50} / ${latency[e].p99}`).join(' | ') +
          ` | ${errors} |`,
      );
    }
  })();
  await Promise.all([...exporters, ...readers, sampler]);
  grpcClient.close();

  const verdict = judge(samples);
  console.log(`\n${verdict.join('\n')}`);
  for (const failure of failures) console.log(`  failed at ${failure}`);
  // What the server logged about them (a 500's cause is only in its log), and what held up indexing:
  // its warnings, the checkpoints it timed and the reopens for index memory (each holds up the
  // writer queue).
  const serverLines = server.output().split('\n');
  const serverErrors = serverLines.filter((line) => /"level":(50|60)/.test(line));
  for (const line of serverErrors.slice(0, 5)) console.log(`  server: ${line.slice(0, 1500)}`);
  const pauses = serverLines.filter((line) =>
    /"level":40|"msg":"DuckDB checkpoint"|"msg":"DuckDB opened its file again to release/.test(line),
  );
  if (pauses.length > 0)
    console.log(`\nserver warnings, checkpoints and reopens (${pauses.length}, the first 20):`);
  for (const line of pauses.slice(0, 20)) console.log(`  ${describeLogLine(line, startedAt)}`);
  if (args.out) {
    const rows = samples.map(
      (s) =>
        `| ${s.atSeconds} | ${s.rssMiB} | ${mib(s.peakRssBytes)} | ${s.mainHeapMiB} / ${s.ingestionHeapMiB} | ${s.fds} | ${s.spansStored} | ${s.backlogKiB} | ${s.exportP99Ms} | ` +
        ENDPOINTS.map((e) => `${s.latency[e].p50} / ${s.latency[e].p99}`).join(' | ') +
        ` | ${s.errors} |`,
    );
    writeFileSync(
      args.out,
      [
        header,
        `|${header
          .split('|')
          .slice(1, -1)
          .map(() => '---')
          .join('|')}|`,
        ...rows,
        '',
        ...verdict,
        '',
      ].join('\n'),
    );
  }
} finally {
  await server.cleanup();
}

/** Second fifth (warmed up) against the last fifth: flat, or how it grew. */
function judge(samples: Sample[]): string[] {
  if (samples.length < 5) return ['verdict: too few samples to judge'];
  const fifth = Math.floor(samples.length / 5);
  const early = samples.slice(fifth, 2 * fifth);
  const late = samples.slice(-fifth);
  const lines: string[] = [];
  const compare = (
    what: string,
    pick: (s: Sample) => number,
    flat: (a: number, b: number) => boolean,
    unit: string,
  ) => {
    const a = median(early.map(pick));
    const b = median(late.map(pick));
    lines.push(`${flat(a, b) ? 'flat ' : 'GROWS'} ${what}: ${a} → ${b} ${unit}`);
  };
  compare(
    'RSS',
    (s) => s.rssMiB,
    (a, b) => b <= a * 1.25 + 50,
    'MiB',
  );
  compare(
    'open file descriptors',
    (s) => s.fds,
    (a, b) => b <= a + 10,
    '',
  );
  compare(
    'export p99',
    (s) => s.exportP99Ms,
    (a, b) => b <= a * 2 + 20,
    'ms',
  );
  for (const e of ENDPOINTS) {
    compare(
      `${e} p99`,
      (s) => s.latency[e].p99,
      (a, b) => b <= a * 2 + 20,
      'ms',
    );
  }
  // VmHWM: the highest RSS of the whole run, warm-up included, between samples too.
  // The goal is 512 MB (10^6 bytes), ~488 MiB: judged in bytes, printed in both units.
  const peak = samples.at(-1)!.peakRssBytes;
  lines.push(
    `${peak < RSS_GOAL_BYTES ? 'ok   ' : 'OVER '} peak RSS: ${mib(peak)} MiB = ${(peak / 1e6).toFixed(1)} MB (goal: under 512 MB)`,
  );
  const errorsTotal = samples.at(-1)!.errors;
  lines.push(`${errorsTotal === 0 ? 'ok   ' : 'ERRORS'} failed requests: ${errorsTotal}`);
  const flat = lines.every(
    (line) => line.startsWith('flat') || line.startsWith('ok') || line.startsWith('OVER'),
  );
  lines.unshift(
    `verdict: ${flat ? 'FLAT (no leak seen)' : 'NOT FLAT (see below)'} over ${samples.at(-1)!.atSeconds} s, ${samples.at(-1)!.spansStored} spans stored`,
  );
  return lines;
}
