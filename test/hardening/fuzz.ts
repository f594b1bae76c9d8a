// Throws generated and mutated OTLP requests (fuzz_cases.ts) at both receivers of a real server
// process and checks, while it runs and afterwards:
// - every request is answered, within a timeout: success / partial_success, or a 4xx /
//   INVALID_ARGUMENT-class refusal, never a 5xx / INTERNAL / UNAVAILABLE;
// - a valid request is acknowledged in full, an oversized / badly encoded / unauthenticated one refused,
//   and an acknowledged request's partial_success counts exactly the spans our decoder rejects;
// - the server process stays the same and its RSS stays under a bound; /health is fine at the end and
//   both receivers still acknowledge a valid export; no error-level log line;
// - no half-written data: after a clean stop, DuckDB holds exactly the spans and patches of the
//   acknowledged requests (each once), nothing from a refused one.
//
//   node_modules/.bin/node test/hardening/fuzz.ts [requests=100000] [seed]
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { decodeTraceRequest } from '../../src/otlp/decode.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { checkDurability, type DurabilityReport, durabilityProblems } from '../ingestion/durability_check.ts';
import { decodeTraceResponse, RawGrpcClient } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { CLOSED_WHILE_SENDING, type FuzzCase, FuzzCases } from './fuzz_cases.ts';
import { mib, rssBytes, watchRss } from './process_stats.ts';

export interface FuzzOptions {
  requests: number;
  seed?: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Each request must be answered within this (default 15 s). */
  timeoutMs?: number;
  /** The server's JUNJO_MAX_REQUEST_BYTES (default 2 MiB: oversized cases stay cheap). */
  maxRequestBytes?: number;
  onProgress?: (done: number) => void;
}

export interface FuzzReport {
  requests: number;
  seed: number;
  seconds: number;
  /** Per case kind: how many, and how they were answered ("200", "400", "grpc INVALID_ARGUMENT"…). */
  byKind: Record<string, Record<string, number>>;
  acknowledged: number;
  partialSuccesses: number;
  refused: number;
  slowestMs: number;
  peakRssMiB: number;
  /** RSS after every tenth of the requests, to tell a plateau from a leak. */
  rssMiBSamples: number[];
  /** Broken promises; empty when the run passed. */
  violations: string[];
  violationCount: number;
  durability: DurabilityReport | null;
  errorLogLines: string[];
  serverAlive: boolean;
}

const ALLOWED_HTTP = new Set([200, 400, 401, 413, 415]);
const ALLOWED_GRPC = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNAUTHENTICATED,
  grpc.status.RESOURCE_EXHAUSTED,
]);
const MAX_VIOLATION_EXAMPLES = 20;

interface Answer {
  label: string;
  allowed: boolean;
  acked: boolean;
  /** rejected_spans of an acknowledged request (0 without partial_success). */
  rejectedSpans: number;
}

