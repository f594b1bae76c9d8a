// GET /otel/service/:service_name/workflow_stats through the real HTTP app on a real DuckDB file:
// known answers, the range and bucket rules, every bad input a 400 naming its field, hostile
// strings as plain values, and the session guard.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fp from 'fastify-plugin';
import { DuckDbSpanStore } from '../../db_duckdb/duckdb_span_store.ts';
import { buildHttpApp, type HttpPlugin } from '../../http/app.ts';
import { createLogger } from '../../logger.ts';
import type { SpanRow } from '../../spans/rows.ts';
import { hexId, SECOND, spanRow, T0 } from '../otel/test_helpers.ts';
import { workflowStatsRoutes } from './routes.ts';
import type { WorkflowStats } from './schemas.ts';

const MINUTE = 60n * SECOND;
/** "Now" for the defaults: 2025-06-04T02:00:00Z, an hour boundary 40 minutes after T0. */
const NOW = T0 + 40n * MINUTE;

// Stands in for the accounts guard: a route that is not public needs the header.
const guard: HttpPlugin = fp(async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public !== true && request.headers['x-test-session'] !== 'ok') {
      return reply.status(401).send({ message: 'Unauthorized: No valid session' });
    }
  });
});

let dir: string;
let store: DuckDbSpanStore;
let url: string;
let close: () => Promise<unknown>;

