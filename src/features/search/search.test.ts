// GET /otel/search over real HTTP on a real DuckDB file: every filter and operator in its text form
// with known answers, combinations, time ranges, keyset paging across identical start times, and
// the 400s (naming the field) of bad or hostile input, after which the store is intact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SpanRow } from '../../spans/rows.ts';
import { hexId, type OtelTestServer, SECOND, spanRow, startOtelServer } from '../otel/test_helpers.ts';
import { searchRoutes } from './routes.ts';
import type { SearchResult } from './schemas.ts';

const MINUTE = 60n * SECOND;
const NOW = BigInt(Date.now()) * 1000n;
/** A fixed hour well inside the default 24 hours, so that absolute and default ranges agree. */
const T = NOW - 2n * 60n * MINUTE;

function at(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}

const root = {
  ...spanRow({ trace: hexId(1, 32), span: hexId(1, 16), service: 'shop', start: T, type: 'workflow' }),
  name: 'checkout',
  attributes_json: JSON.stringify({ 'http.method': 'GET', user: 'Ann Lee', 'http.status_code': 200 }),
};
const llm: SpanRow = {
  ...spanRow({
    trace: root.trace_id,
    span: hexId(2, 16),
    parent: root.span_id,
    service: 'shop',
    start: T + 10n * SECOND,
    type: 'node',
  }),
  name: 'call llm',
  end_time: T + 15n * SECOND,
  status_code: 'STATUS_CODE_ERROR',
  attributes_json: JSON.stringify({ 'llm.model_name': 'gemini-2.5-flash', tokens: 1500 }),
};
const small: SpanRow = {
  ...spanRow({
    trace: root.trace_id,
    span: hexId(3, 16),
    parent: root.span_id,
    service: 'shop',
    start: T + 20n * SECOND,
    type: 'node',
  }),
  name: 'call llm',
  attributes_json: JSON.stringify({
    'llm.model_name': 'gpt-4o',
    tokens: 300,
    note: null,
    'tricky.value': "'; DROP TABLE spans; --",
  }),
};
const other: SpanRow = {
  ...spanRow({ trace: hexId(2, 32), span: hexId(4, 16), service: 'shop', start: T + 30n * SECOND }),
  name: 'lookup ✓',
  end_time: T + 32n * SECOND,
  attributes_json: JSON.stringify({ 'http.method': 'POST', 'db.statement': 'SELECT "x"' }),
};
const SPANS = [root, llm, small, other];

let server: OtelTestServer;
before(async () => {
  server = await startOtelServer({ features: (store) => [searchRoutes({ store })] });
  await server.insert({ spans: SPANS });
});
after(() => server.close());

function query(params: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  return `/otel/search?${search}`;
}

async function search(params: Record<string, string | string[]>): Promise<SearchResult[]> {
  const { status, body } = await server.get(query(params));
  assert.equal(status, 200, JSON.stringify(body));
  return body as SearchResult[];
}

/** The names of what a search in `shop`, within the fixtures' hour, finds. */
async function found(params: Record<string, string | string[]>): Promise<string[]> {
  const window = { from: at(T - MINUTE), to: at(T + 59n * MINUTE) };
  return (await search({ service: 'shop', ...window, ...params })).map(
    (r) => `${r.name}#${r.span_id.slice(-1)}`,
  );
}

