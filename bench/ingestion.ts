// Ingestion benchmark: N concurrent OTLP/gRPC clients send realistic 512-span requests of the Junjo
// workflow mix to the real server (child process). Prints acknowledged spans/s, ack latency,
// indexed spans/s, ack-to-queryable lag, peak RSS, and the same load against a baseline receiver
// that only decodes and acknowledges. Deployments: one process, or split into N ingestion nodes and
// one backend (one poller per node), the clients spread over the nodes. The load average is printed
// beside the figures: on a shared machine they are only comparable at a similar load.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { packRequests, workflowMix } from '../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../src/otlp/encode.ts';
import { createApiKey, signIn } from '../test/support/accounts.ts';
import { freePort } from '../test/support/ports.ts';
import { type ServerProcess, startServerProcess } from '../test/support/server_process.ts';
import { indexedSpans } from '../test/support/wait.ts';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface LoadResult {
  spans: number;
  seconds: number;
  ackLatenciesMs: number[];
  /** [time ms since start, cumulative acknowledged spans] per acknowledgement. */
  acks: Array<[number, number]>;
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Pre-encodes unique requests so the load generator spends its CPU sending, not building. */
function buildRequests(totalSpans: number, seed: number): Array<{ bytes: Buffer; spans: number }> {
  const spans = workflowMix({ traces: Math.ceil(totalSpans / 14), services: 5, seed });
  return packRequests(spans.slice(0, totalSpans), 512).map((request) => ({
    bytes: Buffer.from(encodeTraceRequestProtobuf(request)),
    spans: request.resourceSpans.reduce(
      (sum, rs) => sum + rs.scopeSpans.reduce((inner, ss) => inner + ss.spans.length, 0),
      0,
    ),
  }));
}

async function runLoad(
  addresses: string[],
  apiKey: string,
  clients: number,
  requests: Array<{ bytes: Buffer; spans: number }>,
): Promise<LoadResult> {
  const result: LoadResult = { spans: 0, seconds: 0, ackLatenciesMs: [], acks: [] };
  let next = 0;
  const start = performance.now();
  const metadata = new grpc.Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  const worker = async (index: number) => {
    const client = new grpc.Client(addresses[index % addresses.length]!, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
    });
    while (next < requests.length) {
      const request = requests[next++]!;
      const sent = performance.now();
      for (;;) {
        const error = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest(
            EXPORT_PATH,
            (value: Buffer) => value,
            (bytes: Buffer) => bytes,
            request.bytes,
            metadata,
            (err) => resolve(err),
          ),
        );
        if (!error) break;
        if (error.code !== grpc.status.RESOURCE_EXHAUSTED && error.code !== grpc.status.UNAVAILABLE)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const now = performance.now();
      result.ackLatenciesMs.push(now - sent);
      result.spans += request.spans;
      result.acks.push([now - start, result.spans]);
    }
    client.close();
  };
  await Promise.all(Array.from({ length: clients }, (_, index) => worker(index)));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

async function baseline(clients: number, requests: Array<{ bytes: Buffer; spans: number }>): Promise<number> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'baseline_receiver.ts'), String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  try {
    const load = await runLoad([`127.0.0.1:${port}`], 'none', clients, requests);
    return load.spans / load.seconds;
  } finally {
    child.kill('SIGTERM');
  }
}

