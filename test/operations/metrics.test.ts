// GET /metrics against the real server: off (404) without JUNJO_METRICS_TOKEN, 401 without the right
// bearer token, and with it the Prometheus text whose ingestion, poller, WAL, DuckDB and HTTP
// metrics move after an export.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
let server: ServerProcess;

before(async () => {
  server = await startServerProcess({ env: { JUNJO_METRICS_TOKEN: TOKEN } });
});
after(async () => {
  await server?.cleanup();
});

const scrape = (token?: string) =>
  fetch(`${server.baseUrl}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** Value of one sample, e.g. `junjo_exports_refused_total{reason="unauthenticated"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `metrics contain ${series}`);
  return Number(line.slice(series.length + 1));
}

test('GET /metrics is 404 when JUNJO_METRICS_TOKEN is not set', async () => {
  const plain = await startServerProcess();
  try {
    const response = await fetch(`${plain.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { message: string }).message, /disabled/);
  } finally {
    await plain.cleanup();
  }
});

test('GET /metrics refuses a missing or wrong bearer token with 401, and never logs the token', async () => {
  for (const response of [
    await scrape(),
    await scrape('wrong-token-0123456789'),
    await scrape(`${TOKEN}x`),
  ]) {
    assert.equal(response.status, 401);
    assert.ok(((await response.json()) as { message: string }).message);
  }
  assert.ok(!server.output().includes(TOKEN));
});

test('the metrics move after an export: accepted, refused, spans, WAL, poller, DuckDB, HTTP', async () => {
  const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
  const before = await (await scrape(TOKEN)).text();
  const request = toExportRequest(legacyWorkflowTrace({ seed: 7 }).spans);
  const spanCount = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
  const body = encodeTraceRequestProtobuf(request);
  const contentType = 'application/x-protobuf';
  assert.equal(
    (await postOtlp(server.ports.otlpHttp, '/v1/traces', body, { apiKey, contentType })).status,
    200,
  );
  assert.equal(
    (await postOtlp(server.ports.otlpHttp, '/v1/traces', body, { apiKey: 'nope', contentType })).status,
    401,
  );
  await waitFor(async () => (await indexedSpans(server.baseUrl)) >= spanCount, 'the spans to be indexed');

  const response = await scrape(TOKEN);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const after = await response.text();
  const moved = (series: string, by: number) =>
    assert.equal(sample(after, series) - sample(before, series), by, `${series} moved by ${by}`);
  moved('junjo_exports_accepted_total', 1);
  moved('junjo_exports_refused_total{reason="unauthenticated"}', 1);
  moved('junjo_exports_refused_total{reason="invalid"}', 0);
  moved('junjo_spans_received_total', spanCount);
  // One process has one poller, labelled `local` (a split backend labels each by its node's address).
  moved('junjo_spans_indexed_total{node="local"}', spanCount);
  assert.ok(sample(after, 'junjo_received_bytes_total') > sample(before, 'junjo_received_bytes_total'));
  assert.ok(sample(after, 'junjo_poller_batch_duration_seconds_count{node="local"}') >= 1);
  assert.ok(sample(after, 'junjo_poller_last_commit_timestamp_seconds{node="local"}') > 0);
  assert.equal(sample(after, 'junjo_poller_up{node="local"}'), 1);
  assert.equal(sample(after, 'junjo_wal_backlog_records'), 0);
  assert.equal(sample(after, 'junjo_wal_backlog_bytes'), 0);
  assert.equal(sample(after, 'junjo_poller_lag_seconds{node="local"}'), 0);
  assert.ok(sample(after, 'junjo_duckdb_file_bytes') > 0);
  assert.ok(sample(after, 'process_resident_memory_bytes') > 0);
  // The earlier 401 scrapes and the sign-in were timed under their route templates.
  assert.ok(
    sample(
      after,
      'junjo_http_request_duration_seconds_count{method="GET",route="/metrics",status_code="401"}',
    ) >= 3,
  );
  assert.ok(
    sample(
      after,
      'junjo_http_request_duration_seconds_count{method="POST",route="/sign-in",status_code="200"}',
    ) >= 1,
  );
});

test('the DuckDB upkeep series: a count and seconds per reason, the idle checkpoint counted once the writes stop', async () => {
  const text = await (await scrape(TOKEN)).text();
  for (const reason of ['rows_held', 'idle', 'requested']) {
    for (const name of ['junjo_duckdb_checkpoints_total', 'junjo_duckdb_checkpoint_seconds_total']) {
      assert.ok(sample(text, `${name}{reason="${reason}"}`) >= 0);
    }
  }
  for (const reason of ['index_memory', 'failed_commit', 'fatal_error']) {
    assert.equal(sample(text, `junjo_duckdb_reopens_total{reason="${reason}"}`), 0, reason);
    assert.equal(sample(text, `junjo_duckdb_reopen_seconds_total{reason="${reason}"}`), 0, reason);
  }
  // The writer checkpoints 10 s after its last write (the schema at start, the export above).
  const idle = 'junjo_duckdb_checkpoints_total{reason="idle"}';
  await waitFor(async () => sample(await (await scrape(TOKEN)).text(), idle) >= 1, 'the idle checkpoint');
  assert.ok(
    sample(await (await scrape(TOKEN)).text(), 'junjo_duckdb_checkpoint_seconds_total{reason="idle"}') > 0,
  );
});

test('/openapi.json marks /metrics as bearer-token protected, not a session route', async () => {
  const spec = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, { get: { security: unknown } }>;
    components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
  };
  assert.deepEqual(spec.paths['/metrics']?.get.security, [{ metricsToken: [] }]);
  assert.equal(spec.components.securitySchemes.metricsToken?.scheme, 'bearer');
});
