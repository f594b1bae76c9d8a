import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from './support/ports.ts';
import { startServerProcess } from './support/server_process.ts';

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
  const result = spawnSync(process.execPath, ['src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH ?? '', JUNJO_HTTP_PORT: 'eighty' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /JUNJO_HTTP_PORT="eighty": expected a TCP port number 1-65535/);
});

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
