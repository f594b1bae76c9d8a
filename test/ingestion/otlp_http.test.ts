// OTLP protocol behaviour of both receivers against the real server: OTLP/HTTP (protobuf and JSON,
// gzip or identity; 200 with an empty or partial_success body in the request's encoding; 400 with a
// google.rpc.Status body for undecodable protobuf, invalid JSON and bad gzip; 415 for other content
// types; 401 for missing or unknown keys; /v1/metrics and /v1/logs accepted) and OTLP/gRPC
// (INVALID_ARGUMENT, partial_success, UNAUTHENTICATED, Metrics/Logs Export answered). At the end
// DuckDB holds exactly the valid spans of the accepted exports.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import type { ExportTraceRequest, KeyValue, Span } from '../../src/otlp/types.ts';
import { SPAN_LIMITS } from '../../src/spans/span_limits.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from './durability_check.ts';
import {
  decodeRpcStatus,
  decodeTraceResponse,
  type HttpAnswer,
  LOGS_EXPORT,
  METRICS_EXPORT,
  postOtlp,
  RawGrpcClient,
} from './otlp_clients.ts';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

let server: ServerProcess;
let apiKey: string;
let grpcClient: RawGrpcClient;
/** Spans and patches of every accepted export, valid ones only: exactly these must be stored. */
const expectedSpans: string[] = [];
const expectedPatches: string[] = [];

before(async () => {
  server = await startServerProcess();
  apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
  grpcClient = new RawGrpcClient(server.ports.otlpGrpc);
});
after(async () => {
  grpcClient.close();
  await server.cleanup();
});

const spanKey = (span: Span) => `${bytesToHex(span.traceId)}:${bytesToHex(span.spanId)}`;
let nextSeed = 1;

/** A fresh Junjo workflow trace as one request; its spans and patches are all valid. */
function validRequest(): ExportTraceRequest {
  return toExportRequest(legacyWorkflowTrace({ seed: nextSeed++ }).spans);
}

function expectStored(request: ExportTraceRequest, except: Set<Span> = new Set()): void {
  const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  const rejected = new Set([...except].map(spanKey));
  for (const span of spans) if (!except.has(span)) expectedSpans.push(spanKey(span));
  for (const patch of processTraceRequest(request).patches) {
    if (!rejected.has(`${patch.trace_id}:${patch.span_id}`)) expectedPatches.push(patch.patch_id);
  }
}

const stringAttribute = (attributes: KeyValue[], key: string, value: string) => {
  const found = attributes.find((kv) => kv.key === key);
  assert.ok(found, `attribute ${key}`);
  found.value = { type: 'string', value };
};

/**
 * A valid trace in which three spans cannot be stored: a 15-byte trace id, workflow state that is
 * not JSON, and a set_state patch that is not a JSON Patch. The rest must be stored.
 */
function mixedRequest(): { request: ExportTraceRequest; rejected: Set<Span> } {
  const request = validRequest();
  const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  const isWorkflow = (span: Span) =>
    span.attributes.some(
      (kv) => kv.key === 'junjo.span_type' && kv.value.type === 'string' && kv.value.value === 'workflow',
    );
  const workflow = spans.find(isWorkflow)!;
  const patching = spans.find(
    (span) => span !== workflow && span.events.some((e) => e.name === 'set_state'),
  )!;
  const other = spans.find((span) => span !== workflow && span !== patching)!;
  const rejected = new Set([workflow, patching, other]);
  // Recorded before the damage, while every span and patch is still valid.
  expectStored(request, rejected);

  stringAttribute(workflow.attributes, 'junjo.workflow.state.start', '{not json');
  const setState = patching.events.find((event) => event.name === 'set_state')!;
  stringAttribute(setState.attributes, 'junjo.state_json_patch', '[{"op":"jump","path":"/count"}]');
  other.traceId = other.traceId.subarray(0, 15);
  return { request, rejected };
}

const encode = (request: ExportTraceRequest, format: 'protobuf' | 'json') =>
  format === 'json' ? encodeTraceRequestJson(request) : encodeTraceRequestProtobuf(request);

function assertStatusBody(answer: HttpAnswer, format: 'protobuf' | 'json', code: grpc.status): string {
  if (format === 'json') {
    assert.match(String(answer.headers.get('content-type')), /^application\/json/);
    const body = JSON.parse(answer.body.toString()) as { code: number; message: string };
    assert.equal(body.code, code);
    assert.ok(body.message.length > 0);
    return body.message;
  }
  assert.equal(answer.headers.get('content-type'), PROTOBUF);
  const status = decodeRpcStatus(answer.body);
  assert.equal(status.code, code);
  assert.ok(status.message.length > 0);
  return status.message;
}

