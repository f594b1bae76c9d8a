// Default caps, `limit`, and keyset paging (`before` + `before_span_id`) across every list, with
// many spans sharing one start_time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SpanRow } from '../../spans/rows.ts';
import { formatTimestamp } from '../../spans/span_json.ts';
import type { Span } from './schemas.ts';
import {
  hexId,
  LLM_ATTRIBUTES,
  type OtelTestServer,
  SECOND,
  spanRow,
  startOtelServer,
  T0,
} from './test_helpers.ts';

const SERVICE = 'pages';
const ROOTS = 1200;
const TIED = 400;

// Root workflow spans: the first TIED share one start_time, the rest are SPACING apart (so pages
// cross many hours of span_list_hours); every third trace also has an LLM span. Span ids are
// not in time order.
const SPACING = 97n * SECOND;
const roots: SpanRow[] = [];
/** Insert batches of 300 traces each. */
const batches: SpanRow[][] = [];
for (let i = 0; i < ROOTS; i++) {
  if (i % 300 === 0) batches.push([]);
  const batch = batches.at(-1)!;
  const start = i < TIED ? T0 : T0 + BigInt(i) * SPACING;
  const root = spanRow({
    trace: hexId(i, 32),
    span: hexId((i * 7919) % 100_000, 16),
    service: SERVICE,
    start,
    type: 'workflow',
  });
  roots.push(root);
  batch.push(root);
  if (i % 3 === 0) {
    batch.push(
      spanRow({
        trace: root.trace_id,
        span: hexId(200_000 + i, 16),
        parent: root.span_id,
        service: 'llm-service',
        start: start + 1000n,
        attributes: LLM_ATTRIBUTES,
      }),
    );
  }
}
const newestFirst = (rows: SpanRow[]) =>
  [...rows]
    .sort((a, b) =>
      a.start_time === b.start_time
        ? b.span_id.localeCompare(a.span_id)
        : a.start_time < b.start_time
          ? 1
          : -1,
    )
    .map((row) => row.span_id);

const LISTS = {
  root_spans: { url: `/otel/service/${SERVICE}/root_spans`, expected: newestFirst(roots) },
  root_spans_filtered: {
    url: `/otel/service/${SERVICE}/root_spans_filtered`,
    expected: newestFirst(roots.filter((_, i) => i % 3 === 0)),
  },
  workflow: { url: `/otel/spans/type/workflow/${SERVICE}`, expected: newestFirst(roots) },
};

let server: OtelTestServer;

before(async () => {
  server = await startOtelServer();
  for (const spans of batches) await server.insert({ spans });
});
after(() => server.close());

async function list(url: string): Promise<Span[]> {
  const { status, body } = await server.get(url);
  assert.equal(status, 200, JSON.stringify(body));
  return body as Span[];
}

for (const [name, { url, expected }] of Object.entries(LISTS)) {
  describe(name, () => {
    test('default cap 500, newest first, ties broken by span id', async () => {
      assert.deepEqual(
        (await list(url)).map((s) => s.span_id),
        expected.slice(0, 500),
      );
    });

    test('limit takes up to 10000', async () => {
      assert.deepEqual(
        (await list(`${url}?limit=10000`)).map((s) => s.span_id),
        expected,
      );
      assert.equal((await list(`${url}?limit=1`)).length, 1);
    });

    test('pages of 37 through the cursor cover every span once, in order', async () => {
      const seen: string[] = [];
      let query = '?limit=37';
      for (;;) {
        const page = await list(url + query);
        if (page.length === 0) break;
        assert.ok(page.length <= 37);
        seen.push(...page.map((s) => s.span_id));
        const last = page.at(-1)!;
        query = `?limit=37&before=${encodeURIComponent(last.start_time)}&before_span_id=${last.span_id}`;
      }
      assert.equal(new Set(seen).size, seen.length, 'no span twice');
      assert.deepEqual(seen, expected);
    });
  });
}

describe('cursor details', () => {
  test('before alone skips every span at that instant', async () => {
    const tied = '2025-06-04T01:20:00.000000Z';
    assert.deepEqual(await list(`${LISTS.root_spans.url}?limit=10000&before=${tied}`), []);
    const justAfter400 = formatTimestamp(T0 + 400n * SPACING + SECOND);
    const next = await list(`${LISTS.root_spans.url}?limit=10000&before=${justAfter400}`);
    assert.deepEqual(
      next.map((s) => s.span_id),
      LISTS.root_spans.expected.slice(ROOTS - 401),
    );
  });

  test('before accepts an offset and upper-case span ids', async () => {
    const expected = await list(
      `${LISTS.root_spans.url}?limit=5&before=2025-06-04T01:20:00Z&before_span_id=00000000000003e8`,
    );
    const other = await list(
      `${LISTS.root_spans.url}?limit=5&before=${encodeURIComponent('2025-06-04T03:20:00+02:00')}&before_span_id=00000000000003E8`,
    );
    assert.equal(expected.length, 5);
    assert.deepEqual(other, expected);
    for (const span of expected) assert.ok(span.span_id < '00000000000003e8');
  });
});
