import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { spanRowFromResult, statePatchRowFromResult } from '../db_duckdb/result_rows.ts';
import { Span, SpanSummary, StatePatch } from '../features/otel/schemas.ts';
import {
  formatTimestamp,
  jsonArray,
  jsonArrayBytes,
  markLaidOutJsonArray,
  parseTimestamp,
  renderSpan,
  spanHeadBytes,
  statePatchJson,
} from './span_json.ts';

const spanJson = (row: unknown[]) => renderSpan(spanRowFromResult(row));

describe('formatTimestamp', () => {
  test('always six fraction digits and Z, trailing zeros kept', () => {
    assert.equal(formatTimestamp(1760290428123456n), '2025-10-12T17:33:48.123456Z');
    assert.equal(formatTimestamp(1760290428500000n), '2025-10-12T17:33:48.500000Z');
    assert.equal(formatTimestamp(1760290428000000n), '2025-10-12T17:33:48.000000Z');
    assert.equal(formatTimestamp(0n), '1970-01-01T00:00:00.000000Z');
  });

  test('instants before 1970 keep a positive fraction', () => {
    assert.equal(formatTimestamp(-1n), '1969-12-31T23:59:59.999999Z');
    assert.equal(formatTimestamp(-1_000_000n), '1969-12-31T23:59:59.000000Z');
  });

  test('consecutive calls in different seconds each get their own second', () => {
    const second = 1760290428000000n;
    assert.equal(formatTimestamp(second + 999_999n), '2025-10-12T17:33:48.999999Z');
    assert.equal(formatTimestamp(second + 1_000_000n), '2025-10-12T17:33:49.000000Z');
    assert.equal(formatTimestamp(second - 1n), '2025-10-12T17:33:47.999999Z');
    assert.equal(formatTimestamp(second + 5n), '2025-10-12T17:33:48.000005Z');
  });

  test('instants too far from 1970 for a double keep every microsecond', () => {
    const far = 9_007_199_254_740_993n; // 2^53 + 1 µs, in 2255
    assert.equal(formatTimestamp(far), '2255-06-05T23:47:34.740993Z');
    assert.equal(formatTimestamp(-far), '1684-07-28T00:12:25.259007Z');
  });
});

describe('parseTimestamp', () => {
  test('reads what formatTimestamp writes, to the microsecond', () => {
    for (const micros of [1760290428123456n, 1760290428000000n, 1n, -1n]) {
      assert.equal(parseTimestamp(formatTimestamp(micros)), micros);
    }
  });

  test('accepts fewer fraction digits, no fraction, offsets and sub-microsecond zeros', () => {
    assert.equal(parseTimestamp('2025-10-12T17:33:48Z'), 1760290428000000n);
    assert.equal(parseTimestamp('2025-10-12T17:33:48.1Z'), 1760290428100000n);
    assert.equal(parseTimestamp('2025-10-12T19:33:48.123+02:00'), 1760290428123000n);
    assert.equal(parseTimestamp('2025-10-12T17:03:48.123456-00:30'), 1760290428123456n);
    assert.equal(parseTimestamp('2025-10-12T17:33:48.123456000Z'), 1760290428123456n);
  });

  test('refuses everything else', () => {
    for (const text of [
      '',
      'yesterday',
      '2025-10-12',
      '2025-10-12 17:33:48Z',
      '2025-10-12T17:33:48',
      '2025-13-12T17:33:48Z',
      '2025-02-30T17:33:48Z',
      '2025-10-12T24:00:00Z',
      '2025-10-12T17:33:48.1234567Z',
      '2025-10-12T17:33:48.123456789Z',
      '1760290428123456',
      "2025-10-12T17:33:48Z' OR 1=1 --",
    ]) {
      assert.equal(parseTimestamp(text), null, text);
    }
  });
});

