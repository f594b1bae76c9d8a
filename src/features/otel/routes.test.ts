// Every endpoint against a small data set with known answers, through real HTTP and a real DuckDB file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SpanRow } from '../../spans/rows.ts';
import { CompactSpan, Service, Span, SpanSummary, StatePatch, WaterfallSpan } from './schemas.ts';
import {
  hexId,
  LLM_ATTRIBUTES,
  type OtelTestServer,
  patchRow,
  SECOND,
  spanRow,
  startOtelServer,
  T0,
} from './test_helpers.ts';

const UNICODE = 'カスタマーサポート 🤖';
const AWKWARD = 'a/b c%d?e#f&g=h+i';
const path = (service: string, list: string) => `/otel/service/${encodeURIComponent(service)}/${list}`;
const ids = (spans: unknown) => (spans as { span_id: string }[]).map((s) => s.span_id);

// Traces (t = trace id, r = root span id):
// 1 alpha, workflow root at +10 s with a node, a subflow, and an LLM span that belongs to beta.
// 2 alpha, workflow root at +20 s; its only OpenInference span is a CHAIN, not an LLM.
// 3 alpha, workflow root at +30 s with a GenAI span (gen_ai.operation.name) in alpha.
// 4 beta, a plain (non-Junjo) root at +40 s whose child is a workflow span.
// 5 alpha, workflow root at +50 s; its LLM span (gamma) arrives in a LATER batch than the root.
// 6 alpha, workflow root at +60 s; its LLM span arrives in an EARLIER batch than the root.
// 7 UNICODE root at +70 s, 8 AWKWARD root at +80 s.
const t = (n: number) => hexId(n, 32);
const s = (n: number) => hexId(n, 16);
const root = (n: number, service: string, type = 'workflow') =>
  spanRow({ trace: t(n), span: s(n * 100), service, start: T0 + BigInt(n * 10) * SECOND, type });
const child = (n: number, k: number, service: string, extra: Partial<Parameters<typeof spanRow>[0]> = {}) =>
  spanRow({
    trace: t(n),
    span: s(n * 100 + k),
    parent: s(n * 100),
    service,
    start: T0 + BigInt(n * 10) * SECOND + BigInt(k) * 100_000n,
    type: 'node',
    ...extra,
  });

const trace1 = [
  root(1, 'alpha'),
  child(1, 1, 'alpha'),
  child(1, 2, 'alpha', { type: 'subflow' }),
  child(1, 3, 'beta', { type: '', parent: s(101), attributes: LLM_ATTRIBUTES }),
];
const trace2 = [
  root(2, 'alpha'),
  child(2, 1, 'alpha', { attributes: { 'openinference.span.kind': 'CHAIN' } }),
];
const trace3 = [
  root(3, 'alpha'),
  child(3, 1, 'alpha', { type: '', attributes: { 'gen_ai.operation.name': 'chat' } }),
];
const trace4 = [root(4, 'beta', ''), child(4, 1, 'beta', { type: 'workflow' })];
const trace5Root = root(5, 'alpha');
const trace5Llm = child(5, 1, 'gamma', { type: '', attributes: LLM_ATTRIBUTES });
const trace6Root = root(6, 'alpha');
const trace6Llm = child(6, 1, 'alpha', { type: '', attributes: LLM_ATTRIBUTES });
const trace7 = [root(7, UNICODE)];
const trace8 = [root(8, AWKWARD)];

const patchSpan = trace1[1]!;
const patches = [
  patchRow({ id: 'p-late', span: patchSpan, at: T0 + 12n * SECOND, store: 'store_x' }),
  patchRow({ id: 'p-early', span: patchSpan, at: T0 + 11n * SECOND, store: 'store_y' }),
  patchRow({ id: 'p-tie-b', span: patchSpan, at: T0 + 13n * SECOND, store: 'store_x' }),
  patchRow({ id: 'p-tie-a', span: patchSpan, at: T0 + 13n * SECOND, store: 'store_x' }),
];

let server: OtelTestServer;

before(async () => {
  server = await startOtelServer();
  await server.insert({
    spans: [...trace1, ...trace2, ...trace3, ...trace4, trace5Root, trace6Llm],
    patches,
  });
  await server.insert({ spans: [trace5Llm, trace6Root, ...trace7, ...trace8] });
});
after(() => server.close());

