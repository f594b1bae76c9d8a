// GET /otel/service/{service_name}/workflow_runs over HTTP, on a real DuckDB store: without filters it
// answers exactly what /otel/spans/type/workflow/{service_name} answers; the query string reaches the
// store's filter (the contract suite checks every filter's answers); bad or hostile input is a 400
// naming the field, and leaves the store as it was; the route is never public.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fp from 'fastify-plugin';
import type { HttpPlugin } from '../../http/app.ts';
import { hexId, type OtelTestServer, SECOND, spanRow, startOtelServer, T0 } from '../otel/test_helpers.ts';
import { workflowRunRoutes } from './routes.ts';

const SESSION = { 'x-test-session': 'ok' };
const guard: HttpPlugin = fp(async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public !== true && request.headers['x-test-session'] !== 'ok') {
      return reply.status(401).send({ message: 'Unauthorized: No valid session' });
    }
  });
});

let server: OtelTestServer;
const runIds: string[] = [];
before(async () => {
  server = await startOtelServer({
    guards: [guard],
    features: (store) => [workflowRunRoutes({ store })],
  });
  // Six runs of "svc" one second apart (run n ends with {"n": n, "even": n % 2 = 0}), each with a node
  // span named Step<n mod 3>; two share a start time so that paging must break the tie by span id.
  const spans = [];
  for (let n = 0; n < 6; n++) {
    const start = T0 + BigInt(Math.min(n, 4)) * SECOND;
    const run = {
      ...spanRow({ trace: hexId(n, 32), span: hexId(n, 16), service: 'svc', start, type: 'workflow' }),
    };
    run.name = n < 3 ? 'Alpha' : 'Beta';
    run.junjo_wf_state_end = JSON.stringify({ n, even: n % 2 === 0, tags: [`t${n}`] });
    spans.push(run);
    spans.push(
      spanRow({
        trace: run.trace_id,
        span: hexId(100 + n, 16),
        parent: run.span_id,
        service: 'svc',
        start,
        type: 'node',
        name: `Step${n % 3}`,
      }),
    );
    runIds.push(run.span_id);
  }
  await server.insert({ spans });
});
after(() => server.close());

async function get(pathAndQuery: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(server.url + pathAndQuery, { headers: SESSION });
  return { status: response.status, body: await response.json() };
}
const runs = async (query: string) => {
  const { status, body } = await get(`/otel/service/svc/workflow_runs?${query}`);
  assert.equal(status, 200, JSON.stringify(body));
  return (body as { span_id: string }[]).map((s) => s.span_id);
};

test('without filters the answer is byte for byte that of the workflow list, paging included', async () => {
  for (const query of ['', 'limit=2', `limit=2&before=2025-06-04T01:20:04Z&before_span_id=${runIds[5]}`]) {
    const headers = SESSION;
    const plain = await fetch(`${server.url}/otel/spans/type/workflow/svc?${query}`, { headers });
    const filtered = await fetch(`${server.url}/otel/service/svc/workflow_runs?${query}`, { headers });
    assert.equal(filtered.status, 200);
    assert.equal(await filtered.text(), await plain.text());
  }
});

test('query parameters reach the filter: repeated, combined, and paged by keyset', async () => {
  assert.deepEqual(await runs('workflow=Alpha'), [runIds[2], runIds[1], runIds[0]]);
  assert.deepEqual(await runs('node=Step1'), [runIds[4], runIds[1]]);
  assert.deepEqual(await runs('not_node=Step1&not_node=Step2'), [runIds[3], runIds[0]]);
  assert.deepEqual(await runs(`state=${encodeURIComponent('$.even = true')}`), [
    runIds[4],
    runIds[2],
    runIds[0],
  ]);
  assert.deepEqual(await runs(`state_of=start&state=${encodeURIComponent('$.n exists')}`), []);
  assert.deepEqual(
    await runs(
      `workflow=Beta&state=${encodeURIComponent('$.n > 3')}&state=${encodeURIComponent('$.tags contains "t5"')}`,
    ),
    [runIds[5]],
  );
  assert.deepEqual(await runs('from=2025-06-04T01:20:01Z&to=2025-06-04T01:20:03Z'), [runIds[2], runIds[1]]);
  assert.deepEqual(await runs('min_ms=1000&max_ms=1000&workflow=Beta'), [runIds[5], runIds[4], runIds[3]]);
  assert.deepEqual(await runs('min_ms=1000.5'), []);
  // Runs 4 and 5 start at the same instant: the cursor's span id decides.
  const positive = `state=${encodeURIComponent('$.n > 0')}`;
  const all = await runs(positive);
  assert.deepEqual(all, [runIds[5], runIds[4], runIds[3], runIds[2], runIds[1]]);
  const first = (await get(`/otel/service/svc/workflow_runs?${positive}&limit=1`)).body as {
    span_id: string;
    start_time: string;
  }[];
  const second = await runs(
    `${positive}&limit=1&before=${first[0]!.start_time}&before_span_id=${first[0]!.span_id}`,
  );
  assert.deepEqual([first[0]!.span_id, ...second], all.slice(0, 2));
});