function run(n: number, name: string, start: bigint, ms: bigint, error = false): SpanRow {
  return {
    ...spanRow({ trace: hexId(n, 32), span: hexId(n, 16), service: 'svc', start, type: 'workflow', name }),
    end_time: start + ms * 1000n,
    status_code: error ? 'STATUS_CODE_ERROR' : 'STATUS_CODE_UNSET',
  };
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-workflow-stats-test-'));
  const logger = createLogger('silent');
  store = await DuckDbSpanStore.open(path.join(dir, 'otel_data.duckdb'), logger);
  await store.prepare();
  await store.insertBatch({
    spans: [
      run(1, 'ingest', T0, 100n),
      run(2, 'ingest', T0 + 30n * SECOND, 300n, true),
      run(3, 'ingest', T0 + 2n * MINUTE, 50n),
      run(4, 'report', T0 + 3n * MINUTE, 1000n, true),
    ],
    patches: [],
  });
  const app = await buildHttpApp({
    logger,
    guards: [guard],
    features: [workflowStatsRoutes({ store, now: () => NOW })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  close = async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
});
after(() => close());

async function get(query: string, service = 'svc', session = true) {
  const response = await fetch(`${url}/otel/service/${encodeURIComponent(service)}/workflow_stats?${query}`, {
    headers: session ? { 'x-test-session': 'ok' } : {},
  });
  return { status: response.status, body: (await response.json()) as WorkflowStats & { message: string } };
}

const at = (minutes: number) => new Date(Number(T0 / 1000n) + minutes * 60_000).toISOString();
const micros = (minutes: number) => `${at(minutes).slice(0, -5)}.000000Z`;

test('known answers per workflow and minute, empty minutes as zero runs without quantiles', async () => {
  const { status, body } = await get(`from=${at(0)}&to=${at(4)}&bucket=60`);
  assert.equal(status, 200);
  const empty = (minute: number) => ({
    start: micros(minute),
    runs: 0,
    errors: 0,
    p50_ms: null,
    p95_ms: null,
    p99_ms: null,
  });
  assert.deepEqual(body, {
    from: micros(0),
    to: micros(4),
    bucket_seconds: 60,
    workflows: [
      {
        workflow: 'ingest',
        buckets: [
          { start: micros(0), runs: 2, errors: 1, p50_ms: 200, p95_ms: 290, p99_ms: 298 },
          empty(1),
          { start: micros(2), runs: 1, errors: 0, p50_ms: 50, p95_ms: 50, p99_ms: 50 },
          empty(3),
        ],
      },
      {
        workflow: 'report',
        buckets: [
          empty(0),
          empty(1),
          empty(2),
          { start: micros(3), runs: 1, errors: 1, p50_ms: 1000, p95_ms: 1000, p99_ms: 1000 },
        ],
      },
    ],
  });
});

test('one workflow by name; an unknown workflow or service has no series', async () => {
  const one = await get(`from=${at(0)}&to=${at(4)}&bucket=60&workflow=report`);
  assert.deepEqual(
    one.body.workflows.map((w) => [w.workflow, w.buckets.map((b) => b.runs)]),
    [['report', [0, 0, 0, 1]]],
  );
  assert.deepEqual((await get(`from=${at(0)}&to=${at(4)}&workflow=nothing`)).body.workflows, []);
  assert.deepEqual((await get(`from=${at(0)}&to=${at(4)}`, 'nobody')).body.workflows, []);
});

test('defaults: the last 24 hours before now in 15-minute buckets, rounded out to whole buckets', async () => {
  const { status, body } = await get('');
  assert.equal(status, 200);
  assert.equal(body.bucket_seconds, 900);
  assert.equal(body.to, micros(40));
  assert.equal(body.from, micros(40 - 24 * 60));
  assert.equal(body.workflows[0]?.buckets.length, 96);
  // 01:15 to 01:30 holds runs 1 to 3 (01:20 to 01:22) and the report run (01:23).
  assert.deepEqual(
    body.workflows.map((w) => w.buckets.find((b) => b.runs > 0)),
    [
      { start: micros(-5), runs: 3, errors: 1, p50_ms: 100, p95_ms: 280, p99_ms: 296 },
      { start: micros(-5), runs: 1, errors: 1, p50_ms: 1000, p95_ms: 1000, p99_ms: 1000 },
    ],
  );
  // An hour: minutes; seven days: two hours; a range off the grid is widened to whole buckets.
  assert.equal((await get(`from=${at(-60)}&to=${at(0)}`)).body.bucket_seconds, 60);
  assert.equal((await get(`from=${at(-7 * 24 * 60)}&to=${at(0)}`)).body.bucket_seconds, 7200);
  const widened = await get(`from=2025-06-04T01:20:30Z&to=2025-06-04T01:22:00.5Z&bucket=60`);
  assert.deepEqual([widened.body.from, widened.body.to], [micros(0), micros(3)]);
});

test('bad input is a 400 naming the field', async () => {
  const cases: [string, RegExp][] = [
    ['from=yesterday', /from/],
    ['to=2025-13-01T00:00:00Z', /to/],
    ['from=2025-02-31T00:00:00Z&to=2025-03-02T00:00:00Z', /from/],
    [`from=${at(5)}&to=${at(0)}`, /from must be before to/],
    [`from=${at(0)}&to=${at(0)}`, /from must be before to/],
    [`from=${at(0)}&to=${at(0 + 2000 * 60)}&bucket=60`, /bucket/],
    ['bucket=90', /bucket/],
    ['bucket=30', /bucket/],
    ['bucket=abc', /bucket/],
    ['bucket=9000000000000000', /bucket/],
    [`from=2020-01-01T00:00:00Z&to=${at(0)}`, /range/],
    [`workflow=${'w'.repeat(1025)}`, /workflow/],
    ['workflow=', /workflow/],
  ];
  for (const [query, message] of cases) {
    const { status, body } = await get(query);
    assert.equal(status, 400, query);
    assert.match(body.message, message, query);
  }
});

test('hostile strings are plain values: no series, and the store is intact', async () => {
  for (const hostile of ["'; DROP TABLE spans; --", 'a\u0000b', '☃ "\\', 'x'.repeat(1024)]) {
    const named = await get(`from=${at(0)}&to=${at(4)}&workflow=${encodeURIComponent(hostile)}`);
    assert.equal(named.status, 200, hostile);
    assert.deepEqual(named.body.workflows, []);
    // Fastify refuses path parameters over 100 characters (414) before any handler runs.
    const service = await get(`from=${at(0)}&to=${at(4)}`, hostile.slice(0, 90));
    assert.equal(service.status, 200, hostile);
    assert.deepEqual(service.body.workflows, []);
  }
  const runs = (await get(`from=${at(0)}&to=${at(4)}`)).body.workflows.flatMap((w) =>
    w.buckets.map((b) => b.runs),
  );
  assert.equal(
    runs.reduce((a, b) => a + b, 0),
    4,
  );
});

test('the route needs a session', async () => {
  const { status } = await get(`from=${at(0)}&to=${at(4)}`, 'svc', false);
  assert.equal(status, 401);
});