describe('renderSpan of a result row', () => {
  const row = [
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '00f067aa0ba902b7',
    null,
    'my-app "quoted" \\ ✓',
    'SampleWorkflow',
    'INTERNAL',
    1760290428123456n,
    1760290429500000n,
    'STATUS_CODE_UNSET',
    '',
    '{"junjo.workflow.node.count":3,"nested":{"a":[1,2]}}',
    '[{"name":"set_state","timeUnixNano":1760290428123456789,"droppedAttributesCount":0,"attributes":{}}]',
    '[]',
    257,
    null,
    'wf_abc',
    '',
    'workflow',
    '{"items":[]}',
    '{\n  "items": ["a"]\n}',
    '{"nodes":[],"edges":[]}',
    'store_123',
  ];

  test('is the §5.1 object: JSON columns as values, timestamps with microseconds', () => {
    const text = spanJson(row);
    assert.match(text, /"timeUnixNano":1760290428123456789,/);
    const span = JSON.parse(text);
    assert.deepEqual(span, {
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      parent_span_id: null,
      service_name: 'my-app "quoted" \\ ✓',
      name: 'SampleWorkflow',
      kind: 'INTERNAL',
      start_time: '2025-10-12T17:33:48.123456Z',
      end_time: '2025-10-12T17:33:49.500000Z',
      status_code: 'STATUS_CODE_UNSET',
      status_message: '',
      attributes_json: { 'junjo.workflow.node.count': 3, nested: { a: [1, 2] } },
      events_json: [
        {
          name: 'set_state',
          timeUnixNano: Number(1760290428123456789n), // JSON.parse rounds it; the text has every digit
          droppedAttributesCount: 0,
          attributes: {},
        },
      ],
      links_json: [],
      trace_flags: 257,
      trace_state: null,
      junjo_id: 'wf_abc',
      junjo_parent_id: '',
      junjo_span_type: 'workflow',
      junjo_wf_state_start: { items: [] },
      junjo_wf_state_end: { items: ['a'] },
      junjo_wf_graph_structure: { nodes: [], edges: [] },
      junjo_wf_store_id: 'store_123',
    });
    assert.ok(Value.Check(Span, span));
  });

  test('NULL columns read as their empty values', () => {
    const nulls = row.map((value, i) => (i < 2 || i === 6 || i === 7 ? value : null));
    const span = JSON.parse(spanJson(nulls));
    assert.equal(span.name, '');
    assert.deepEqual(span.attributes_json, {});
    assert.deepEqual(span.events_json, []);
    assert.deepEqual(span.junjo_wf_state_start, {});
    assert.equal(span.trace_flags, 0);
    assert.equal(span.parent_span_id, null);
    assert.ok(Value.Check(Span, span));
  });

  test('arrays of spans and state patches are JSON arrays of the schemas', () => {
    assert.deepEqual(JSON.parse(jsonArray([])), []);
    const patch = JSON.parse(
      statePatchJson(
        statePatchRowFromResult([
          'p1',
          'svc',
          '4bf92f3577b34da6a3ce929d0e0e4736',
          '00f067aa0ba902b7',
          '',
          'node_1',
          1760290428123456n,
          '[{"op":"replace","path":"/count","value":1}]',
          'store_123',
        ]),
      ),
    );
    assert.equal(patch.event_time, '2025-10-12T17:33:48.123456Z');
    assert.deepEqual(patch.patch_json, [{ op: 'replace', path: '/count', value: 1 }]);
    assert.ok(Value.Check(StatePatch, patch));
    assert.equal(JSON.parse(jsonArray([spanJson(row), spanJson(row)])).length, 2);
  });
});

