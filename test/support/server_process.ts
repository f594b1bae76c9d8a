// Runs the real server (src/launch.ts → src/main.ts) in a child process with its own data directory and ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface ServerProcess {
  child: ChildProcess;
  dataDir: string;
  ports: { http: number; otlpGrpc: number; otlpHttp: number; readSpans: number; internalAuth: number };
  baseUrl: string;
  output: () => string;
  /**
   * Resolves once the output matches `pattern`. A log line reaches this process through a pipe, a
   * little after the response of the request that caused it: assert on it through this, not output().
   */
  waitForOutput(pattern: RegExp): Promise<void>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cleanup(): Promise<void>;
}

/** The server's "poller batch failed" log lines: batches it could not store and tries again. */
export function failedPollerBatches(server: ServerProcess): string[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.includes('poller batch failed'));
}

const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Every test process gets this JUNJO_INTERNAL_SECRET, so two split-mode roles trust each other. */
export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789abcdef';

/**
 * The span stores the end-to-end tests run against, each in turn. ClickHouse runs in the server's
 * own process through chdb (JUNJO_CLICKHOUSE_URL=chdb://…, a directory under the data dir).
 */
export const SPAN_STORES = ['duckdb', 'clickhouse'] as const;
export type SpanStoreKind = (typeof SPAN_STORES)[number];

type StartOptions = {
  env?: Record<string, string>;
  /** JUNJO_SPAN_STORE; DuckDB unless given. */
  spanStore?: SpanStoreKind;
  dataDir?: string;
  waitFor?: string;
  /** Ports to use instead of fresh ones (split mode: each role must know the other's port). */
  ports?: Partial<ServerProcess['ports']>;
  /** Node/V8 options before the script (e.g. heap sizes to compare). */
  nodeArgs?: string[];
};

/** Start attempts when a port this helper drew was taken by another process before the server bound it. */
const PORT_RACE_ATTEMPTS = 3;

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // freePort's ports are reserved against other test files, but it checks a port is free and
      // lets it go: any other program can bind it before the server does. Only ports drawn here
      // are drawn again.
      const raced = String(error).includes('EADDRINUSE') && options.ports === undefined;
      if (!raced || attempt === PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

async function startOnce(options: StartOptions): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'junjo-server-'));
  const given = options.ports ?? {};
  const ports = {
    http: given.http ?? (await freePort()),
    otlpGrpc: given.otlpGrpc ?? (await freePort()),
    otlpHttp: given.otlpHttp ?? (await freePort()),
    readSpans: given.readSpans ?? (await freePort()),
    internalAuth: given.internalAuth ?? (await freePort()),
  };
  // Through the launcher, as `npm start` runs it: the V8 flags and malloc settings of the README, Memory.
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(repoRoot, 'src/launch.ts')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      JUNJO_DATA_DIR: dataDir,
      JUNJO_HOST: '127.0.0.1',
      JUNJO_HTTP_PORT: String(ports.http),
      JUNJO_OTLP_GRPC_PORT: String(ports.otlpGrpc),
      JUNJO_OTLP_HTTP_PORT: String(ports.otlpHttp),
      JUNJO_READ_SPANS_PORT: String(ports.readSpans),
      JUNJO_INTERNAL_AUTH_PORT: String(ports.internalAuth),
      JUNJO_INGESTION_ADDRESS: `127.0.0.1:${ports.readSpans}`,
      JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${ports.internalAuth}`,
      JUNJO_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...(options.spanStore === 'clickhouse'
        ? { JUNJO_SPAN_STORE: 'clickhouse', JUNJO_CLICKHOUSE_URL: `chdb://${path.join(dataDir, 'chdb')}` }
        : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const startedLine = options.waitFor ?? 'junjo-server started';
  // Generous: on a loaded 2-core machine a start (DuckDB, SQLite, the ingestion worker) took over 30 s.
  const startTimeoutMs = 120_000;
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in ${startTimeoutMs / 1000} s:\n${output}`)),
      startTimeoutMs,
    );
    const check = () => {
      if (output.includes(startedLine)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (output.includes(startedLine)) resolve();
      else reject(new Error(`server exited (code ${code}, signal ${signal}) before starting:\n${output}`));
    });
  });
  const cleanup = async () => {
    await stop('SIGKILL');
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  // A server that never said it started must not outlive the test (it kept the test file running).
  await started.catch(async (error: unknown) => {
    await cleanup();
    throw error;
  });
  return {
    child,
    dataDir,
    ports,
    baseUrl: `http://127.0.0.1:${ports.http}`,
    output: () => output,
    waitForOutput: async (pattern) => {
      await waitFor(() => pattern.test(output), `server output matching ${pattern}`);
    },
    exited,
    stop,
    cleanup,
  };
}
