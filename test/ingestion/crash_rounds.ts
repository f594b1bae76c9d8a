// kill -9 of the real server while several clients export, over and over on one data directory.
// Each round: start the server, run the clients (gRPC and OTLP/HTTP, protobuf and JSON; each
// remembers exactly which requests were acknowledged), SIGKILL the server at a random moment,
// restart it on the same directory, wait until the poller has indexed everything, stop it, and
// check DuckDB: every acknowledged span and set_state patch exactly once, nothing never sent.
//
// Used by crash.test.ts (a few rounds) and runnable on its own for long runs:
//   node_modules/.bin/node test/ingestion/crash_rounds.ts [rounds=100]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { checkDurability, type DurabilityReport, durabilityProblems } from './durability_check.ts';
import { postOtlp, RawGrpcClient } from './otlp_clients.ts';
import { type RequestFormat, type UniqueRequest, UniqueRequests } from './unique_requests.ts';

export interface CrashRoundsOptions {
  rounds: number;
  /** Concurrent exporting clients (default 4: gRPC, HTTP/protobuf, gRPC, HTTP/JSON). */
  clients?: number;
  /** The kill comes this many ms after the clients start, uniformly at random (default 300–1500). */
  killWindowMs?: readonly [number, number];
  /** Existing data directory to keep using (default: a temp dir, removed at the end). */
  dataDir?: string;
  onRound?: (report: RoundReport) => void;
}

export interface RoundReport {
  round: number;
  killedAfterMs: number;
  requestsSent: number;
  requestsAcked: number;
  spansAcked: number;
  /** Acknowledged over all rounds so far. */
  totalSpansAcked: number;
  durability: DurabilityReport;
  roundMs: number;
}

type Transport = 'grpc' | 'http';
const CLIENT_KINDS: readonly [Transport, RequestFormat][] = [
  ['grpc', 'protobuf'],
  ['http', 'protobuf'],
  ['grpc', 'protobuf'],
  ['http', 'json'],
];

interface ClientLog {
  sent: UniqueRequest[];
  acked: UniqueRequest[];
  /** Failures seen before the kill are bugs; after it they are expected. */
  failures: { atMs: number; error: string }[];
}

/** Everything sent so far; acknowledged rows must all be stored, and nothing else may be. */
class Ledger {
  readonly ackedSpans: string[] = [];
  readonly sentSpans: string[] = [];
  readonly ackedPatches: string[] = [];
  readonly sentPatches: string[] = [];

  add(log: ClientLog): void {
    for (const request of log.sent) {
      this.sentSpans.push(...request.spans);
      this.sentPatches.push(...request.patches);
    }
    for (const request of log.acked) {
      this.ackedSpans.push(...request.spans);
      this.ackedPatches.push(...request.patches);
    }
  }
}

