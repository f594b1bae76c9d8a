// Backpressure and limits through the real server: a tiny backlog limit makes concurrent exports
// refused as retryable (gRPC RESOURCE_EXHAUSTED + RetryInfo, HTTP 429 + Retry-After) and every
// export that is retried arrives exactly once; oversized requests get a clear RESOURCE_EXHAUSTED /
// 413 on both receivers; a free-disk floor answers UNAVAILABLE / 503 + Retry-After. Every refusal
// shows up in the /health counters.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { decodeTraceRequest } from '../../src/otlp/decode.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from './durability_check.ts';
import { decodeRpcStatus, grpcRetryDelaySeconds, postOtlp, RawGrpcClient } from './otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from './unique_requests.ts';

const requests = new UniqueRequests();

async function startWithKey(env: Record<string, string>): Promise<{ server: ServerProcess; apiKey: string }> {
  const server = await startServerProcess({ env });
  const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
  return { server, apiKey };
}

interface Refusal {
  transport: 'grpc' | 'http';
  status: string;
  retryAfterSeconds: number | null;
}

describe('a tiny backlog limit', () => {
  let server: ServerProcess;
  let apiKey: string;
  before(async () => {
    // About two requests' worth: a few concurrent exports pass, the rest wait for the poller.
    ({ server, apiKey } = await startWithKey({ JUNJO_MAX_BACKLOG_BYTES: '300000' }));
  });
  after(() => server.cleanup());

  /** Sends one request until it is acknowledged, waiting as long as each refusal asks. */
  async function sendWithRetry(
    transport: 'grpc' | 'http',
    request: UniqueRequest,
    refusals: Refusal[],
  ): Promise<void> {
    const client = transport === 'grpc' ? new RawGrpcClient(server.ports.otlpGrpc) : null;
    try {
      for (let attempt = 1; attempt <= 20; attempt++) {
        let refusal: Refusal;
        if (client) {
          const answer = await client.exportTraces(request.body, apiKey);
          if (answer.code === grpc.status.OK) return;
          refusal = {
            transport,
            status: grpc.status[answer.code],
            retryAfterSeconds: grpcRetryDelaySeconds(answer.metadata),
          };
        } else {
          const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', request.body, {
            apiKey,
            contentType: 'application/x-protobuf',
          });
          if (answer.status === 200) return;
          const retryAfter = answer.headers.get('retry-after');
          refusal = {
            transport,
            status: String(answer.status),
            retryAfterSeconds: retryAfter === null ? null : Number(retryAfter),
          };
        }
        refusals.push(refusal);
        assert.ok(refusal.retryAfterSeconds !== null && refusal.retryAfterSeconds > 0, 'a retry hint');
        await sleep(refusal.retryAfterSeconds * 1000 + Math.random() * 1000);
      }
      assert.fail(`${transport} export still refused after 20 attempts`);
    } finally {
      client?.close();
    }
  }

  test('refuses concurrent exports as retryable, and everything retried arrives exactly once', async () => {
    const refusals: Refusal[] = [];
    const raw = Array.from({ length: 8 }, (_, index) => ({
      transport: index % 2 === 0 ? ('grpc' as const) : ('http' as const),
      requests: [requests.next('protobuf')],
    }));
    // The stock exporter retries 429s by itself, honouring Retry-After.
    const stock = [requests.next('protobuf'), requests.next('protobuf')];
    const stockResults = stock.map(async (request) => {
      const exporter = new ProtoExporter({
        url: `http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`,
        headers: { 'x-junjo-api-key': apiKey },
        timeoutMillis: 30_000,
      });
      const spans = toReadableSpans(decodeTraceRequest(request.body, 'protobuf'));
      const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
        exporter.export(spans, resolve),
      );
      await exporter.shutdown();
      return result;
    });
    await Promise.all(
      raw.map(async (client) => {
        for (const request of client.requests) await sendWithRetry(client.transport, request, refusals);
      }),
    );
    for (const result of await Promise.all(stockResults)) {
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    }

    const grpcRefusals = refusals.filter((refusal) => refusal.transport === 'grpc');
    const httpRefusals = refusals.filter((refusal) => refusal.transport === 'http');
    assert.ok(grpcRefusals.length > 0, 'some gRPC exports were refused');
    assert.ok(httpRefusals.length > 0, 'some HTTP exports were refused');
    assert.ok(grpcRefusals.every((refusal) => refusal.status === 'RESOURCE_EXHAUSTED'));
    assert.ok(httpRefusals.every((refusal) => refusal.status === '429'));

    await waitFor(
      async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
      'the poller to catch up',
    );
    const counters = (await health(server.baseUrl)).ingestion!;
    assert.ok(counters.refused_backpressure >= refusals.length, 'every refusal is counted');
    assert.equal((await server.stop('SIGTERM')).code, 0);
    assert.match(
      server.output(),
      /export refused.*Ingestion backlog is full|Ingestion backlog is full.*export refused/,
    );

    const all = [...raw.flatMap((client) => client.requests), ...stock];
    const spans = all.flatMap((request) => request.spans);
    const report = await checkDurability(
      path.join(server.dataDir, 'duckdb/otel_data.duckdb'),
      allAcknowledged(all),
    );
    assert.deepEqual(durabilityProblems(report), []);
    assert.equal(report.storedSpans, spans.length);
  });
});