describe('service lists', () => {
  test('span_service_names: every service once, in ascending (byte) order', async () => {
    const { status, body } = await server.get('/otel/span_service_names');
    assert.equal(status, 200);
    assert.deepEqual(body, [AWKWARD, 'alpha', 'beta', 'gamma', UNICODE]);
    assert.deepEqual((await server.get('/otel/span-service-names')).body, body);
  });

  test('services: span and trace counts and the newest span start per service', async () => {
    const { status, body } = await server.get('/otel/services');
    assert.equal(status, 200);
    assert.ok(Value.Check(Type.Array(Service), body));
    const alpha = (body as Service[]).find((row) => row.service_name === 'alpha');
    assert.deepEqual(alpha, {
      service_name: 'alpha',
      span_count: 10,
      trace_count: 5,
      last_seen: '2025-06-04T01:21:00.100000Z',
    });
    const beta = (body as Service[]).find((row) => row.service_name === 'beta');
    assert.deepEqual(beta && [beta.span_count, beta.trace_count], [3, 1]);
  });
});

describe('root spans', () => {
  test('only root spans of the service, newest first', async () => {
    const { status, body } = await server.get(path('alpha', 'root_spans'));
    assert.equal(status, 200);
    assert.ok(Value.Check(Type.Array(Span), body));
    assert.deepEqual(ids(body), [s(600), s(500), s(300), s(200), s(100)]);
    assert.deepEqual((await server.get(path('alpha', 'root-spans'))).body, body);
  });

  test('a root that is not a workflow is listed', async () => {
    assert.deepEqual(ids((await server.get(path('beta', 'root_spans'))).body), [s(400)]);
  });

  test('filtered: traces with an LLM span in any service, whichever arrived first', async () => {
    const { status, body } = await server.get(path('alpha', 'root_spans_filtered'));
    assert.equal(status, 200);
    // 1: LLM span in beta; 3: GenAI span; 5: LLM after the root; 6: LLM before it. Not 2 (CHAIN).
    assert.deepEqual(ids(body), [s(600), s(500), s(300), s(100)]);
    assert.deepEqual((await server.get(path('alpha', 'root-spans-filtered'))).body, body);
    assert.deepEqual((await server.get(path('beta', 'root_spans_filtered'))).body, []);
  });

  test('the span JSON is the stored row', async () => {
    const [span] = (await server.get(path('alpha', 'root_spans?limit=1'))).body as Span[];
    assert.deepEqual(span, expectedJson(trace6Root));
  });

  test('unicode and URL-encoded service names match exactly', async () => {
    assert.deepEqual(ids((await server.get(path(UNICODE, 'root_spans'))).body), [s(700)]);
    assert.deepEqual(ids((await server.get(path(AWKWARD, 'root_spans'))).body), [s(800)]);
    assert.deepEqual((await server.get(path('a', 'root_spans'))).body, []);
    assert.deepEqual((await server.get(path('unknown', 'root_spans'))).body, []);
  });
});

describe('workflow spans', () => {
  test('workflow spans of the service, newest first, subflows excluded', async () => {
    const { status, body } = await server.get(`/otel/spans/type/workflow/alpha`);
    assert.equal(status, 200);
    assert.deepEqual(ids(body), [s(600), s(500), s(300), s(200), s(100)]);
  });

  test('view=summary: the same runs and pages, each only its summary fields', async () => {
    const full = (await server.get('/otel/spans/type/workflow/alpha?limit=2')).body as Span[];
    const { status, body } = await server.get('/otel/spans/type/workflow/alpha?limit=2&view=summary');
    assert.equal(status, 200);
    assert.ok(Value.Check(Type.Array(SpanSummary), body));
    assert.deepEqual(
      body,
      full.map((span) => Value.Clean(SpanSummary, structuredClone(span))),
      'each summary is its whole span, cut down',
    );
    assert.ok(!('attributes_json' in (body as SpanSummary[])[0]!));
    const last = full.at(-1)!;
    const next = await server.get(
      `/otel/spans/type/workflow/alpha?view=summary&before=${last.start_time}&before_span_id=${last.span_id}`,
    );
    assert.deepEqual(ids(next.body), [s(300), s(200), s(100)]);
    const explicit = await server.get('/otel/spans/type/workflow/alpha?limit=2&view=full');
    assert.deepEqual(explicit.body, full, 'view=full is the default shape');
  });

  test('a workflow span that is not a root is listed', async () => {
    assert.deepEqual(ids((await server.get('/otel/spans/type/workflow/beta')).body), [s(401)]);
    assert.deepEqual(
      ids((await server.get(`/otel/spans/type/workflow/${encodeURIComponent(UNICODE)}`)).body),
      [s(700)],
    );
  });
});

