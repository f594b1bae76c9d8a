// The stock OpenTelemetry JS exporters (gRPC, HTTP/protobuf, HTTP/JSON) send Junjo-shaped traces
// to the real server; the rows then appear in DuckDB with the right columns and state patches.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  type TraceFixture,
  toExportRequest,
} from '../../src/fixtures/junjo_traces.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { queryDuckDb } from '../support/duckdb_inspect.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';

let server: ServerProcess;
let apiKey: string;

before(async () => {
  server = await startServerProcess();
  apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
});
after(() => server.cleanup());

const exporters = {
  grpc: (key: string) => {
    const metadata = new Metadata();
    metadata.set('x-junjo-api-key', key);
    return new GrpcExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata });
  },
  'http/protobuf': (key: string) =>
    new ProtoExporter({
      url: `http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`,
      headers: { 'x-junjo-api-key': key },
    }),
  'http/json': (key: string) =>
    new JsonExporter({
      url: `http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`,
      headers: { 'x-junjo-api-key': key },
    }),
} satisfies Record<string, (key: string) => SpanExporter>;

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

const fixturesFor = (seed: number): TraceFixture[] => [
  legacyWorkflowTrace({ seed, serviceName: `legacy-${seed}` }),
  contract2WorkflowTrace({ seed: seed + 1000, serviceName: `contract2-${seed}`, fail: true }),
  agentTrace({ seed: seed + 2000, serviceName: `agent-${seed}` }),
];

test('each stock exporter delivers Junjo traces into DuckDB, and wrong or missing keys are refused', async () => {
  const sent: TraceFixture[] = [];
  let seed = 100;
  for (const [name, make] of Object.entries(exporters)) {
    seed += 1;
    const fixtures = fixturesFor(seed);
    const spans = toReadableSpans(toExportRequest(fixtures.flatMap((fixture) => fixture.spans)));

    const wrong = make('x'.repeat(64));
    const refused = await exportWith(wrong, spans);
    assert.equal(refused.code, ExportResultCode.FAILED, `${name}: an unknown key is refused`);
    assert.match(String(refused.error?.message), /Invalid API key|Unauthorized|401|UNAUTHENTICATED/i);
    await wrong.shutdown();

    const missing = make('');
    assert.equal(
      (await exportWith(missing, spans)).code,
      ExportResultCode.FAILED,
      `${name}: a missing key is refused`,
    );
    await missing.shutdown();

    const exporter = make(apiKey);
    const result = await exportWith(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, `${name}: ${result.error?.message}`);
    await exporter.shutdown();
    sent.push(...fixtures);
  }

  const expectedSpans = sent.reduce((sum, fixture) => sum + fixture.spans.length, 0);
  await waitFor(async () => (await indexedSpans(server.baseUrl)) >= expectedSpans, 'all spans indexed');
  const { code } = await server.stop('SIGTERM');
  assert.equal(code, 0);

  const duckdbFile = path.join(server.dataDir, 'duckdb/otel_data.duckdb');
  for (const fixture of sent) {
    const rows = await queryDuckDb<{
      span_id: string;
      service_name: string;
      junjo_span_type: string;
      kind: string;
    }>(duckdbFile, 'SELECT span_id, service_name, junjo_span_type, kind FROM spans WHERE trace_id = ?', [
      fixture.traceId,
    ]);
    assert.equal(rows.length, fixture.spans.length, `every span of ${fixture.serviceName} is stored once`);
    const junjoSpans = fixture.spans.filter((s) => s.scope === 'junjo').length;
    assert.ok(junjoSpans > 0);
    assert.ok(rows.every((row) => row.service_name === fixture.serviceName));
    assert.ok(rows.every((row) => row.kind === 'INTERNAL'));
    const root = await queryDuckDb<{
      junjo_wf_state_start: string;
      junjo_wf_store_id: string;
      junjo_span_type: string;
    }>(
      duckdbFile,
      'SELECT junjo_wf_state_start, junjo_wf_store_id, junjo_span_type FROM spans WHERE trace_id = ? AND parent_span_id IS NULL',
      [fixture.traceId],
    );
    assert.equal(root.length, 1);
    const rootStore = fixture.stores.find((store) => store.storeId === root[0]!.junjo_wf_store_id);
    assert.ok(rootStore, 'the root span carries its store id');
    assert.deepEqual(JSON.parse(root[0]!.junjo_wf_state_start), rootStore.start);
    const [patches] = await queryDuckDb<{ n: number }>(
      duckdbFile,
      'SELECT count(*)::INTEGER AS n FROM state_patches WHERE trace_id = ?',
      [fixture.traceId],
    );
    const expectedPatches = fixture.stores.reduce((sum, store) => sum + store.patchCount, 0);
    assert.equal(patches!.n, expectedPatches, `state patches of ${fixture.serviceName}`);
  }
  const errored = await queryDuckDb<{ n: number }>(
    duckdbFile,
    "SELECT count(*)::INTEGER AS n FROM spans WHERE status_code = 'STATUS_CODE_ERROR' AND events_json::VARCHAR LIKE '%exception.stacktrace%'",
  );
  assert.ok(errored[0]!.n > 0, 'the failing contract-2 trace keeps its exception events');
});