describe('the request size limit', () => {
  const LIMIT = 64 * 1024;
  let server: ServerProcess;
  let apiKey: string;
  before(async () => {
    ({ server, apiKey } = await startWithKey({ JUNJO_MAX_REQUEST_BYTES: String(LIMIT) }));
  });
  after(() => server.cleanup());

  const oversized = () => {
    for (;;) {
      const request = requests.next('protobuf');
      if (request.body.length > LIMIT * 1.5) return request;
    }
  };
  const small = () => {
    for (;;) {
      const request = requests.next('protobuf');
      if (request.body.length < LIMIT) return request;
    }
  };

  test('gRPC answers RESOURCE_EXHAUSTED naming the limit; a request under it is accepted', async () => {
    const client = new RawGrpcClient(server.ports.otlpGrpc);
    try {
      const refused = await client.exportTraces(oversized().body, apiKey);
      assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, new RegExp(String(LIMIT)));
      assert.equal((await client.exportTraces(small().body, apiKey)).code, grpc.status.OK);
    } finally {
      client.close();
    }
  });

  test('OTLP/HTTP answers 413 with a Status body in the request encoding, gzip measured decoded', async () => {
    const protobuf = await postOtlp(server.ports.otlpHttp, '/v1/traces', oversized().body, {
      apiKey,
      contentType: 'application/x-protobuf',
    });
    assert.equal(protobuf.status, 413);
    assert.equal(protobuf.headers.get('content-type'), 'application/x-protobuf');
    const status = decodeRpcStatus(protobuf.body);
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(status.message, new RegExp(`${LIMIT} bytes`));

    const json = requests.next('json');
    assert.ok(json.body.length > LIMIT);
    const refusedJson = await postOtlp(server.ports.otlpHttp, '/v1/traces', json.body, {
      apiKey,
      contentType: 'application/json',
    });
    assert.equal(refusedJson.status, 413);
    assert.match(JSON.parse(refusedJson.body.toString()).message, new RegExp(`${LIMIT} bytes`));

    // Compressed it fits, decompressed it does not: the limit is about what the server must hold.
    const zipped = await postOtlp(server.ports.otlpHttp, '/v1/traces', json.body, {
      apiKey,
      contentType: 'application/json',
      gzip: true,
    });
    assert.equal(zipped.status, 413);

    const accepted = await postOtlp(server.ports.otlpHttp, '/v1/traces', small().body, {
      apiKey,
      contentType: 'application/x-protobuf',
    });
    assert.equal(accepted.status, 200);
  });

  // gRPC refuses an oversized message inside grpc-js, before any handler runs, so only the client
  // sees it (with the clear message above); the three HTTP refusals are counted and logged.
  test('every oversized OTLP/HTTP request is counted and logged', async () => {
    const counters = (await health(server.baseUrl)).ingestion!;
    assert.equal(counters.refused_too_large, 3);
    assert.equal(counters.accepted_requests, 2);
    await server.waitForOutput(/("reason":"request too large"[\s\S]*){3}/);
    assert.equal(server.output().match(/"reason":"request too large"/g)?.length, 3, server.output());
  });
});

describe('the free-disk floor', () => {
  let server: ServerProcess;
  let apiKey: string;
  before(async () => {
    ({ server, apiKey } = await startWithKey({ JUNJO_MIN_FREE_DISK_BYTES: String(10 ** 15) }));
  });
  after(() => server.cleanup());

  test('refuses exports as UNAVAILABLE / 503 with a retry hint and writes nothing', async () => {
    const request = requests.next('protobuf');
    const client = new RawGrpcClient(server.ports.otlpGrpc);
    try {
      const refused = await client.exportTraces(request.body, apiKey);
      assert.equal(refused.code, grpc.status.UNAVAILABLE);
      assert.match(refused.details, /disk/i);
      assert.ok((grpcRetryDelaySeconds(refused.metadata) ?? 0) > 0, 'RetryInfo');
    } finally {
      client.close();
    }
    const http = await postOtlp(server.ports.otlpHttp, '/v1/traces', request.body, {
      apiKey,
      contentType: 'application/x-protobuf',
    });
    assert.equal(http.status, 503);
    assert.ok(Number(http.headers.get('retry-after')) > 0, 'Retry-After');
    assert.equal(decodeRpcStatus(http.body).code, grpc.status.UNAVAILABLE);

    const facts = await health(server.baseUrl);
    assert.equal(facts.ingestion?.refused_backpressure, 2);
    assert.equal(facts.ingestion?.accepted_requests, 0);
    assert.equal((facts.ingestion as { wal?: { appends: number } }).wal?.appends, 0);
  });
});
