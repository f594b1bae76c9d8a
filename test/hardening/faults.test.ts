// Faults through the real server process:
// - disk full under the WAL (a small tmpfs): exports are refused as retryable (HTTP 503 +
//   Retry-After, gRPC UNAVAILABLE + RetryInfo) and, once space returns, accepted again; every export
//   that was finally acknowledged is stored exactly once;
// - disk full under DuckDB: exports are still acknowledged (the WAL has room), the poller waits
//   the full disk out instead of dead-lettering, and indexes everything once space returns;
// - the DuckDB or SQLite file held by another process at start: exit code 1 and a message naming
//   the file and the lock;
// - slow and stuck clients (slowloris heads, slow bodies, a connection flood) on :1323 and :4318
//   are cut off by the timeouts and the connection cap while legitimate requests keep succeeding.
// The disk tests mount tmpfs, so they need root (CI runs as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { MAX_CONNECTIONS } from '../../src/http/connection_limits.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from '../ingestion/durability_check.ts';
import { grpcRetryDelaySeconds, postOtlp, RawGrpcClient } from '../ingestion/otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from '../ingestion/unique_requests.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { openFileDescriptors } from './process_stats.ts';
import { openSlowClient, openSlowClients, type SlowClient, waitUntilClosed } from './slow_clients.ts';

const requests = new UniqueRequests();