describe('spanHeadBytes', () => {
  const row = (name: string, status: string) =>
    spanRowFromResult([
      '4bf92f3577b34da6a3ce929d0e0e4736',
      '00f067aa0ba902b7',
      'aaf067aa0ba902b7',
      'svc',
      name,
      'INTERNAL',
      1760290428123456n,
      1760290429500000n,
      'STATUS_CODE_ERROR',
      status,
      '{"big":"x"}',
      '[]',
      '[]',
      1,
      null,
      'wf',
      '',
      'workflow',
      '{"a":1}',
      '{"a":2}',
      '{"nodes":[]}',
      'store',
    ]);
  const summaryOf = (text: string) => Value.Clean(SpanSummary, JSON.parse(text)) as SpanSummary;
  const head = (text: string) => JSON.parse(Buffer.from(spanHeadBytes(Buffer.from(text))).toString('utf8'));

  test("is the rendered span's summary fields, also when a name spells the attributes key", () => {
    for (const [name, status] of [
      ['Plain', ''],
      ['a,"attributes_json":{"x":1}', 'b\\",\\"attributes_json\\":'],
      ['ends in a backslash \\', '\\'],
      ['カスタマー 🤖', '"'],
    ] as const) {
      const text = renderSpan(row(name, status));
      const answer = head(text);
      assert.deepEqual(answer, summaryOf(text), name);
      assert.ok(Value.Check(SpanSummary, answer));
      assert.deepEqual(Object.keys(answer), Object.keys(summaryOf(text)), 'in the same key order');
    }
  });

  test('bytes in another key order are parsed and cut to the same fields', () => {
    const text = renderSpan(row('Reordered', 'ok'));
    const { attributes_json, ...rest } = JSON.parse(text);
    const reordered = JSON.stringify({ attributes_json, ...rest });
    assert.deepEqual(head(reordered), summaryOf(text));
  });
});

describe('jsonArrayBytes', () => {
  const items = ['{"a":1}', '"b"', '[2,3]'];
  const joined = `[${items.join(',')}]`;
  /** The items as views of `text`, which holds `xx${joined}yy`. */
  const itemViews = (text: Buffer) => {
    let offset = 3;
    return items.map((item) => {
      const view = text.subarray(offset, offset + item.length);
      offset += item.length + 1;
      return view;
    });
  };

  test('separate items are joined into a new buffer', () => {
    const separate = items.map((item) => Buffer.from(item));
    const array = jsonArrayBytes(separate);
    assert.equal(array.toString(), joined);
    separate[0]!.fill(0x20);
    assert.equal(array.toString(), joined, 'a copy');
    assert.equal(jsonArrayBytes([]).toString(), '[]');
  });

  test('items laid out as the array in one marked buffer are that array, not a copy', () => {
    // A buffer of its own, as list pages get (Buffer.from of a short text is a view of a shared pool).
    const text = Buffer.allocUnsafeSlow(joined.length + 4);
    text.write(`xx${joined}yy`);
    markLaidOutJsonArray(text);
    const views = itemViews(text);
    const array = jsonArrayBytes(views);
    assert.equal(array.toString(), joined);
    assert.equal(array.buffer, text.buffer);
    // Anything else between or around them, or an item left out, and they are joined anew.
    assert.equal(jsonArrayBytes([views[0]!, views[2]!]).toString(), `[${items[0]},${items[2]}]`);
    assert.equal(jsonArrayBytes(views.slice(0, 2)).toString(), `[${items[0]},${items[1]}]`);
    const spaced = Buffer.from(`[${items.join(', ')}]`);
    const spacedViews = [spaced.subarray(1, 8), spaced.subarray(10, 13), spaced.subarray(15, 20)];
    assert.equal(spacedViews.map(String).join('|'), items.join('|'));
    const rejoined = jsonArrayBytes(spacedViews);
    assert.equal(rejoined.toString(), joined);
    spaced.fill(0x20);
    assert.equal(rejoined.toString(), joined, 'a copy');
  });

  test("the same layout in a buffer nobody marked (e.g. Buffer's pool) is joined anew", () => {
    const text = Buffer.from(`xx${joined}yy`);
    const views = itemViews(text);
    const array = jsonArrayBytes(views);
    assert.equal(array.toString(), joined);
    text.fill(0x20);
    assert.equal(array.toString(), joined, 'a copy');
  });
});
