// Split mode end to end: a `backend` process (SQLite, DuckDB, poller, REST API, ValidateApiKey on
// its internal port) and an `ingestion` process (OTLP receivers, WAL, ReadSpans on its internal
// port), each with its own data directory. A key created on the backend authorises exports to the
// ingestion process, the backend's poller pulls them over ReadSpans into its DuckDB, a deleted key
// is refused within a second, both internal servers answer the gRPC health service, and with the
// backend gone the ingestion process refuses exports as retryable.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createApiKey, type Session, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { freePort } from '../support/ports.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from './durability_check.ts';
import { grpcRetryDelaySeconds, postOtlp, RawGrpcClient } from './otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from './unique_requests.ts';

let ingestion: ServerProcess;
let backend: ServerProcess;
let session: Session;
let otlp: RawGrpcClient;
const requests = new UniqueRequests();
const acked: UniqueRequest[] = [];

before(async () => {
  const readSpans = await freePort();
  const internalAuth = await freePort();
  // Either may start first: the ingestion role reaches the backend only to check a key, and the
  // backend's poller retries until ReadSpans answers.
  ingestion = await startServerProcess({
    ports: { readSpans },
    env: { JUNJO_ROLE: 'ingestion', JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${internalAuth}` },
  });
  backend = await startServerProcess({
    ports: { internalAuth },
    env: {
      JUNJO_ROLE: 'backend',
      JUNJO_INGESTION_ADDRESS: `127.0.0.1:${readSpans}`,
      JUNJO_POLL_INTERVAL_MS: '100',
    },
  });
  session = await signIn(backend.baseUrl);
  otlp = new RawGrpcClient(ingestion.ports.otlpGrpc);
});
after(async () => {
  otlp.close();
  await Promise.all([ingestion.cleanup(), backend.cleanup()]);
});

async function healthCheck(port: number, serviceName: string): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const check = healthService.Check as unknown as grpc.MethodDefinition<
    { service: string },
    { status: string }
  >;
  try {
    return await new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        check.path,
        check.requestSerialize,
        check.responseDeserialize,
        { service: serviceName },
        { deadline: Date.now() + 5000 },
        (error, response) => (error || !response ? reject(error) : resolve(response.status)),
      ),
    );
  } finally {
    client.close();
  }
}

async function exportBoth(apiKey: string): Promise<{ grpc: grpc.status; http: number }> {
  const viaGrpc = requests.next('protobuf');
  const grpcAnswer = await otlp.exportTraces(viaGrpc.body, apiKey);
  if (grpcAnswer.code === grpc.status.OK) acked.push(viaGrpc);
  const viaHttp = requests.next('json');
  const httpAnswer = await postOtlp(ingestion.ports.otlpHttp, '/v1/traces', viaHttp.body, {
    apiKey,
    contentType: 'application/json',
  });
  if (httpAnswer.status === 200) acked.push(viaHttp);
  return { grpc: grpcAnswer.code, http: httpAnswer.status };
}

const spansOf = (list: UniqueRequest[]) => list.reduce((sum, request) => sum + request.spans.length, 0);

test('both internal gRPC servers answer the standard health service', async () => {
  assert.equal(await healthCheck(ingestion.ports.readSpans, ''), 'SERVING');
  assert.equal(await healthCheck(ingestion.ports.readSpans, 'ingestion.InternalIngestionService'), 'SERVING');
  assert.equal(await healthCheck(backend.ports.internalAuth, ''), 'SERVING');
  assert.equal(await healthCheck(backend.ports.internalAuth, 'ingestion.InternalAuthService'), 'SERVING');
});

test('a key created on the backend authorises exports to the ingestion process; a deleted one is refused within 1 s', async () => {
  const key = await createApiKey(session);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await exportBoth(key.key), { grpc: grpc.status.OK, http: 200 });
  }
  assert.deepEqual(await exportBoth('x'.repeat(64)), { grpc: grpc.status.UNAUTHENTICATED, http: 401 });

  await waitFor(
    async () => ((await health(backend.baseUrl)).poller?.spans_indexed ?? 0) >= spansOf(acked),
    'the backend poller to pull every export over ReadSpans',
  );

  const deleted = await session.request('DELETE', `/api_keys/${key.id}`);
  assert.equal(deleted.status, 204);
  const deletedAt = performance.now();
  // Exports right after the delete may still pass (a positive answer is cached briefly); none sent
  // from one second on may pass. The send time is what counts: a slow round trip on a busy machine
  // must not look like a late refusal.
  await waitFor(
    async () => {
      const request = requests.next('protobuf');
      const sentAfterMs = performance.now() - deletedAt;
      const answer = await otlp.exportTraces(request.body, key.key);
      if (answer.code === grpc.status.OK) {
        assert.ok(sentAfterMs < 1000, `accepted when sent ${Math.round(sentAfterMs)} ms after the delete`);
        acked.push(request);
        return false;
      }
      assert.equal(answer.code, grpc.status.UNAUTHENTICATED);
      return true;
    },
    'the deleted key to be refused',
    30_000,
  );
  assert.deepEqual(await exportBoth(key.key), { grpc: grpc.status.UNAUTHENTICATED, http: 401 });
});

test('the backend DuckDB holds every acknowledged span once; with the backend gone exports are retryable', async () => {
  const keep = await createApiKey(session, 'kept key');
  assert.deepEqual(await exportBoth(keep.key), { grpc: grpc.status.OK, http: 200 });
  await waitFor(
    async () => ((await health(backend.baseUrl)).poller?.spans_indexed ?? 0) >= spansOf(acked),
    'the backend poller to catch up',
  );
  assert.equal((await backend.stop('SIGTERM')).code, 0);

  const stoppedAt = performance.now();
  // The key's last positive answer is cached for a moment; after that every check fails.
  const refused = await waitFor(async () => {
    const sentAfterMs = performance.now() - stoppedAt;
    const answer = await otlp.exportTraces(requests.next('protobuf').body, keep.key);
    if (answer.code !== grpc.status.OK) return answer;
    assert.ok(sentAfterMs < 1000, `accepted when sent ${Math.round(sentAfterMs)} ms after the backend left`);
    return null;
  }, 'exports to be refused without the backend');
  assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.details);
  assert.ok((grpcRetryDelaySeconds(refused.metadata) ?? 0) > 0, 'RetryInfo');
  const refusedHttp = await postOtlp(ingestion.ports.otlpHttp, '/v1/traces', requests.next('json').body, {
    apiKey: keep.key,
    contentType: 'application/json',
  });
  assert.equal(refusedHttp.status, 503);
  assert.ok(Number(refusedHttp.headers.get('retry-after')) > 0);

  const spans = acked.flatMap((request) => request.spans);
  const report = await checkDurability(
    path.join(backend.dataDir, 'duckdb/otel_data.duckdb'),
    allAcknowledged(acked),
  );
  assert.deepEqual(durabilityProblems(report), []);
  assert.equal(report.storedSpans, spans.length);
});