export async function runCrashRounds(options: CrashRoundsOptions): Promise<RoundReport[]> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-crash-'));
  const requests = new UniqueRequests();
  const ledger = new Ledger();
  const reports: RoundReport[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ dataDir });
    const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
    for (let round = 1; round <= options.rounds; round++) {
      const started = performance.now();
      server ??= await startServerProcess({ dataDir });
      const [minMs, maxMs] = options.killWindowMs ?? [300, 1500];
      const killAfterMs = minMs + Math.random() * (maxMs - minMs);
      const logs = await exportUntilKilled(server, apiKey, requests, options.clients ?? 4, killAfterMs);
      for (const log of logs) ledger.add(log);

      server = await startServerProcess({ dataDir });
      await waitUntilIndexed(server);
      const restarted = server;
      server = undefined;
      const stopped = await restarted.stop('SIGTERM');
      if (stopped.code !== 0) throw new Error(`round ${round}: clean stop failed\n${restarted.output()}`);
      if (restarted.output().includes('dead-letter')) {
        throw new Error(`round ${round}: a WAL record was dead-lettered\n${restarted.output()}`);
      }
      const durability = await checkDurability(path.join(dataDir, 'duckdb/otel_data.duckdb'), ledger);
      const acked = logs.flatMap((log) => log.acked);
      const report: RoundReport = {
        round,
        killedAfterMs: Math.round(killAfterMs),
        requestsSent: logs.reduce((sum, log) => sum + log.sent.length, 0),
        requestsAcked: acked.length,
        spansAcked: acked.reduce((sum, request) => sum + request.spans.length, 0),
        totalSpansAcked: ledger.ackedSpans.length,
        durability,
        roundMs: Math.round(performance.now() - started),
      };
      reports.push(report);
      options.onRound?.(report);
      const problems = durabilityProblems(durability);
      if (problems.length > 0) throw new Error(`round ${round}: ${problems.join('; ')}`);
    }
    return reports;
  } finally {
    await server?.stop('SIGKILL');
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs the clients, SIGKILLs the server `killAfterMs` in (but not before the first ack). */
async function exportUntilKilled(
  server: ServerProcess,
  apiKey: string,
  requests: UniqueRequests,
  clients: number,
  killAfterMs: number,
): Promise<ClientLog[]> {
  let killed = false;
  let killedAtMs = Number.POSITIVE_INFINITY;
  const logs: ClientLog[] = [];
  const grpcClients: RawGrpcClient[] = [];
  const started = performance.now();
  const loops = Array.from({ length: clients }, (_, index) => {
    const [transport, format] = CLIENT_KINDS[index % CLIENT_KINDS.length]!;
    const log: ClientLog = { sent: [], acked: [], failures: [] };
    logs.push(log);
    let send: (request: UniqueRequest) => Promise<string | null>;
    if (transport === 'grpc') {
      const client = new RawGrpcClient(server.ports.otlpGrpc);
      grpcClients.push(client);
      send = async (request) => {
        const answer = await client.exportTraces(request.body, apiKey);
        return answer.code === grpc.status.OK ? null : `gRPC ${answer.code} ${answer.details}`;
      };
    } else {
      send = async (request) => {
        const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', request.body, {
          apiKey,
          contentType: format === 'json' ? 'application/json' : 'application/x-protobuf',
        });
        return answer.status === 200 ? null : `HTTP ${answer.status} ${answer.body.toString()}`;
      };
    }
    return (async () => {
      while (!killed) {
        const request = requests.next(format);
        log.sent.push(request);
        const error = await send(request).catch((caught: unknown) => String(caught));
        if (error !== null) {
          log.failures.push({ atMs: performance.now(), error });
          return;
        }
        log.acked.push(request);
      }
    })();
  });
  try {
    const anyAck = () => logs.some((log) => log.acked.length > 0);
    const anyFailure = () => logs.some((log) => log.failures.length > 0);
    await waitFor(() => anyAck() || anyFailure(), 'the first acknowledged export', 20_000);
    const waitMs = killAfterMs - (performance.now() - started);
    if (waitMs > 0) await sleep(waitMs);
    killed = true;
    killedAtMs = performance.now();
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(loops);
  } finally {
    killed = true;
    for (const client of grpcClients) client.close();
  }
  const early = logs.flatMap((log) => log.failures.filter((failure) => failure.atMs < killedAtMs));
  if (early.length > 0) {
    throw new Error(`exports failed before the kill: ${early.map((failure) => failure.error).join('; ')}`);
  }
  return logs;
}

async function waitUntilIndexed(server: ServerProcess): Promise<void> {
  await waitFor(
    async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
    'the poller to index the whole WAL',
    60_000,
  );
}

if (import.meta.main) {
  const rounds = Number(process.argv[2] ?? 100);
  const started = performance.now();
  // Our own directory, so that it is kept for inspection when a round fails.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-crash-'));
  await runCrashRounds({
    rounds,
    dataDir,
    onRound: (report) => {
      const { durability } = report;
      console.log(
        `round ${report.round}: killed after ${report.killedAfterMs} ms, ` +
          `${report.requestsAcked}/${report.requestsSent} requests acked (${report.spansAcked} spans), ` +
          `stored ${durability.storedSpans} spans / ${durability.storedPatches} patches ` +
          `for ${report.totalSpansAcked} acked spans, ${report.roundMs} ms`,
      );
    },
  }).catch((error: unknown) => {
    console.error(`${String(error)}\ndata directory kept: ${dataDir}`);
    process.exit(1);
  });
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`${rounds} rounds passed in ${Math.round((performance.now() - started) / 1000)} s`);
}