describe('one trace', () => {
  test('nested_spans: every span of the trace, any service, newest first', async () => {
    const { status, body } = await server.get(`/otel/trace/${t(1)}/nested_spans`);
    assert.equal(status, 200);
    assert.ok(Value.Check(Type.Array(Span), body));
    assert.deepEqual(ids(body), [s(103), s(102), s(101), s(100)]);
    assert.deepEqual(
      (body as Span[]).map((span) => span.service_name),
      ['beta', 'alpha', 'alpha', 'alpha'],
    );
    assert.deepEqual((await server.get(`/otel/trace/${t(1)}/nested-spans`)).body, body);
  });

  test('an unknown trace is an empty list; upper-case ids are read as lower case', async () => {
    assert.deepEqual((await server.get(`/otel/trace/${t(999)}/nested_spans`)).body, []);
    const upper = await server.get(`/otel/trace/${t(1).toUpperCase()}/nested_spans`);
    assert.equal((upper.body as Span[]).length, 4);
  });

  test('compact: the spans of nested_spans, in its order, without attributes; 404 when unknown', async () => {
    const { status, body } = await server.get(`/otel/trace/${t(1)}/compact`);
    assert.equal(status, 200);
    assert.ok(Value.Check(Type.Array(CompactSpan), body));
    const full = (await server.get(`/otel/trace/${t(1)}/nested_spans`)).body as Span[];
    const compact = body as CompactSpan[];
    assert.deepEqual(ids(compact), ids(full));
    for (const [i, span] of compact.entries()) {
      const { attributes_json, events_json, links_json, trace_flags, trace_state, ...shared } = full[i]!;
      const { has_exception, is_llm, state_events, junjo_attributes, ...rest } = span;
      assert.deepEqual(rest, shared, 'every column they share reads the same');
      assert.equal(has_exception, false);
      assert.equal(is_llm, span.span_id === s(103), 'only the OpenInference LLM span is an LLM span');
    }
    assert.ok(!('attributes_json' in compact[0]!));
    const missing = await server.get(`/otel/trace/${t(999)}/compact`);
    assert.equal(missing.status, 404);
    assert.match((missing.body as { message: string }).message, /not found/);
    const upper = await server.get(`/otel/trace/${t(1).toUpperCase()}/compact`);
    assert.deepEqual(upper.body, body);
  });

  test('compact?view=waterfall: the same spans with only the fields the waterfall draws', async () => {
    const { status, body } = await server.get(`/otel/trace/${t(1)}/compact?view=waterfall`);
    assert.equal(status, 200);
    const compact = (await server.get(`/otel/trace/${t(1)}/compact?view=debugger`)).body as CompactSpan[];
    assert.deepEqual(
      body,
      compact.map((span) => Value.Clean(WaterfallSpan, structuredClone(span))),
      'each waterfall span is its compact span, cut down',
    );
    assert.ok(!('state_events' in (body as WaterfallSpan[])[0]!));
    assert.equal((await server.get(`/otel/trace/${t(999)}/compact?view=waterfall`)).status, 404);
  });

  test('span: the one span, or 404 with a message', async () => {
    const found = await server.get(`/otel/trace/${t(3)}/span/${s(301)}`);
    assert.equal(found.status, 200);
    assert.deepEqual(found.body, expectedJson(trace3[1]!));
    const upper = await server.get(`/otel/trace/${t(3).toUpperCase()}/span/${s(301).toUpperCase()}`);
    assert.deepEqual(upper.body, found.body);
    for (const missing of [`/otel/trace/${t(3)}/span/${s(999)}`, `/otel/trace/${t(999)}/span/${s(301)}`]) {
      const response = await server.get(missing);
      assert.equal(response.status, 404);
      assert.match((response.body as { message: string }).message, /not found/);
    }
  });

  test('state_patches: by event time, ties in patch id order, optionally one store', async () => {
    const all = await server.get(`/otel/trace/${t(1)}/state_patches`);
    assert.equal(all.status, 200);
    assert.ok(Value.Check(Type.Array(StatePatch), all.body));
    const patchIds = (body: unknown) => (body as StatePatch[]).map((p) => p.patch_id);
    assert.deepEqual(patchIds(all.body), ['p-early', 'p-late', 'p-tie-a', 'p-tie-b']);
    const [first] = all.body as StatePatch[];
    assert.equal(first?.event_time, '2025-06-04T01:20:11.000000Z');
    assert.deepEqual(first?.patch_json, [{ op: 'replace', path: '/count', value: 1 }]);
    const storeX = await server.get(`/otel/trace/${t(1)}/state_patches?store_id=store_x`);
    assert.deepEqual(patchIds(storeX.body), ['p-late', 'p-tie-a', 'p-tie-b']);
    assert.deepEqual((await server.get(`/otel/trace/${t(1)}/state_patches?store_id=nope`)).body, []);
    assert.deepEqual((await server.get(`/otel/trace/${t(2)}/state_patches`)).body, []);
  });
});