test('bad input is a 400 whose message names the field', async () => {
  const cases: [string, RegExp][] = [
    [`state=${encodeURIComponent('$.a ~ 1')}`, /^state/],
    [`state=${encodeURIComponent('$..a = 1')}`, /^state: invalid JSON path/],
    [`state=${encodeURIComponent('$.a = 1')}&state=${encodeURIComponent('$.b = x')}`, /^state\[1\]/],
    [`state=${encodeURIComponent('$.a < "x"')}`, /^state: < compares with a number/],
    ['state_of=middle', /state_of/],
    ['from=yesterday', /^from must be an RFC 3339/],
    ['to=2025-13-01T00:00:00Z', /^to must be/],
    ['from=2025-06-05T00:00:00Z&to=2025-06-04T00:00:00Z', /^from must be before to/],
    ['min_ms=-1', /min_ms/],
    ['min_ms=abc', /min_ms/],
    ['min_ms=5&max_ms=4', /^min_ms/],
    [`workflow=${'w'.repeat(1025)}`, /workflow/],
    [Array.from({ length: 21 }, (_, i) => `node=N${i}`).join('&'), /node/],
    [
      [
        ...Array.from({ length: 11 }, (_, i) => `node=N${i}`),
        ...Array.from({ length: 10 }, () => 'not_node=X'),
      ].join('&'),
      /at most 20 conditions/,
    ],
    ['limit=0', /limit/],
    ['before_span_id=zz', /before_span_id/],
  ];
  for (const [query, message] of cases) {
    const { status, body } = await get(`/otel/service/svc/workflow_runs?${query}`);
    assert.equal(status, 400, query);
    const text = (body as { message: string }).message.replace(/^Invalid request: querystring\//, '');
    assert.match(text, message, query);
  }
});

test('hostile strings find nothing or are refused, and the store is intact', async () => {
  for (const hostile of ["'; DROP TABLE spans; --", '" OR 1=1 --', '\u0000', 'ü🚀\u202e', "\\'"]) {
    const value = encodeURIComponent(hostile);
    assert.deepEqual(await runs(`workflow=${value}&node=${value}&failed_node=${value}`), []);
    assert.deepEqual(await runs(`state=${encodeURIComponent(`$.n = ${JSON.stringify(hostile)}`)}`), []);
    const path = await get(
      `/otel/service/svc/workflow_runs?state=${encodeURIComponent(`$.${hostile} exists`)}`,
    );
    assert.equal(path.status, 400);
  }
  assert.deepEqual(await runs(''), [runIds[5], runIds[4], runIds[3], runIds[2], runIds[1], runIds[0]]);
});

test('the route needs a session and is documented in /openapi.json', async () => {
  const denied = await fetch(`${server.url}/otel/service/svc/workflow_runs`);
  assert.equal(denied.status, 401);
  const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
  };
  const names = spec.paths['/otel/service/{service_name}/workflow_runs']?.get?.parameters?.map((p) => p.name);
  for (const name of [
    'workflow',
    'node',
    'not_node',
    'failed_node',
    'min_ms',
    'max_ms',
    'state',
    'state_of',
    'from',
    'to',
  ]) {
    assert.ok(names?.includes(name), name);
  }
});
