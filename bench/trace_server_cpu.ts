// Server CPU per trace-page request (issue 13, time to interactive): the trace page waits for the
// waterfall view of the compact trace, and on a busy machine every millisecond of the server's CPU
// is several of the page's. The real server (one process, DuckDB unless --store clickhouse) gets a
// 500- and a 10,000-span trace from a stock OTLP exporter; each is then asked for ROUNDS times as
// the browser asks (Accept-Encoding: br, gzip) and without compression, one request at a time.
// CPU is the server process's (all its threads) from /proc/<pid>/stat, so the figure holds on a
// loaded machine where wall time does not; an idle interval of the same length is measured too.
//
//   node bench/trace_server_cpu.ts [--rounds 40] [--store duckdb|clickhouse]
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createApiKey, signIn } from '../test/support/accounts.ts';
import { type SpanStoreKind, startServerProcess } from '../test/support/server_process.ts';
import { indexedSpans, waitFor } from '../test/support/wait.ts';
import { sendSpans, spanCount, traceWith } from './bench_traces.ts';

const SERVICE = 'bench-trace-cpu';
const USER = { email: 'trace-cpu@example.com', password: 'correct horse battery staple' };
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, store: { type: 'string', default: 'duckdb' } },
});
const ROUNDS = Number(values.rounds);
const STORE = values.store as SpanStoreKind;

/** User + system CPU time of a process, ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function get(url: string, cookie: string, acceptEncoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { cookie, 'accept-encoding': acceptEncoding } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () =>
        response.statusCode === 200 ? resolve(bytes) : reject(new Error(`${url}: ${response.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const server = await startServerProcess({ spanStore: STORE });
try {
  const pid = server.child.pid!;
  const session = await signIn(server.baseUrl, USER.email, USER.password);
  const apiKey = (await createApiKey(session)).key;
  const traces = [500, 10_000].map((size, i) => traceWith(size, spanCount, 81 + i, SERVICE));
  for (const trace of traces) await sendSpans(server.ports.otlpGrpc, apiKey, trace.spans);
  const total = traces.reduce((sum, t) => sum + t.spans.length, 0);
  await waitFor(async () => (await indexedSpans(server.baseUrl, USER)) >= total, 'spans indexed', 180_000);

  console.log(`== server CPU per waterfall request (${STORE}, ${ROUNDS} rounds each) ==`);
  console.log(`${cpus().length} CPUs, load average ${load()} at start`);
  for (const trace of traces) {
    const url = `${server.baseUrl}/otel/trace/${trace.traceId}/compact?view=waterfall`;
    for (const encoding of ['br, gzip', 'identity']) {
      await get(url, session.cookie, encoding); // warm: first-call costs (plans, JIT) are not per request
      const started = performance.now();
      const before = processCpuMs(pid);
      let bytes = 0;
      for (let i = 0; i < ROUNDS; i++) bytes = await get(url, session.cookie, encoding);
      const cpuMs = (processCpuMs(pid) - before) / ROUNDS;
      const wallMs = (performance.now() - started) / ROUNDS;
      console.log(
        `${`${trace.spans.length} spans, ${encoding}`.padEnd(24)} server CPU ${cpuMs.toFixed(1)} ms/request` +
          `  (wall ${wallMs.toFixed(0)} ms, ${bytes.toLocaleString('en')} bytes; load ${load()})`,
      );
    }
  }
  // What the server spends without requests (poller, timers) over 2 s: the noise in the figures above.
  const idleBefore = processCpuMs(pid);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  console.log(`idle: ${((processCpuMs(pid) - idleBefore) / 2).toFixed(1)} ms CPU per second`);
} finally {
  await server.cleanup();
}