describe('GET /otel/search', () => {
  test('a result is the span as the trace endpoints show it, plus its trace root', async () => {
    const [first] = await search({
      service: 'shop',
      from: at(T),
      to: at(T + 30n * SECOND),
      name: 'lookup ✓',
    });
    const { body: single } = await server.get(`/otel/trace/${other.trace_id}/span/${other.span_id}`);
    const { trace_root, ...span } = first!;
    assert.deepEqual(span, single);
    assert.deepEqual(trace_root, {
      span_id: other.span_id,
      name: 'lookup ✓',
      service_name: 'shop',
      start_time: (single as { start_time: string }).start_time,
      end_time: (single as { end_time: string }).end_time,
    });
    const [child] = await search({
      service: 'shop',
      from: at(T),
      to: at(T + 59n * MINUTE),
      attr: 'tokens > 1000',
    });
    assert.equal(child!.trace_root?.name, 'checkout', 'a child names the root of its trace');
  });

  test('name, type, status, duration and free text', async () => {
    assert.deepEqual(await found({}), ['lookup ✓#5', 'call llm#4', 'call llm#3', 'checkout#2']);
    assert.deepEqual(await found({ name: 'call llm' }), ['call llm#4', 'call llm#3']);
    assert.deepEqual(await found({ type: 'workflow' }), ['checkout#2']);
    assert.deepEqual(await found({ status: 'error' }), ['call llm#3']);
    assert.deepEqual(await found({ min_ms: '2000' }), ['lookup ✓#5', 'call llm#3']);
    assert.deepEqual(await found({ max_ms: '1000' }), ['call llm#4', 'checkout#2']);
    assert.deepEqual(await found({ min_ms: '1500.5', max_ms: '4000' }), ['lookup ✓#5']);
    assert.deepEqual(await found({ q: 'GEMINI' }), ['call llm#3']);
    assert.deepEqual(await found({ q: 'select "x"' }), ['lookup ✓#5']);
    assert.deepEqual(await found({ q: '✓' }), ['lookup ✓#5']);
    assert.deepEqual(await found({ q: '   ' }), await found({}), 'blank text is no condition');
  });

  test('every attribute operator in its text form, and filters that combine', async () => {
    assert.deepEqual(await found({ attr: 'http.method = GET' }), ['checkout#2']);
    assert.deepEqual(await found({ attr: 'http.method=POST' }), ['lookup ✓#5']);
    assert.deepEqual(await found({ attr: 'http.method != GET' }), ['lookup ✓#5']);
    assert.deepEqual(await found({ attr: 'note exists' }), ['call llm#4']);
    assert.deepEqual(await found({ attr: 'tokens < 1000' }), ['call llm#4']);
    assert.deepEqual(await found({ attr: 'tokens > 1000' }), ['call llm#3']);
    assert.deepEqual(await found({ attr: 'tokens between 300 and 1500' }), ['call llm#4', 'call llm#3']);
    assert.deepEqual(await found({ attr: 'tokens BETWEEN 301 AND 1e4' }), ['call llm#3']);
    assert.deepEqual(await found({ attr: 'user contains LEE' }), ['checkout#2']);
    assert.deepEqual(await found({ attr: 'user = "Ann Lee"' }), ['checkout#2']);
    assert.deepEqual(await found({ attr: 'user = Ann' }), []);
    assert.deepEqual(await found({ attr: "tricky.value = '; DROP TABLE spans; --" }), ['call llm#4']);
    assert.deepEqual(await found({ attr: ['llm.model_name exists', 'tokens > 100'], status: 'error' }), [
      'call llm#3',
    ]);
    assert.deepEqual(await found({ attr: ['http.method exists', 'http.status_code < 300'] }), ['checkout#2']);
    assert.deepEqual(await found({ attr: 'llm.model_name contains gpt', type: 'node', q: 'call' }), [
      'call llm#4',
    ]);
    assert.deepEqual(await found({ attr: 'llm.model_name contains gpt', name: 'checkout' }), []);
  });

  test('time ranges: last, from/to, and the default of the last 24 hours', async () => {
    const recent = [5n, 30n, 5n * 60n, 3n * 24n * 60n].map((minutesAgo, i) =>
      spanRow({
        trace: hexId(10 + i, 32),
        span: hexId(10 + i, 16),
        service: 'clock',
        start: NOW - minutesAgo * MINUTE,
        name: `ago-${minutesAgo}`,
      }),
    );
    await server.insert({ spans: recent });
    const names = async (params: Record<string, string>) =>
      (await search({ service: 'clock', ...params })).map((r) => r.name);
    assert.deepEqual(await names({ last: '15m' }), ['ago-5']);
    assert.deepEqual(await names({ last: '1h' }), ['ago-5', 'ago-30']);
    assert.deepEqual(await names({ last: '24h' }), ['ago-5', 'ago-30', 'ago-300']);
    assert.deepEqual(await names({}), ['ago-5', 'ago-30', 'ago-300']);
    assert.deepEqual(await names({ last: '7d' }), ['ago-5', 'ago-30', 'ago-300', 'ago-4320']);
    assert.deepEqual(await names({ from: at(NOW - 4n * 24n * 60n * MINUTE), to: at(NOW - 60n * MINUTE) }), [
      'ago-300',
      'ago-4320',
    ]);
    assert.deepEqual(
      await names({ to: at(NOW - 10n * MINUTE) }),
      ['ago-30', 'ago-300'],
      'from defaults to a day before to',
    );
  });

  test('pages by keyset across identical start times, and the limit caps a page', async () => {
    const tied = Array.from({ length: 13 }, (_, i) =>
      spanRow({
        trace: hexId(100 + i, 32),
        span: hexId(100 + i, 16),
        service: 'tied',
        start: T + BigInt(i % 2) * SECOND,
      }),
    );
    await server.insert({ spans: tied });
    const expected = tied
      .sort((a, b) =>
        a.start_time === b.start_time
          ? a.span_id > b.span_id
            ? -1
            : 1
          : a.start_time > b.start_time
            ? -1
            : 1,
      )
      .map((s) => s.span_id);
    const seen: string[] = [];
    let cursor: Record<string, string> = {};
    for (;;) {
      const page = await search({ service: 'tied', from: at(T), to: at(T + MINUTE), limit: '5', ...cursor });
      assert.ok(page.length <= 5);
      seen.push(...page.map((r) => r.span_id));
      if (page.length < 5) break;
      const last = page.at(-1)!;
      cursor = { before: last.start_time, before_span_id: last.span_id.toUpperCase() };
    }
    assert.deepEqual(seen, expected);
  });

  test('bad input is a 400 naming the field', async () => {
    const ok = { service: 'shop' };
    const cases: [Record<string, string | string[]>, RegExp][] = [
      [{}, /service/],
      [{ service: '' }, /service/],
      [{ ...ok, status: 'ok' }, /status/],
      [{ ...ok, last: '2h' }, /last/],
      [{ ...ok, last: '1h', from: at(T) }, /last cannot be combined/],
      [{ ...ok, from: 'yesterday' }, /from must be an RFC 3339/],
      [{ ...ok, to: '2025-02-30T00:00:00Z' }, /to must be an RFC 3339/],
      [{ ...ok, from: at(T), to: at(T - SECOND) }, /from must not be after to/],
      [{ ...ok, from: '2025-01-01T00:00:00Z', to: '2025-03-01T00:00:00Z' }, /at most 31 days/],
      [{ ...ok, min_ms: '-1' }, /min_ms/],
      [{ ...ok, min_ms: 'fast' }, /min_ms/],
      [{ ...ok, min_ms: '5', max_ms: '4' }, /min_ms must not exceed max_ms/],
      [{ ...ok, limit: '501' }, /limit/],
      [{ ...ok, limit: '0' }, /limit/],
      [{ ...ok, before_span_id: hexId(1, 16) }, /before_span_id needs before/],
      [{ ...ok, before: 'now' }, /before must be/],
      [{ ...ok, attr: 'tokens ~ 5' }, /attr\[0\] must be one of/],
      [{ ...ok, attr: ['tokens > 1', 'tokens'] }, /attr\[1\] must be one of/],
      [{ ...ok, attr: "x'; DROP TABLE spans; -- = 1" }, /attr\[0\] must be one of/],
      [{ ...ok, attr: "x';DROP = 1" }, /attr\[0\]: attribute key/],
      [{ ...ok, attr: '"http.method" = GET' }, /attr\[0\]: attribute key/],
      [{ ...ok, attr: 'tokens < many' }, /attr\[0\]: many is not a number/],
      [{ ...ok, attr: 'tokens > NaN' }, /attr\[0\]: NaN is not a number/],
      [{ ...ok, attr: 'tokens between 5 and 1' }, /attr\[0\]: `between` needs its lower bound first/],
      [{ ...ok, attr: 'tokens between 5' }, /attr\[0\]: `between` takes/],
      [{ ...ok, attr: 'tokens exists 5' }, /attr\[0\]: `exists` takes no value/],
      [{ ...ok, attr: 'tokens contains' }, /attr\[0\]/],
      [{ ...ok, attr: Array.from({ length: 21 }, () => 'tokens exists') }, /attr/],
      [{ ...ok, attr: `note = ${'x'.repeat(1100)}` }, /attr/],
      [{ ...ok, q: 'y'.repeat(1025) }, /q/],
      [{ ...ok, q: 'a\u0000b' }, /q must not contain NUL/],
      [{ ...ok, name: '\u0000' }, /name must not contain NUL/],
      [{ ...ok, attr: 'user = a\u0000' }, /attr must not contain NUL/],
    ];
    for (const [params, message] of cases) {
      const { status, body } = await server.get(query(params));
      assert.equal(status, 400, `${JSON.stringify(params).slice(0, 80)} → ${status} ${JSON.stringify(body)}`);
      assert.match((body as { message: string }).message, message, JSON.stringify(params).slice(0, 80));
    }
  });

  test('hostile values find nothing, or exactly what holds them, and leave the store intact', async () => {
    for (const hostile of [
      "'; DROP TABLE spans; --",
      '" OR ""="',
      '\\',
      '%_%',
      'ünïcødé ✓ 🚀',
      '\u202e',
      'z'.repeat(1024),
    ]) {
      assert.deepEqual(await found({ name: hostile }), [], hostile);
      assert.deepEqual(await found({ type: hostile }), [], hostile);
      const holder = hostile === "'; DROP TABLE spans; --" ? ['call llm#4'] : [];
      assert.deepEqual(await found({ q: hostile }), holder, hostile);
      assert.deepEqual(await found({ attr: `user = ${hostile}`.slice(0, 1024) }), [], hostile);
      assert.deepEqual(await found({ attr: `user contains ${hostile}`.slice(0, 1024) }), [], hostile);
      assert.deepEqual(await search({ service: hostile }), [], hostile);
    }
    assert.deepEqual(await found({ q: "'; drop table" }), ['call llm#4']);
    assert.equal((await found({})).length, SPANS.length, 'every span is still there');
  });
});