describe('OTLP/HTTP POST /v1/traces', () => {
  for (const format of ['protobuf', 'json'] as const) {
    const contentType = format === 'json' ? JSON_TYPE : PROTOBUF;
    for (const gzip of [false, true]) {
      test(`${format}${gzip ? ' gzip' : ''}: 200 with an empty ExportTraceServiceResponse`, async () => {
        const request = validRequest();
        const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', encode(request, format), {
          apiKey,
          contentType,
          gzip,
        });
        assert.equal(answer.status, 200, answer.body.toString());
        if (format === 'json') {
          assert.match(String(answer.headers.get('content-type')), /^application\/json/);
          assert.deepEqual(JSON.parse(answer.body.toString()), {});
        } else {
          assert.equal(answer.headers.get('content-type'), PROTOBUF);
          assert.equal(answer.body.length, 0, 'full success is the empty message');
        }
        expectStored(request);
      });
    }

    test(`${format}: partial_success names the rejected spans; the valid ones are kept`, async () => {
      const { request } = mixedRequest();
      const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', encode(request, format), {
        apiKey,
        contentType,
      });
      assert.equal(answer.status, 200, answer.body.toString());
      let errorMessage: string;
      if (format === 'json') {
        // proto3 JSON mapping: int64 as a decimal string.
        const body = JSON.parse(answer.body.toString()) as {
          partialSuccess: { rejectedSpans: string; errorMessage: string };
        };
        assert.equal(body.partialSuccess.rejectedSpans, '3');
        errorMessage = body.partialSuccess.errorMessage;
      } else {
        const partial = decodeTraceResponse(answer.body);
        assert.equal(partial?.rejectedSpans, 3);
        errorMessage = partial.errorMessage;
      }
      assert.match(errorMessage, /trace_id has 15 bytes/);
      assert.match(errorMessage, /junjo\.workflow\.state\.start is not valid JSON/);
      assert.match(errorMessage, /junjo\.state_json_patch operation 0 has an invalid op/);
    });

    test(`${format}: 400 with a google.rpc.Status body for undecodable data and bad gzip`, async () => {
      const garbage = format === 'json' ? '{"resourceSpans": [' : Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]);
      const undecodable = await postOtlp(server.ports.otlpHttp, '/v1/traces', garbage, {
        apiKey,
        contentType,
      });
      assert.equal(undecodable.status, 400);
      assertStatusBody(undecodable, format, grpc.status.INVALID_ARGUMENT);

      const notGzip = await postOtlp(server.ports.otlpHttp, '/v1/traces', encode(validRequest(), format), {
        apiKey,
        contentType,
        headers: { 'content-encoding': 'gzip' },
      });
      assert.equal(notGzip.status, 400);
      assert.match(assertStatusBody(notGzip, format, grpc.status.INVALID_ARGUMENT), /gzip/);
    });

    test(`${format}: 401 with a Status body for a missing or unknown key`, async () => {
      const body = encode(validRequest(), format);
      const missing = await postOtlp(server.ports.otlpHttp, '/v1/traces', body, { contentType });
      assert.equal(missing.status, 401);
      assert.match(assertStatusBody(missing, format, grpc.status.UNAUTHENTICATED), /x-junjo-api-key/);
      const unknown = await postOtlp(server.ports.otlpHttp, '/v1/traces', body, {
        contentType,
        apiKey: 'x'.repeat(64),
      });
      assert.equal(unknown.status, 401);
      assert.match(assertStatusBody(unknown, format, grpc.status.UNAUTHENTICATED), /Invalid API key/);
    });
  }

  test('415 for any other content type', async () => {
    const body = encodeTraceRequestProtobuf(validRequest());
    for (const contentType of ['text/plain', 'application/octet-stream', undefined]) {
      const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', body, {
        apiKey,
        ...(contentType ? { contentType } : {}),
      });
      assert.equal(answer.status, 415, String(contentType));
      assert.match(assertStatusBody(answer, 'json', grpc.status.INVALID_ARGUMENT), /Content-Type/);
    }
  });

  test('/v1/metrics and an empty /v1/logs export are accepted, with the key checked', async () => {
    for (const route of ['/v1/metrics', '/v1/logs']) {
      const protobuf = await postOtlp(server.ports.otlpHttp, route, Buffer.alloc(0), {
        apiKey,
        contentType: PROTOBUF,
      });
      assert.equal(protobuf.status, 200, route);
      assert.equal(protobuf.body.length, 0);
      const json = await postOtlp(server.ports.otlpHttp, route, '{"resourceMetrics":[]}', {
        apiKey,
        contentType: JSON_TYPE,
      });
      assert.equal(json.status, 200, route);
      assert.deepEqual(JSON.parse(json.body.toString()), {});
      const anonymous = await postOtlp(server.ports.otlpHttp, route, Buffer.alloc(0), {
        contentType: PROTOBUF,
      });
      assert.equal(anonymous.status, 401, route);
    }
  });
});