describe('bad input', () => {
  const badRequests = [
    `/otel/trace/${t(1).slice(1)}/nested_spans`,
    `/otel/trace/${t(1)}0/nested_spans`,
    `/otel/trace/${'g'.repeat(32)}/nested_spans`,
    `/otel/trace/${t(1).slice(1)}/compact`,
    `/otel/trace/${t(1)}/compact?view=everything`,
    `/otel/trace/${t(1)}/span/${s(100).slice(1)}`,
    `/otel/trace/${t(1)}/span/${'x'.repeat(16)}`,
    `/otel/trace/${encodeURIComponent(`${t(1)}' OR 1=1 --`)}/state_patches`,
    `${path('alpha', 'root_spans')}?limit=0`,
    `${path('alpha', 'root_spans')}?limit=10001`,
    `${path('alpha', 'root_spans')}?limit=abc`,
    `${path('alpha', 'root_spans')}?limit=1.5`,
    `${path('alpha', 'root_spans')}?before=yesterday`,
    `${path('alpha', 'root_spans')}?before=2025-06-04T01:20:30.1234567Z`,
    `${path('alpha', 'root_spans')}?before_span_id=${s(1)}`,
    `${path('alpha', 'root_spans')}?before=2025-06-04T01:20:30Z&before_span_id=xyz`,
    `/otel/spans/type/workflow/alpha?limit=-1`,
    `/otel/spans/type/workflow/alpha?view=compact`,
    `/otel/spans/type/workflow/alpha?view=`,
    `/otel/spans/type/workflow/alpha?view=summary&limit=0`,
  ];
  for (const url of badRequests) {
    test(`400 with a message: ${url}`, async () => {
      const { status, body } = await server.get(url);
      assert.equal(status, 400);
      assert.equal(typeof (body as { message: unknown }).message, 'string');
    });
  }

  test('injection strings are plain values: nothing matches and nothing changes', async () => {
    const before = (await server.get('/otel/services')).body;
    for (const evil of [
      `alpha' OR '1'='1`,
      `alpha"; DROP TABLE spans; --`,
      `%' --`,
      `\\'; DELETE FROM spans; --`,
    ]) {
      assert.deepEqual((await server.get(path(evil, 'root_spans'))).body, [], evil);
      assert.deepEqual((await server.get(path(evil, 'root_spans_filtered'))).body, []);
      assert.deepEqual((await server.get(`/otel/spans/type/workflow/${encodeURIComponent(evil)}`)).body, []);
      const patchesOf = await server.get(
        `/otel/trace/${t(1)}/state_patches?store_id=${encodeURIComponent(evil)}`,
      );
      assert.deepEqual(patchesOf.body, []);
    }
    assert.deepEqual((await server.get('/otel/services')).body, before);
    assert.equal(((await server.get(`/otel/trace/${t(1)}/nested_spans`)).body as Span[]).length, 4);
  });
});

/** What the API must answer for a stored row (api.md §5.1). */
function expectedJson(row: SpanRow): Span {
  const iso = (micros: bigint) =>
    `${new Date(Number(micros / 1000n)).toISOString().slice(0, -1)}${String(micros % 1000n).padStart(3, '0')}Z`;
  return {
    ...row,
    start_time: iso(row.start_time),
    end_time: iso(row.end_time),
    attributes_json: JSON.parse(row.attributes_json),
    events_json: JSON.parse(row.events_json),
    links_json: JSON.parse(row.links_json),
    junjo_wf_state_start: JSON.parse(row.junjo_wf_state_start),
    junjo_wf_state_end: JSON.parse(row.junjo_wf_state_end),
    junjo_wf_graph_structure: JSON.parse(row.junjo_wf_graph_structure),
  };
}
