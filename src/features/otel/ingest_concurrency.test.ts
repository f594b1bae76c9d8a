// Reads run on reader connections while the single writer ingests: they never wait for it and
// never see part of a batch.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { appendBatch } from '../../db_duckdb/span_repository.ts';
import type { SpanRow } from '../../spans/rows.ts';
import type { Service, Span } from './schemas.ts';
import { hexId, type OtelTestServer, SECOND, spanRow, startOtelServer, T0 } from './test_helpers.ts';

const SERVICE = 'ingest';
const SPANS_PER_TRACE = 10;
const TRACES_PER_BATCH = 400;
const BATCHES = 8;
const BATCH_SPANS = SPANS_PER_TRACE * TRACES_PER_BATCH;

function batch(b: number): SpanRow[] {
  const spans: SpanRow[] = [];
  for (let t = 0; t < TRACES_PER_BATCH; t++) {
    const n = b * TRACES_PER_BATCH + t;
    const trace = hexId(n, 32);
    const start = T0 + BigInt(n) * SECOND;
    const root = spanRow({ trace, span: hexId(n * 100, 16), service: SERVICE, start, type: 'workflow' });
    spans.push(root);
    for (let k = 1; k < SPANS_PER_TRACE; k++) {
      spans.push(
        spanRow({
          trace,
          span: hexId(n * 100 + k, 16),
          parent: root.span_id,
          service: SERVICE,
          start: start + BigInt(k) * 1000n,
          type: 'node',
        }),
      );
    }
  }
  return spans;
}

let server: OtelTestServer;
before(async () => {
  server = await startOtelServer();
});
after(() => server.close());

async function counts() {
  const services = (await server.get('/otel/services')).body as Service[];
  const service = services.find((s) => s.service_name === SERVICE);
  const roots = (await server.get(`/otel/service/${SERVICE}/root_spans?limit=10000`)).body as Span[];
  const workflows = (await server.get(`/otel/spans/type/workflow/${SERVICE}?limit=10000`)).body as Span[];
  return {
    spans: service?.span_count ?? 0,
    traces: service?.trace_count ?? 0,
    roots: roots.length,
    workflows: workflows.length,
  };
}

test('every read during ingestion sees whole batches only', async () => {
  let ingesting = true;
  const ingestion = (async () => {
    try {
      for (let b = 0; b < BATCHES; b++) await server.insert({ spans: batch(b) });
    } finally {
      ingesting = false;
    }
  })();
  const observations: Awaited<ReturnType<typeof counts>>[] = [];
  while (ingesting) {
    observations.push(await counts());
    // A trace of some batch: all of its spans or none.
    const probe = Math.floor(Math.random() * BATCHES * TRACES_PER_BATCH);
    const trace = (await server.get(`/otel/trace/${hexId(probe, 32)}/nested_spans`)).body as Span[];
    assert.ok(trace.length === 0 || trace.length === SPANS_PER_TRACE, `trace with ${trace.length} spans`);
  }
  await ingestion;
  observations.push(await counts());
  for (const seen of observations) {
    assert.equal(seen.spans % BATCH_SPANS, 0, JSON.stringify(seen));
    assert.equal(seen.traces % TRACES_PER_BATCH, 0, JSON.stringify(seen));
    assert.equal(seen.roots % TRACES_PER_BATCH, 0, JSON.stringify(seen));
    assert.equal(seen.workflows % TRACES_PER_BATCH, 0, JSON.stringify(seen));
  }
  assert.deepEqual(observations.at(-1), {
    spans: BATCHES * BATCH_SPANS,
    traces: BATCHES * TRACES_PER_BATCH,
    roots: BATCHES * TRACES_PER_BATCH,
    workflows: BATCHES * TRACES_PER_BATCH,
  });
  const midway = observations.filter((o) => o.spans > 0 && o.spans < BATCHES * BATCH_SPANS);
  assert.ok(midway.length > 0, 'some reads ran while batches were still arriving');
});

// If reads waited for the writer, this would deadlock: the writer is released only after the read.
test('a read does not wait for an open write transaction, nor see its rows', {
  timeout: 30_000,
}, async () => {
  const before = await counts();
  let releaseWriter: () => void = () => {};
  const writerHeld = new Promise<void>((resolve) => {
    releaseWriter = resolve;
  });
  let rowsWritten: () => void = () => {};
  const written = new Promise<void>((resolve) => {
    rowsWritten = resolve;
  });
  const rows = batch(BATCHES);
  const write = server.db.write(async (conn) => {
    await appendBatch(conn, { spans: rows, patches: [] }); // what SpanRepository.insertBatch runs
    rowsWritten();
    await writerHeld;
  });
  await written; // the rows are written, not committed (a fixed pause could read before the write)
  // No clock needed: a read that waited for the writer would never return (the test's timeout).
  const during = await counts();
  releaseWriter();
  await write;
  assert.deepEqual(during, before);
  assert.equal((await counts()).spans, before.spans + BATCH_SPANS);
});