/** A fresh directory with an 8 MiB tmpfs mounted on it; `release` unmounts and removes it. */
function smallFilesystem(): { dir: string; release: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the disk-full tests mount a tmpfs and must run as root: ${String(error)}`);
  }
  return {
    dir,
    release: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem of `dir` until `leaveBytes` are free; returns the filler's path. */
function fill(dir: string, leaveBytes: number): string {
  const stats = statfsSync(dir);
  const filler = path.join(dir, 'filler');
  writeFileSync(filler, Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - leaveBytes)));
  return filler;
}

type Outcome = { acked: true } | { acked: false; status: string; retryAfterSeconds: number | null };

async function exportOnce(
  server: ServerProcess,
  grpcClient: RawGrpcClient,
  apiKey: string,
  request: UniqueRequest,
  transport: 'grpc' | 'http',
): Promise<Outcome> {
  // Generous deadlines: beside the other fault tests on a loaded machine a 10 s gRPC deadline ran
  // out (DEADLINE_EXCEEDED instead of the UNAVAILABLE being checked). A hung server still fails.
  if (transport === 'grpc') {
    const answer = await grpcClient.exportTraces(request.body, apiKey, 60_000);
    if (answer.code === grpc.status.OK) return { acked: true };
    return {
      acked: false,
      status: `grpc ${grpc.status[answer.code]}`,
      retryAfterSeconds: grpcRetryDelaySeconds(answer.metadata),
    };
  }
  const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', request.body, {
    apiKey,
    contentType: 'application/x-protobuf',
    timeoutMs: 60_000,
  });
  if (answer.status === 200) return { acked: true };
  const retryAfter = answer.headers.get('retry-after');
  return {
    acked: false,
    status: `http ${answer.status}`,
    retryAfterSeconds: retryAfter === null ? null : Number(retryAfter),
  };
}

/** Stops the server cleanly and checks DuckDB holds every acknowledged request exactly once. */
async function assertStoredExactlyOnce(
  server: ServerProcess,
  acked: UniqueRequest[],
  duckdbFile = path.join(server.dataDir, 'duckdb/otel_data.duckdb'),
): Promise<void> {
  await waitFor(
    async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
    'the poller to index everything',
    120_000,
  );
  assert.equal((await health(server.baseUrl)).poller?.dead_lettered, 0, 'nothing was dead-lettered');
  assert.equal((await server.stop('SIGTERM')).code, 0);
  const spans = acked.flatMap((request) => request.spans);
  const report = await checkDurability(duckdbFile, allAcknowledged(acked));
  assert.deepEqual(durabilityProblems(report), []);
  assert.equal(report.storedSpans, spans.length);
}

describe('faults', { concurrency: true }, () => {
  test('disk full under the WAL: retryable refusals, then full recovery once space returns', async () => {
    const fs = smallFilesystem();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-disk-full-'));
    let server: ServerProcess | undefined;
    const grpcClients: RawGrpcClient[] = [];
    try {
      // The free-disk floor would refuse before the disk is full; the point here is a real ENOSPC.
      server = await startServerProcess({
        dataDir,
        env: { JUNJO_WAL_DIR: path.join(fs.dir, 'wal'), JUNJO_MIN_FREE_DISK_BYTES: '0' },
      });
      const grpcClient = new RawGrpcClient(server.ports.otlpGrpc);
      grpcClients.push(grpcClient);
      const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
      const filler = fill(fs.dir, 1_000_000);

      const acked: UniqueRequest[] = [];
      const refused: { request: UniqueRequest; transport: 'grpc' | 'http' }[] = [];
      for (let i = 0; i < 60 && refused.length < 6; i++) {
        const transport = i % 2 === 0 ? 'grpc' : 'http';
        const request = requests.next('protobuf');
        const outcome = await exportOnce(server, grpcClient, apiKey, request, transport);
        if (outcome.acked) {
          acked.push(request);
          continue;
        }
        refused.push({ request, transport });
        assert.equal(outcome.status, transport === 'grpc' ? 'grpc UNAVAILABLE' : 'http 503');
        assert.ok((outcome.retryAfterSeconds ?? 0) >= 1, `${outcome.status} carries a retry hint`);
      }
      assert.ok(acked.length > 0, 'exports were acknowledged while there was room');
      assert.ok(refused.length >= 6, 'a full disk refuses exports');
      const facts = await health(server.baseUrl);
      assert.equal(facts.status, 'ok');
      assert.ok(facts.ingestion!.refused_write_failed >= refused.length);

      rmSync(filler);
      for (const { request, transport } of refused) {
        assert.deepEqual(await exportOnce(server, grpcClient, apiKey, request, transport), { acked: true });
        acked.push(request);
      }
      for (const transport of ['grpc', 'http'] as const) {
        const request = requests.next('protobuf');
        assert.deepEqual(await exportOnce(server, grpcClient, apiKey, request, transport), { acked: true });
        acked.push(request);
      }
      await assertStoredExactlyOnce(server, acked);
    } finally {
      for (const client of grpcClients) client.close();
      await server?.cleanup();
      fs.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('disk full under DuckDB: exports still acknowledged, the poller waits and then indexes everything', async () => {
    const fs = smallFilesystem();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-disk-full-'));
    let server: ServerProcess | undefined;
    let grpcClient: RawGrpcClient | undefined;
    try {
      const duckdbFile = path.join(fs.dir, 'otel_data.duckdb');
      server = await startServerProcess({ dataDir, env: { JUNJO_DUCKDB_PATH: duckdbFile } });
      grpcClient = new RawGrpcClient(server.ports.otlpGrpc);
      const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
      const filler = fill(fs.dir, 200_000);
      const acked: UniqueRequest[] = [];
      for (let i = 0; i < 16; i++) {
        const request = requests.next('protobuf');
        const outcome = await exportOnce(server, grpcClient, apiKey, request, i % 2 === 0 ? 'grpc' : 'http');
        assert.deepEqual(outcome, { acked: true }, 'the WAL is on another disk');
        acked.push(request);
      }
      const stalled = await waitFor(
        async () => {
          const facts = await health(server!.baseUrl);
          return (facts.poller as { failures?: number } | undefined)?.failures ?? 0;
        },
        'the poller to meet the full disk',
        60_000,
      );
      assert.ok(stalled >= 1);
      assert.ok((await health(server.baseUrl)).ingestion!.backlog_bytes > 0, 'the backlog waits');
      await server.waitForOutput(/span store unavailable; retrying/);

      rmSync(filler);
      await assertStoredExactlyOnce(server, acked, duckdbFile);
      assert.doesNotMatch(server.output(), /dead-letter/);
    } finally {
      grpcClient?.close();
      await server?.cleanup();
      fs.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the DuckDB or SQLite file held by another process at start: a message naming it and exit code 1', async () => {
    const first = await startServerProcess();
    try {
      const second = await startServerProcess({ dataDir: first.dataDir }).then(
        () => assert.fail('a second server on the same data directory started'),
        (error: Error) => error.message,
      );
      assert.match(second, /server exited \(code 1, signal null\) before starting/);
      assert.match(
        second,
        new RegExp(
          `DuckDB file ${path.join(first.dataDir, 'duckdb/otel_data.duckdb')} is locked by another process`,
        ),
      );
      assert.equal((await first.stop('SIGTERM')).code, 0);

      const holder = new DatabaseSync(path.join(first.dataDir, 'sqlite/junjo.db'));
      try {
        holder.exec('BEGIN EXCLUSIVE');
        const third = await startServerProcess({ dataDir: first.dataDir }).then(
          () => assert.fail('a server started while another process held SQLite'),
          (error: Error) => error.message,
        );
        assert.match(third, /server exited \(code 1, signal null\) before starting/);
        assert.match(
          third,
          new RegExp(
            `SQLite file ${path.join(first.dataDir, 'sqlite/junjo.db')} is locked by another process`,
          ),
        );
      } finally {
        holder.close();
      }
      const fourth = await startServerProcess({ dataDir: first.dataDir });
      assert.equal((await fourth.stop('SIGTERM')).code, 0, 'it starts once the lock is gone');
    } finally {
      await first.cleanup();
    }
  });

  test('slow heads and bodies are cut off by the timeouts while legitimate requests succeed', async () => {
    const server = await startServerProcess();
    const clients: SlowClient[] = [];
    try {
      const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
      const { http: rest, otlpHttp: otlp } = server.ports;
      const slowHeads = [
        ...openSlowClients(100, () => openSlowClient(rest, 'head', '/sign-in')),
        ...openSlowClients(100, () => openSlowClient(otlp, 'head', '/v1/traces')),
      ];
      const restSlowBodies = openSlowClients(30, () => openSlowClient(rest, 'body', '/sign-in'));
      const otlpSlowBodies = openSlowClients(30, () => openSlowClient(otlp, 'body', '/v1/traces'));
      clients.push(...slowHeads, ...restSlowBodies, ...otlpSlowBodies);

      // Meanwhile both listeners answer (the clients give up after 10 s, far beyond a normal answer
      // on any machine, but short of the slow clients' timeouts).
      for (let i = 0; i < 10; i++) {
        const rested = await fetch(`${server.baseUrl}/health`, { signal: AbortSignal.timeout(10_000) });
        assert.equal(rested.status, 200);
        const answer = await postOtlp(otlp, '/v1/traces', requests.next('protobuf').body, {
          apiKey,
          contentType: 'application/x-protobuf',
        });
        assert.equal(answer.status, 200);
      }

      // The headers timeout (10 s) cuts the slow heads off while every slow REST body (cut by the
      // 30 s request timeout) is still open: their order, not the clock, shows which timeout acted.
      await waitUntilClosed(slowHeads, 60_000);
      for (const client of slowHeads) {
        assert.ok(client.closedAfterMs !== null, 'a slow head is cut off');
        assert.match(
          client.answer,
          /^HTTP\/1\.1 408/,
          `answer of a slow head (socket error: ${client.error})`,
        );
      }
      assert.ok(
        restSlowBodies.every((client) => client.closedAfterMs === null),
        'the slow heads were cut off by the headers timeout, before the request timeout',
      );
      // REST: the whole request within 30 s; OTLP allows a slow uplink 120 s (not waited for here).
      await waitUntilClosed(restSlowBodies, 90_000);
      assert.ok(
        restSlowBodies.every((client) => client.closedAfterMs !== null),
        'every slow REST body is cut off',
      );
      assert.ok(
        otlpSlowBodies.every((client) => client.closedAfterMs === null),
        'slow OTLP bodies get their two minutes',
      );
      assert.equal((await fetch(`${server.baseUrl}/health`)).status, 200);
    } finally {
      for (const client of clients) client.destroy();
      await server.cleanup();
    }
  });

  test('a flood of connections is capped per listener, and the server is usable again once it is cut off', async () => {
    const server = await startServerProcess();
    const pid = server.child.pid!;
    const clients: SlowClient[] = [];
    try {
      const baseline = openFileDescriptors(pid)!;
      const flood = MAX_CONNECTIONS + 100;
      const restFlood = openSlowClients(flood, () =>
        openSlowClient(server.ports.http, 'head', '/health', 1000),
      );
      const otlpFlood = openSlowClients(flood, () =>
        openSlowClient(server.ports.otlpHttp, 'head', '/v1/traces', 1000),
      );
      clients.push(...restFlood, ...otlpFlood);
      // Beyond the cap a listener closes a connection the moment it accepts it, without a byte of
      // answer (the timeouts answer 408). When that moment comes depends on the machine's load, and
      // connects beyond the listen backlog are retried by the kernel after 1 s, 3 s…: wait for it
      // instead of counting after a fixed pause (which saw 0 refusals on a busy machine).
      const refusedByCap = (sockets: SlowClient[]) =>
        sockets.filter((client) => client.closedAfterMs !== null && client.answer === '').length;
      for (const [name, sockets] of [
        ['REST', restFlood],
        ['OTLP/HTTP', otlpFlood],
      ] as const) {
        await waitFor(
          () => refusedByCap(sockets) >= flood - MAX_CONNECTIONS,
          `${name}: the connections beyond the cap to be closed unanswered`,
          60_000,
        );
      }
      const descriptors = openFileDescriptors(pid)!;
      assert.ok(
        descriptors <= baseline + 2 * MAX_CONNECTIONS + 20,
        `open descriptors stay bounded: ${baseline} → ${descriptors}`,
      );
      await waitUntilClosed(clients, 60_000);
      assert.ok(
        clients.every((client) => client.closedAfterMs !== null),
        'every flooding socket is cut off',
      );
      assert.equal((await fetch(`${server.baseUrl}/health`)).status, 200);
      assert.equal(server.child.exitCode, null);
    } finally {
      for (const client of clients) client.destroy();
      await server.cleanup();
    }
  });
});