class Ledger {
  readonly spans: string[] = [];
  readonly patches: string[] = [];
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const maxRequestBytes = options.maxRequestBytes ?? 2 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const started = performance.now();
  const report: FuzzReport = {
    requests: 0,
    seed,
    seconds: 0,
    byKind: {},
    acknowledged: 0,
    partialSuccesses: 0,
    refused: 0,
    slowestMs: 0,
    peakRssMiB: 0,
    rssMiBSamples: [],
    violations: [],
    violationCount: 0,
    durability: null,
    errorLogLines: [],
    serverAlive: false,
  };
  const violation = (message: string) => {
    report.violationCount++;
    if (report.violations.length < MAX_VIOLATION_EXAMPLES) report.violations.push(message);
  };
  const ledger = new Ledger();
  const server = await startServerProcess({ env: { JUNJO_MAX_REQUEST_BYTES: String(maxRequestBytes) } });
  const pid = server.child.pid!;
  const rss = watchRss(pid);
  const grpcClient = new RawGrpcClient(server.ports.otlpGrpc);
  try {
    const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
    const cases = new FuzzCases({ seed, maxRequestBytes });
    // A request that gets no answer at all is judged like any wrong answer (seed and server output
    // in the report), not thrown past it.
    const send = (fuzzCase: FuzzCase) =>
      sendCase(server, grpcClient, apiKey, fuzzCase, timeoutMs).catch(
        (error: unknown): Answer => ({
          label: `no answer: ${String(error)}`,
          allowed: false,
          acked: false,
          rejectedSpans: 0,
        }),
      );
    let next = 0;
    const worker = async () => {
      while (next < options.requests) {
        next++;
        const fuzzCase = cases.next();
        const sentAt = performance.now();
        const answer = await send(fuzzCase);
        const ms = performance.now() - sentAt;
        report.slowestMs = Math.max(report.slowestMs, Math.round(ms));
        report.requests++;
        const kindStats = report.byKind[fuzzCase.kind] ?? {};
        report.byKind[fuzzCase.kind] = kindStats;
        kindStats[answer.label] = (kindStats[answer.label] ?? 0) + 1;
        const problem = judge(fuzzCase, answer, ledger);
        if (problem)
          violation(
            `${fuzzCase.kind} over ${fuzzCase.transport}: ${problem} (body starts ${fuzzCase.body.subarray(0, 48).toString('hex')})`,
          );
        if (answer.acked) report.acknowledged++;
        else report.refused++;
        if (answer.rejectedSpans > 0) report.partialSuccesses++;
        if (report.requests % Math.max(1, Math.floor(options.requests / 10)) === 0) {
          report.rssMiBSamples.push(mib(rssBytes(pid) ?? 0));
          options.onProgress?.(report.requests);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));

    // Still the same healthy process, and both receivers still take a valid export.
    report.serverAlive =
      server.child.exitCode === null && server.child.signalCode === null && server.child.pid === pid;
    if (!report.serverAlive) violation(`the server process is gone\n${server.output().slice(-4000)}`);
    const healthy = await fetch(`${server.baseUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (!healthy) violation('/health did not answer 200 after the run');
    for (const transport of ['grpc', 'http'] as const) {
      const probe = { ...cases.validCase(transport) };
      const answer = await send(probe);
      if (!answer.acked || answer.rejectedSpans > 0)
        violation(
          `a valid ${transport} export after the run was answered ${answer.label}\n${server.output().slice(-4000)}`,
        );
      else judge(probe, answer, ledger);
    }
    await waitFor(
      async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
      'the poller to index everything',
      60_000,
    ).catch((error: unknown) => violation(`${String(error)}\n${server.output().slice(-4000)}`));
    report.peakRssMiB = mib(rss.peakBytes());
    const stopped = await server.stop('SIGTERM');
    if (stopped.code !== 0) violation(`clean stop failed: ${JSON.stringify(stopped)}`);
    report.errorLogLines = errorLogLines(server.output());
    report.durability = await checkDurability(path.join(server.dataDir, 'duckdb/otel_data.duckdb'), {
      ackedSpans: ledger.spans,
      sentSpans: ledger.spans,
      ackedPatches: ledger.patches,
      sentPatches: ledger.patches,
    });
    for (const problem of durabilityProblems(report.durability)) violation(`stored data: ${problem}`);
  } finally {
    rss.stop();
    grpcClient.close();
    await server.cleanup();
    report.seconds = Math.round((performance.now() - started) / 100) / 10;
  }
  return report;
}

/** What is wrong with this answer to this case (null: nothing); records acknowledged rows. */
function judge(fuzzCase: FuzzCase, answer: Answer, ledger: Ledger): string | null {
  if (!answer.allowed) return `answered ${answer.label}`;
  if (fuzzCase.expect === 'accept' && (!answer.acked || answer.rejectedSpans > 0))
    return `a valid request was answered ${answer.label} (rejected ${answer.rejectedSpans})`;
  if (fuzzCase.expect === 'refuse' && answer.acked) return 'acknowledged a request that must be refused';
  if (fuzzCase.refusedAs && !answer.acked && !fuzzCase.refusedAs.includes(answer.label)) {
    return `refused as ${answer.label}, expected ${fuzzCase.refusedAs.join(' or ')}`;
  }
  if (!answer.acked) return null;
  let processed: ReturnType<typeof processTraceRequest>;
  try {
    processed = processTraceRequest(decodeTraceRequest(fuzzCase.payload, fuzzCase.format));
  } catch (error) {
    return `acknowledged a request our decoder refuses: ${String(error)}`;
  }
  for (const span of processed.spans) ledger.spans.push(`${span.trace_id}:${span.span_id}`);
  for (const patch of processed.patches) ledger.patches.push(patch.patch_id);
  if (processed.rejected.count !== answer.rejectedSpans) {
    return `partial_success says ${answer.rejectedSpans} rejected spans, the decoder rejects ${processed.rejected.count}`;
  }
  return null;
}

async function sendCase(
  server: ServerProcess,
  grpcClient: RawGrpcClient,
  apiKey: string,
  fuzzCase: FuzzCase,
  timeoutMs: number,
): Promise<Answer> {
  const key =
    fuzzCase.apiKey === 'valid'
      ? apiKey
      : fuzzCase.apiKey === 'wrong'
        ? `${apiKey.slice(0, -4)}zzzz`
        : undefined;
  if (fuzzCase.transport === 'grpc') {
    const answer = await grpcClient.exportTraces(fuzzCase.body, key, timeoutMs);
    const acked = answer.code === grpc.status.OK;
    return {
      label: `grpc ${grpc.status[answer.code]}`,
      allowed: ALLOWED_GRPC.has(answer.code),
      acked,
      rejectedSpans:
        acked && answer.response ? (decodeTraceResponse(answer.response)?.rejectedSpans ?? 0) : 0,
    };
  }
  const headers: Record<string, string> = {
    'content-type':
      fuzzCase.contentType ?? (fuzzCase.format === 'json' ? 'application/json' : 'application/x-protobuf'),
  };
  if (fuzzCase.contentEncoding !== undefined) headers['content-encoding'] = fuzzCase.contentEncoding;
  if (key !== undefined) headers['x-junjo-api-key'] = key;
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers,
      body: fuzzCase.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reset = (error as { cause?: { code?: string } }).cause?.code;
    if (
      fuzzCase.refusedAs?.includes(CLOSED_WHILE_SENDING) &&
      ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(reset ?? '')
    ) {
      return { label: CLOSED_WHILE_SENDING, allowed: true, acked: false, rejectedSpans: 0 };
    }
    throw error;
  }
  const body = Buffer.from(await response.arrayBuffer());
  const acked = response.status === 200;
  let rejectedSpans = 0;
  if (acked) {
    rejectedSpans =
      fuzzCase.format === 'json'
        ? // OTLP/JSON spells int64 as a decimal string.
          Number(
            (JSON.parse(body.toString()) as { partialSuccess?: { rejectedSpans?: string | number } })
              .partialSuccess?.rejectedSpans ?? 0,
          )
        : (decodeTraceResponse(body)?.rejectedSpans ?? 0);
  }
  return { label: String(response.status), allowed: ALLOWED_HTTP.has(response.status), acked, rejectedSpans };
}

/** Log lines at level error (50) or fatal (60). */
function errorLogLines(output: string): string[] {
  return output.split('\n').filter((line) => {
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 50;
    } catch {
      return false;
    }
  });
}

export function printFuzzReport(report: FuzzReport): void {
  console.log(
    `seed ${report.seed}: ${report.requests} requests in ${report.seconds} s, ${report.acknowledged} acknowledged (${report.partialSuccesses} with partial_success), ${report.refused} refused`,
  );
  console.log(
    `slowest answer ${report.slowestMs} ms, peak RSS ${report.peakRssMiB} MiB, server alive: ${report.serverAlive}`,
  );
  console.log(`RSS (MiB) after each tenth of the requests: ${report.rssMiBSamples.join(' ')}`);
  if (report.durability) {
    const d = report.durability;
    console.log(
      `stored ${d.storedSpans} spans / ${d.storedPatches} patches; missing ${d.missingSpans}/${d.missingPatches}, unexpected ${d.unexpectedSpans}/${d.unexpectedPatches}, duplicated ${d.duplicateSpans}/${d.duplicatePatches}`,
    );
  }
  for (const [kind, answers] of Object.entries(report.byKind).sort()) {
    console.log(
      `  ${kind.padEnd(32)} ${Object.entries(answers)
        .map(([label, n]) => `${label}: ${n}`)
        .join(', ')}`,
    );
  }
  console.log(`error log lines: ${report.errorLogLines.length}; violations: ${report.violationCount}`);
  for (const line of [...report.violations, ...report.errorLogLines.slice(0, 10)])
    console.log(`  ${line.slice(0, 2000)}`);
}

if (import.meta.main) {
  const requests = Number(process.argv[2] ?? process.env.FUZZ_REQUESTS ?? 100_000);
  const seed = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const report = await runFuzz({ requests, seed, onProgress: (done) => process.stderr.write(`${done} `) });
  printFuzzReport(report);
  process.exit(report.violationCount === 0 && report.errorLogLines.length === 0 ? 0 : 1);
}