describe('OTLP/gRPC', () => {
  test('Export of a valid request answers OK with an empty response', async () => {
    const request = validRequest();
    const answer = await grpcClient.exportTraces(encodeTraceRequestProtobuf(request), apiKey);
    assert.equal(answer.code, grpc.status.OK, answer.details);
    assert.equal(answer.response?.length, 0);
    expectStored(request);
  });

  test('undecodable bytes are INVALID_ARGUMENT and nothing is written', async () => {
    const before = (await health(server.baseUrl)).ingestion!;
    const answer = await grpcClient.exportTraces(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), apiKey);
    assert.equal(answer.code, grpc.status.INVALID_ARGUMENT);
    assert.ok(answer.details.length > 0);
    const afterwards = (await health(server.baseUrl)).ingestion!;
    assert.equal(afterwards.refused_invalid, before.refused_invalid + 1);
    assert.equal(afterwards.accepted_requests, before.accepted_requests);
  });

  test('a request with invalid spans answers OK with partial_success; the valid spans are kept', async () => {
    const { request } = mixedRequest();
    const answer = await grpcClient.exportTraces(encodeTraceRequestProtobuf(request), apiKey);
    assert.equal(answer.code, grpc.status.OK, answer.details);
    const partial = decodeTraceResponse(answer.response!);
    assert.equal(partial?.rejectedSpans, 3);
    assert.match(partial.errorMessage, /trace_id has 15 bytes/);
  });

  test('a span over a per-span limit is rejected alone, the limit named in partial_success', async () => {
    const request = validRequest();
    const [, tooBig] = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    tooBig!.attributes.push({
      key: 'llm.prompt',
      value: { type: 'string', value: 'x'.repeat(SPAN_LIMITS.attributeValueLength + 1) },
    });
    expectStored(request, new Set([tooBig!]));
    const answer = await grpcClient.exportTraces(encodeTraceRequestProtobuf(request), apiKey, 60_000);
    assert.equal(answer.code, grpc.status.OK, answer.details);
    const partial = decodeTraceResponse(answer.response!);
    assert.equal(partial?.rejectedSpans, 1);
    assert.match(
      partial.errorMessage,
      /^span 1 of resource 0 .*attributes "llm\.prompt": the value has 16777217 characters, over the limit of 16777216$/,
    );
  });

  test('a missing or unknown key is UNAUTHENTICATED', async () => {
    const body = encodeTraceRequestProtobuf(validRequest());
    const missing = await grpcClient.exportTraces(body);
    assert.equal(missing.code, grpc.status.UNAUTHENTICATED);
    assert.match(missing.details, /x-junjo-api-key/);
    const unknown = await grpcClient.exportTraces(body, 'x'.repeat(64));
    assert.equal(unknown.code, grpc.status.UNAUTHENTICATED);
    assert.match(unknown.details, /Invalid API key/);
  });

  test('MetricsService and LogsService Export are answered, with the key checked', async () => {
    for (const method of [METRICS_EXPORT, LOGS_EXPORT]) {
      const accepted = await grpcClient.call(method, Buffer.alloc(0), apiKey);
      assert.equal(accepted.code, grpc.status.OK, method);
      assert.equal(accepted.response?.length, 0);
      assert.equal((await grpcClient.call(method, Buffer.alloc(0))).code, grpc.status.UNAUTHENTICATED);
    }
  });
});

test('DuckDB holds exactly the valid spans and patches of the accepted exports', async () => {
  await waitFor(
    async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
    'the poller to catch up',
  );
  assert.equal((await server.stop('SIGTERM')).code, 0);
  const report = await checkDurability(
    path.join(server.dataDir, 'duckdb/otel_data.duckdb'),
    allAcknowledged([{ spans: expectedSpans, patches: expectedPatches }]),
  );
  assert.deepEqual(durabilityProblems(report), []);
  assert.equal(report.storedSpans, expectedSpans.length);
  assert.equal(report.storedPatches, expectedPatches.length);
});
