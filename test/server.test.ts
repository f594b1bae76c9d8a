import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../src/launch.ts';
import { RawGrpcClient } from './ingestion/otlp_clients.ts';
import { UniqueRequests } from './ingestion/unique_requests.ts';
import { createApiKey, signIn } from './support/accounts.ts';
import { health } from './support/health.ts';
import { freePort } from './support/ports.ts';
import { startServerProcess } from './support/server_process.ts';
import { indexedSpans, waitFor } from './support/wait.ts';

test('npm start serves /health and /ping and stops cleanly on SIGTERM', async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const health = await fetch(`${server.baseUrl}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' }, 'the public answer is liveness only');
  const ping = await fetch(`${server.baseUrl}/ping`);
  assert.equal(await ping.text(), 'pong');
  const secretFile = path.join(server.dataDir, 'session_secret');
  assert.ok(readFileSync(secretFile, 'utf8').length >= 32, 'a session secret is generated on first start');
  assert.equal(statSync(secretFile).mode & 0o077, 0, 'the secret file is private');
  const { code } = await server.stop('SIGTERM');
  assert.equal(code, 0);
  assert.match(server.output(), /stopped cleanly/);
  for (const line of server.output().trim().split('\n')) {
    assert.doesNotThrow(() => JSON.parse(line), `log line is structured JSON: ${line}`);
  }
});

test('the generated session secret survives a restart', async (t) => {
  const first = await startServerProcess();
  t.after(() => first.cleanup());
  await first.stop('SIGINT');
  const secret = readFileSync(path.join(first.dataDir, 'session_secret'), 'utf8');
  const second = await startServerProcess({ dataDir: first.dataDir });
  t.after(() => second.cleanup());
  assert.equal(readFileSync(path.join(first.dataDir, 'session_secret'), 'utf8'), secret);
});

test('an invalid setting stops start-up with a message naming the variable', () => {
  for (const [name, value, expected] of [
    ['JUNJO_HTTP_PORT', 'eighty', /JUNJO_HTTP_PORT="eighty": expected a TCP port number 1-65535/],
    ['JUNJO_DUCKDB_MEMORY_LIMIT', 'lots', /JUNJO_DUCKDB_MEMORY_LIMIT="lots": expected a size/],
    ['JUNJO_DUCKDB_THREADS', '-1', /JUNJO_DUCKDB_THREADS="-1": expected a positive integer/],
  ] as const) {
    const result = spawnSync(process.execPath, ['src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { PATH: process.env.PATH ?? '', [name]: value },
      encoding: 'utf8',
    });
    assert.equal(result.status, 2, name);
    assert.match(result.stderr, expected);
  }
});

test('/health/details shows the process RSS and DuckDB memory under the configured limit', async (t) => {
  const server = await startServerProcess({
    env: { JUNJO_DUCKDB_MEMORY_LIMIT: '150MiB', JUNJO_DUCKDB_THREADS: '1' },
  });
  t.after(() => server.cleanup());
  const details = await health(server.baseUrl);
  assert.ok(details.process.rss_bytes > details.process.heap_used_bytes, JSON.stringify(details.process));
  assert.ok(details.process.heap_used_bytes > 0);
  assert.equal(details.span_store?.memory_limit, '150.0 MiB', 'the server applied JUNJO_DUCKDB_MEMORY_LIMIT');
  assert.ok(Number.isInteger(details.span_store.memory_bytes) && details.span_store.memory_bytes >= 0);
  assert.deepEqual(
    Object.keys(details.span_store.upkeep?.reopens ?? {}),
    ['index_memory', 'failed_commit', 'fatal_error'],
    'the checkpoints and reopens so far, by reason',
  );
  assert.equal(details.span_store.upkeep?.reopens.index_memory.count, 0);
  const publicHealth = await fetch(`${server.baseUrl}/health`);
  assert.deepEqual(await publicHealth.json(), { status: 'ok' }, 'the public answer stays liveness only');
});

test('the launcher becomes the server process with the V8 flags, malloc settings and compile cache of README, Memory', async (t) => {
  const server = await startServerProcess({ env: { MALLOC_TRIM_THRESHOLD_: '1048576' } });
  t.after(() => server.cleanup());
  // The same pid now runs src/main.ts: the launcher replaced itself instead of starting a child.
  const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
  assert.ok(
    argv.some((arg) => arg.endsWith(path.join('src', 'main.ts'))),
    argv.join(' '),
  );
  for (const flag of SERVER_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
  const environ = readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0');
  for (const [name, value] of Object.entries(SERVER_ENV)) assert.ok(environ.includes(`${name}=${value}`));
  assert.ok(
    environ.includes('MALLOC_TRIM_THRESHOLD_=1048576'),
    "the operator's own malloc settings are kept",
  );
  assert.equal((await fetch(`${server.baseUrl}/ping`)).status, 200);
});

test('one process indexes an acknowledged export at once, without waiting for the poll interval, at a lower priority than its receivers', async (t) => {
  // An hour-long fallback interval: only the wake-up on append can index the export in time.
  const server = await startServerProcess({ env: { JUNJO_POLL_INTERVAL_MS: '3600000' } });
  t.after(() => server.cleanup());
  const { key } = await createApiKey(await signIn(server.baseUrl));
  const client = new RawGrpcClient(server.ports.otlpGrpc);
  t.after(() => client.close());
  // The poller found the WAL empty at start (before the REST API listened) and is in its idle wait.
  const request = new UniqueRequests().next('protobuf');
  assert.equal((await client.exportTraces(request.body, key)).code, grpc.status.OK);
  const indexed = await waitFor(
    async () => (await indexedSpans(server.baseUrl)) >= request.spans.length,
    'the export to be indexed',
    120_000,
  );
  assert.ok(indexed);
  // Having indexed, the main thread, libuv's pool (DuckDB's statements) and V8's helper threads
  // still run at the lower priority they took once the ingestion thread had started, and the
  // ingestion thread at the process's own (indexing_priority.ts).
  const niceness = threadNiceness(server.child.pid!);
  const pool = niceness.get('libuv-worker') ?? [];
  const helpers = niceness.get('V8Worker') ?? [];
  assert.ok(pool.length >= 4 && helpers.length >= 1, JSON.stringify([...niceness]));
  assert.deepEqual(
    {
      main: niceness.get('MainThread'),
      pool: [...new Set(pool)],
      helpers: [...new Set(helpers)],
      ingestion: niceness.get('WorkerThread'),
    },
    { main: [10], pool: [10], helpers: [10], ingestion: [0] },
  );
});

/** Thread name → the nice values of the process's threads of that name (Linux /proc). */
function threadNiceness(pid: number): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Field 19 (nice) is the 17th after the parenthesised name.
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    byName.set(name, [...(byName.get(name) ?? []), nice]);
  }
  return byName;
}

test('an unreachable ClickHouse stops start-up with one line saying so, and no stack trace', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-server-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const nobody = await freePort();
  const result = spawnSync(process.execPath, ['src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      JUNJO_DATA_DIR: dataDir,
      JUNJO_HTTP_PORT: String(await freePort()),
      JUNJO_OTLP_GRPC_PORT: String(await freePort()),
      JUNJO_OTLP_HTTP_PORT: String(await freePort()),
      JUNJO_SPAN_STORE: 'clickhouse',
      JUNJO_CLICKHOUSE_URL: `http://127.0.0.1:${nobody}`,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 1, result.stderr + result.stdout);
  assert.match(
    result.stderr,
    new RegExp(
      `^junjo-server: cannot start: ClickHouse at 127\\.0\\.0\\.1:${nobody} is unreachable \\(check JUNJO_CLICKHOUSE_URL`,
      'm',
    ),
  );
  assert.doesNotMatch(result.stderr + result.stdout, /^\s+at /m, 'no stack trace');
});
