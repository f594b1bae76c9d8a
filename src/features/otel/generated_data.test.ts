// The data generator (scripts/generate.ts) fills a DuckDB file with the fixture workflow mix, and
// every endpoint serves that realistic data in the documented shapes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { type GenerateResult, generateSpans } from '../../../scripts/generate.ts';
import { type DuckDb, openDuckDb } from '../../db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../../db_duckdb/duckdb_span_store.ts';
import { buildHttpApp } from '../../http/app.ts';
import { createLogger } from '../../logger.ts';
import { otelRoutes } from './routes.ts';
import { Service, Span, StatePatch } from './schemas.ts';

const SPANS = 12_000;
let dir: string;
let db: DuckDb;
let app: FastifyInstance;
let url: string;
let generated: GenerateResult;
const endNanos = 1_760_000_000_000_000_000n;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-generated-test-'));
  db = await openDuckDb(path.join(dir, 'otel_data.duckdb'), createLogger('silent'));
  const store = new DuckDbSpanStore(db, createLogger('silent'));
  generated = await generateSpans(store, {
    spans: SPANS,
    services: 3,
    seed: 3,
    workers: 1,
    endTimeUnixNano: endNanos,
  });
  app = await buildHttpApp({
    logger: createLogger('silent'),
    guards: [],
    features: [otelRoutes({ store })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await app.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (pathAndQuery: string) => {
  const response = await fetch(url + pathAndQuery);
  assert.equal(response.status, 200, pathAndQuery);
  return response.json() as Promise<unknown>;
};

test('the generator stores whole traces of the mix, ending at the requested time', async () => {
  assert.ok(generated.spans >= SPANS && generated.spans < SPANS + 20, String(generated.spans));
  assert.ok(generated.patches > generated.spans / 2);
  const [count, newest, oldest, indexes] = await db.read(async (conn) => {
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::INTEGER, epoch_us(max(start_time)), epoch_us(min(start_time)),
              (SELECT count(*)::INTEGER FROM duckdb_indexes())
       FROM spans`,
    );
    return reader.getRows()[0] as [number, bigint, bigint, number];
  });
  assert.equal(count, generated.spans);
  const end = endNanos / 1000n;
  assert.ok(newest <= end && newest > end - 3_600_000_000n, 'newest trace within the hour before the end');
  assert.ok(oldest < end - 600_000_000n, 'traces spread over the time before');
  assert.equal(indexes, 12, 'every secondary index rebuilt after the load');
});

test('every endpoint serves the generated data in its documented shape', async () => {
  const services = (await get('/otel/services')) as Service[];
  assert.ok(Value.Check(Type.Array(Service), services));
  assert.equal(services.length, 3);
  assert.equal(
    services.reduce((sum, s) => sum + s.span_count, 0),
    generated.spans,
  );
  assert.equal(
    services.reduce((sum, s) => sum + s.trace_count, 0),
    generated.traces,
  );
  for (const { service_name } of services) {
    const name = encodeURIComponent(service_name);
    for (const list of [
      `service/${name}/root_spans`,
      `service/${name}/root_spans_filtered`,
      `spans/type/workflow/${name}`,
    ]) {
      const spans = (await get(`/otel/${list}?limit=50`)) as Span[];
      assert.ok(spans.length > 0, list);
      assert.ok(Value.Check(Type.Array(Span), spans), list);
    }
    const [root] = (await get(`/otel/service/${name}/root_spans?limit=1`)) as Span[];
    const trace = (await get(`/otel/trace/${root!.trace_id}/nested_spans`)) as Span[];
    assert.ok(trace.length >= 3 && Value.Check(Type.Array(Span), trace));
    assert.ok(trace.every((span) => span.trace_id === root!.trace_id));
    const patches = (await get(`/otel/trace/${root!.trace_id}/state_patches`)) as StatePatch[];
    assert.ok(Value.Check(Type.Array(StatePatch), patches));
  }
});
