// JUNJO_RETENTION_DAYS through the real server: traces exported with old and recent start times,
// a restart (retention runs at start), then /health reports the run and DuckDB holds only the
// recent spans and their patches. The deletion itself is tested in src/telemetry/retention.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { toExportRequest, workflowMixTraces } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from '../ingestion/durability_check.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';

const DAY_NANOS = 86_400n * 1_000_000_000n;

/** Export requests of `traces` traces starting `daysAgo` days ago, with the rows they must store. */
function tracesStarting(daysAgo: number, traces: number, seed: number) {
  const start = BigInt(Date.now()) * 1_000_000n - BigInt(daysAgo) * DAY_NANOS;
  const requests = [...workflowMixTraces({ traces, seed, startTimeUnixNano: start })].map((trace) =>
    toExportRequest(trace.spans),
  );
  const rows = requests.map(processTraceRequest);
  return {
    bodies: requests.map(encodeTraceRequestProtobuf),
    spans: rows.flatMap((r) => r.spans.map((s) => `${s.trace_id}:${s.span_id}`)),
    patches: rows.flatMap((r) => r.patches.map((p) => p.patch_id)),
  };
}

test('with JUNJO_RETENTION_DAYS the server deletes expired spans at start and reports it in /health', async () => {
  const env = { JUNJO_RETENTION_DAYS: '30' };
  let server = await startServerProcess({ env });
  const dataDir = server.dataDir;
  try {
    const first = (await health(server.baseUrl)) as { retention?: { days: number } };
    assert.equal(first.retention?.days, 30);
    const apiKey = (await createApiKey(await signIn(server.baseUrl))).key;
    const old = tracesStarting(45, 20, 1);
    const recent = tracesStarting(2, 20, 2);
    for (const body of [...old.bodies, ...recent.bodies]) {
      const answer = await postOtlp(server.ports.otlpHttp, '/v1/traces', body, {
        apiKey,
        contentType: 'application/x-protobuf',
      });
      assert.equal(answer.status, 200);
    }
    await waitFor(async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0, 'indexing');
    assert.equal((await server.stop('SIGTERM')).code, 0);

    server = await startServerProcess({ env, dataDir });
    type RetentionFacts = {
      retention: {
        runs: number;
        last_run: { spans_deleted: number; patches_deleted: number; error: string | null };
      };
    };
    const facts = await waitFor(async () => {
      const body = (await health(server.baseUrl)) as unknown as RetentionFacts;
      return body.retention.runs >= 1 ? body.retention : null;
    }, 'the retention run at start');
    assert.deepEqual(facts.last_run, {
      ...facts.last_run,
      spans_deleted: old.spans.length,
      patches_deleted: old.patches.length,
      error: null,
    });
    assert.equal((await server.stop('SIGTERM')).code, 0);

    const report = await checkDurability(
      path.join(dataDir, 'duckdb/otel_data.duckdb'),
      allAcknowledged([recent]),
    );
    assert.deepEqual(durabilityProblems(report), [], 'only the recent spans and patches are left');
  } finally {
    await server.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