export async function benchIngestion(
  /** ingestionNodes: 0 (default) runs one process; N ≥ 1 runs N ingestion nodes and a backend. */
  options: { spans?: number; clients?: number; ingestionNodes?: number } = {},
): Promise<Record<string, number>> {
  const totalSpans = options.spans ?? 200_000;
  const clients = options.clients ?? 8;
  const ingestionNodes = options.ingestionNodes ?? 0;
  process.stdout.write(`ingestion: building ${totalSpans} spans of the Junjo mix in 512-span requests…\n`);
  const requests = buildRequests(totalSpans, 7);
  const baselineSpansPerSecond = await baseline(clients, requests);

  const loadAvgBefore = os.loadavg()[0]!;
  const deployment = await startDeployment(ingestionNodes);
  const server = deployment.backend;
  try {
    const session = await signIn(server.baseUrl);
    const { key } = await createApiKey(session);
    // Sample the poller's progress to time when acknowledged spans become queryable.
    const indexedSamples: Array<[number, number]> = [];
    const start = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        indexedSamples.push([performance.now() - start, await indexedSpans(server.baseUrl)]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const load = await runLoad(
      deployment.ingestion.map((node) => `127.0.0.1:${node.ports.otlpGrpc}`),
      key,
      clients,
      requests,
    );
    while ((indexedSamples.at(-1)?.[1] ?? 0) < load.spans)
      await new Promise((resolve) => setTimeout(resolve, 20));
    sampling = false;
    await sampler;
    const indexedSeconds = indexedSamples.find(([, indexed]) => indexed >= load.spans)![0] / 1000;
    const lags = load.acks
      .filter((_, i) => i % 5 === 0)
      .map(([ackedAt, cumulative]) => {
        const sample = indexedSamples.find(([, indexed]) => indexed >= cumulative);
        return sample ? Math.max(0, sample[0] - ackedAt) : Number.NaN;
      });
    const peakRssMb = deployment.processes().reduce((sum, child) => {
      const status = readFileSync(`/proc/${child.child.pid}/status`, 'utf8');
      return sum + Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    }, 0);
    const acked = load.spans / load.seconds;
    const results = {
      clients,
      split_mode: ingestionNodes > 0 ? 1 : 0,
      ingestion_nodes: ingestionNodes,
      spans: load.spans,
      acknowledged_spans_per_s: Math.round(acked),
      ack_p50_ms: round(percentile(load.ackLatenciesMs, 50)),
      ack_p99_ms: round(percentile(load.ackLatenciesMs, 99)),
      indexed_spans_per_s: Math.round(load.spans / indexedSeconds),
      ack_to_queryable_p50_ms: round(percentile(lags, 50)),
      ack_to_queryable_p99_ms: round(percentile(lags, 99)),
      server_peak_rss_mb: round(peakRssMb),
      baseline_spans_per_s: Math.round(baselineSpansPerSecond),
      ratio_to_baseline: round(acked / baselineSpansPerSecond, 2),
      load_avg_1m_before: round(loadAvgBefore, 2),
      load_avg_1m_after: round(os.loadavg()[0]!, 2),
      cpus: os.availableParallelism(),
    };
    console.table(results);
    return results;
  } finally {
    await deployment.stop();
  }
}

/** One process (0 nodes), or N ingestion nodes and one backend reading them all (split mode). */
async function startDeployment(ingestionNodes: number) {
  const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const env: Record<string, string> = nodeOptions ? { NODE_OPTIONS: nodeOptions } : {};
  const stopAll = async (children: ServerProcess[]) => {
    for (const child of children) {
      await child.stop('SIGTERM');
      await child.cleanup();
    }
  };
  if (ingestionNodes === 0) {
    const server = await startServerProcess({ env });
    return { backend: server, ingestion: [server], processes: () => [server], stop: () => stopAll([server]) };
  }
  const internalAuth = await freePort();
  const ingestion: ServerProcess[] = [];
  for (let index = 0; index < ingestionNodes; index++) {
    ingestion.push(
      await startServerProcess({
        env: { ...env, JUNJO_ROLE: 'ingestion', JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${internalAuth}` },
      }),
    );
  }
  const backend = await startServerProcess({
    ports: { internalAuth },
    env: {
      ...env,
      JUNJO_ROLE: 'backend',
      JUNJO_INGESTION_ADDRESS: ingestion.map((node) => `127.0.0.1:${node.ports.readSpans}`).join(','),
    },
  });
  return {
    backend,
    ingestion,
    processes: () => [...ingestion, backend],
    stop: () => stopAll([...ingestion, backend]),
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : undefined;
  };
  await benchIngestion({
    spans: arg('spans'),
    clients: arg('clients'),
    // --split: one ingestion node and a backend; --nodes N: N ingestion nodes and a backend.
    ingestionNodes: arg('nodes') ?? (process.argv.includes('--split') ? 1 : 0),
  });
}
