import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  toExportRequest,
} from '../fixtures/junjo_traces.ts';
import { attributes } from '../fixtures/trace_builder.ts';
import { decodeTraceRequestJson } from '../otlp/decode_json.ts';
import { decodeTraceRequestProtobuf } from '../otlp/decode_protobuf.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from '../otlp/encode.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, Resource, Span, SpanEvent } from '../otlp/types.ts';
import { parseEventsJson } from './event_json.ts';
import type { SpanRow } from './rows.ts';
import {
  checkTraceRequest,
  convertOtlpAttributesToJson,
  MAX_JSON_DEPTH,
  processTraceRequest,
} from './span_processor.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: Buffer.from(TRACE, 'hex'),
    spanId: Buffer.from('00f067aa0ba902b7', 'hex'),
    traceState: '',
    parentSpanId: Buffer.alloc(0),
    flags: 0x101,
    name: 'span',
    kind: 1,
    startTimeUnixNano: 1749000000000000000n,
    endTimeUnixNano: 1749000000900000000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    ...overrides,
  };
}

const resource = (serviceName: string): Resource => ({
  attributes: attributes({ 'service.name': serviceName, 'telemetry.sdk.language': 'python' }),
  droppedAttributesCount: 0,
});

function request(spans: Span[], res: Resource | null = resource('my-ai-workflow')): ExportTraceRequest {
  return {
    resourceSpans: [
      {
        resource: res,
        scopeSpans: [
          {
            scope: { name: 'junjo', version: '', attributes: [], droppedAttributesCount: 0 },
            spans,
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}

function setState(id: string | null, patch: string, time = 1749000000050000000n): SpanEvent {
  return {
    name: 'set_state',
    timeUnixNano: time,
    droppedAttributesCount: 0,
    attributes: attributes({
      ...(id === null ? {} : { id }),
      'junjo.store.name': 'SampleWorkflowStore',
      'junjo.store.id': 'stK9l8M7n6O5p4Q3r2S1t',
      'junjo.store.action': 'set_count',
      'junjo.state_json_patch': patch,
    }),
  };
}

const only = (req: ExportTraceRequest): SpanRow => {
  const out = processTraceRequest(req);
  assert.deepEqual(out.rejected, { count: 0, errors: [] });
  assert.equal(out.spans.length, 1);
  return out.spans[0]!;
};

const spanId = (n: number) => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');

const fixtureRequest = (): ExportTraceRequest =>
  toExportRequest([
    ...legacyWorkflowTrace({ seed: 1, fail: true, largeStateBytes: 50_000 }).spans,
    ...contract2WorkflowTrace({ seed: 2, serviceName: 'カスタマーサポート 🤖' }).spans,
    ...agentTrace({ seed: 3, serviceName: 'support-bot' }).spans,
  ]);

describe('processTraceRequest', () => {
  it('gives identical rows for the protobuf and the JSON encoding of the same request', () => {
    const req = fixtureRequest();
    const fromProtobuf = processTraceRequest(decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(req)));
    const fromJson = processTraceRequest(decodeTraceRequestJson(encodeTraceRequestJson(req)));
    assert.deepStrictEqual(fromJson, fromProtobuf);
    assert.deepStrictEqual(fromProtobuf, processTraceRequest(req));
    assert.equal(fromProtobuf.rejected.count, 0);
    assert.equal(fromProtobuf.spans.length, 12 + 11 + 4);
  });

  it('produces JSON columns that DuckDB’s JSON type accepts', async () => {
    const odd = span({
      spanId: spanId(9),
      attributes: [
        { key: 'nul', value: { type: 'string', value: 'a\u0000b\u001f' } },
        { key: 'huge', value: { type: 'double', value: 1.7976931348623157e308 } },
        { key: 'tiny', value: { type: 'double', value: -5e-324 } },
        { key: 'nan', value: { type: 'double', value: Number.NaN } },
        { key: 'bytes', value: { type: 'bytes', value: Buffer.from([0, 255]) } },
        {
          key: 'nested',
          value: { type: 'array', value: [{ type: 'kvlist', value: [] }, { type: 'empty' }] },
        },
      ],
    });
    const out = processTraceRequest({
      resourceSpans: [...fixtureRequest().resourceSpans, ...request([odd]).resourceSpans],
    });
    const texts = [
      ...out.spans.flatMap((r) => [
        r.attributes_json,
        r.events_json,
        r.links_json,
        r.junjo_wf_state_start,
        r.junjo_wf_state_end,
        r.junjo_wf_graph_structure,
      ]),
      ...out.patches.map((p) => p.patch_json),
    ];
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run('CREATE TABLE j (doc VARCHAR)');
      const appender = await conn.createAppender('j');
      for (const text of texts) {
        appender.appendVarchar(text);
        appender.endRow();
      }
      appender.closeSync();
      // The cast validates every document; one bad text fails the whole statement.
      const reader = await conn.runAndReadAll('SELECT count(CAST(doc AS JSON)) FROM j');
      assert.equal(Number(reader.getRows()[0]![0]), texts.length);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('maps ids to lowercase hex, an empty parent to null, trace state and flags', () => {
    const root = only(request([span()]));
    assert.equal(root.trace_id, TRACE);
    assert.equal(root.span_id, '00f067aa0ba902b7');
    assert.equal(root.parent_span_id, null);
    assert.equal(root.trace_state, null);
    assert.equal(root.trace_flags, 0x101);
    const child = only(
      request([
        span({ parentSpanId: Buffer.from('A1A1A1A1A1A1A1A1', 'hex'), traceState: 'congo=t61rcWkgMzE' }),
      ]),
    );
    assert.equal(child.parent_span_id, 'a1a1a1a1a1a1a1a1');
    assert.equal(child.trace_state, 'congo=t61rcWkgMzE');
    assert.equal(only(request([span({ parentSpanId: Buffer.alloc(8) })])).parent_span_id, null);
  });

  it('converts nanosecond times to microseconds without float rounding; event times stay exact JSON numbers', () => {
    const row = only(
      request([
        span({
          startTimeUnixNano: 1749000000123456789n,
          endTimeUnixNano: 1749000000999999999n,
          events: [
            { name: 'tick', timeUnixNano: 1749000000987654321n, attributes: [], droppedAttributesCount: 1 },
          ],
        }),
      ]),
    );
    assert.equal(row.start_time, 1749000000123456n);
    assert.equal(row.end_time, 1749000000999999n);
    assert.equal(
      row.events_json,
      '[{"name":"tick","timeUnixNano":1749000000987654321,"droppedAttributesCount":1,"attributes":{}}]',
    );
  });

  it('names kinds and status codes as OTLP does; an absent status is STATUS_CODE_UNSET', () => {
    const kinds = [0, 1, 2, 3, 4, 5, 9].map((kind) => only(request([span({ kind })])).kind);
    assert.deepEqual(kinds, [
      'UNSPECIFIED',
      'INTERNAL',
      'SERVER',
      'CLIENT',
      'PRODUCER',
      'CONSUMER',
      'UNSPECIFIED',
    ]);
    const statuses = [
      null,
      { code: 0, message: '' },
      { code: 1, message: '' },
      { code: 2, message: 'boom' },
    ].map((status) => only(request([span({ status })])));
    assert.deepEqual(
      statuses.map((r) => [r.status_code, r.status_message]),
      [
        ['STATUS_CODE_UNSET', ''],
        ['STATUS_CODE_UNSET', ''],
        ['STATUS_CODE_OK', ''],
        ['STATUS_CODE_ERROR', 'boom'],
      ],
    );
  });

  it('takes service_name from each span’s own resource, unknown_service when absent', () => {
    const req: ExportTraceRequest = {
      resourceSpans: [
        ...request([span({ spanId: spanId(1) })], resource('カスタマーサポート 🤖')).resourceSpans,
        ...request([span({ spanId: spanId(2) })], resource('billing')).resourceSpans,
        ...request([span({ spanId: spanId(3) })], null).resourceSpans,
        ...request([span({ spanId: spanId(4) })], {
          attributes: attributes({ 'service.name': 7 }),
          droppedAttributesCount: 0,
        }).resourceSpans,
      ],
    };
    assert.deepEqual(
      processTraceRequest(req).spans.map((r) => r.service_name),
      ['カスタマーサポート 🤖', 'billing', 'unknown_service', 'unknown_service'],
    );
  });

  it('lifts legacy Junjo attributes into columns and out of attributes_json', () => {
    const graph = '{\n  "v": 1,\n  "nodes": [],\n  "edges": []\n}';
    const workflow = only(
      request([
        span({
          attributes: attributes({
            'junjo.span_type': 'workflow',
            'junjo.id': 'wfA1b2C3d4E5f6G7h8I9j',
            'junjo.workflow.store.id': 'stK9l8M7n6O5p4Q3r2S1t',
            'junjo.workflow.state.start': '{"count":0,"items":["a","b"]}',
            'junjo.workflow.state.end': '{"count":11,"items":["a","b"]}',
            'junjo.workflow.node.count': 3,
            'junjo.workflow.graph_structure': graph,
            'junjo.workflow.parent_store.id': 'parent',
            'node.id': 'legacy',
            'junjo.workflow_id': 'legacy',
          }),
        }),
      ]),
    );
    assert.equal(workflow.junjo_id, 'wfA1b2C3d4E5f6G7h8I9j');
    assert.equal(workflow.junjo_parent_id, '');
    assert.equal(workflow.junjo_span_type, 'workflow');
    assert.equal(workflow.junjo_wf_store_id, 'stK9l8M7n6O5p4Q3r2S1t');
    assert.equal(workflow.junjo_wf_state_start, '{"count":0,"items":["a","b"]}');
    assert.equal(workflow.junjo_wf_state_end, '{"count":11,"items":["a","b"]}');
    assert.equal(workflow.junjo_wf_graph_structure, graph);
    assert.deepEqual(JSON.parse(workflow.attributes_json), {
      'junjo.workflow.node.count': 3,
      'junjo.workflow.parent_store.id': 'parent',
    });

    const node = only(
      request([
        span({
          attributes: attributes({
            'junjo.span_type': 'node',
            'junjo.id': 'ndInc0000000000000001',
            'junjo.parent_id': 'wfA1b2C3d4E5f6G7h8I9j',
            // Only workflow/subflow spans fill the wf columns; the key is still removed.
            'junjo.workflow.state.start': 'not even JSON',
          }),
        }),
      ]),
    );
    assert.deepEqual(
      [node.junjo_id, node.junjo_parent_id, node.junjo_span_type, node.junjo_wf_store_id],
      ['ndInc0000000000000001', 'wfA1b2C3d4E5f6G7h8I9j', 'node', ''],
    );
    assert.deepEqual(
      [
        node.junjo_wf_state_start,
        node.junjo_wf_state_end,
        node.junjo_wf_graph_structure,
        node.attributes_json,
      ],
      ['{}', '{}', '{}', '{}'],
    );

    const plain = only(request([span({ attributes: attributes({ 'http.method': 'GET', 'junjo.id': 5 }) })]));
    assert.deepEqual([plain.junjo_id, plain.junjo_span_type], ['', '']);
    assert.deepEqual(JSON.parse(plain.attributes_json), { 'http.method': 'GET' });
  });

  it('lifts contract-2 identity, the execution graph snapshot and state; other junjo keys stay', () => {
    const snapshot = '{"v":2,"graphStructuralId":"graph-1","nodes":[],"edges":[]}';
    const row = only(
      request([
        span({
          attributes: attributes({
            'junjo.telemetry.contract_version': 2,
            'junjo.span_type': 'subflow',
            'junjo.executable_definition_id': 'def',
            'junjo.executable_runtime_id': 'run-sub',
            'junjo.executable_structural_id': 'subflow-1',
            'junjo.parent_executable_runtime_id': 'run-parent',
            'junjo.parent_executable_definition_id': 'def-parent',
            'junjo.id': 'ignored in contract 2',
            'junjo.workflow.state.start': '{"summary":""}',
            'junjo.workflow.state.start.mode': 'full',
            'junjo.workflow.state.end': '{"summary":"done"}',
            'junjo.workflow.execution_graph_snapshot': snapshot,
            'junjo.workflow.store.id': 'store-sub',
            'junjo.store.revision.end': 2,
          }),
        }),
      ]),
    );
    assert.deepEqual(
      [row.junjo_id, row.junjo_parent_id, row.junjo_span_type, row.junjo_wf_store_id],
      ['run-sub', 'run-parent', 'subflow', 'store-sub'],
    );
    assert.equal(row.junjo_wf_graph_structure, snapshot);
    assert.equal(row.junjo_wf_state_start, '{"summary":""}');
    assert.equal(row.junjo_wf_state_end, '{"summary":"done"}');
    assert.deepEqual(JSON.parse(row.attributes_json), {
      'junjo.telemetry.contract_version': 2,
      'junjo.executable_definition_id': 'def',
      'junjo.executable_structural_id': 'subflow-1',
      'junjo.parent_executable_definition_id': 'def-parent',
      'junjo.workflow.state.start.mode': 'full',
      'junjo.store.revision.end': 2,
    });
  });

  it('fills the store-owner columns of an agent span from its junjo.agent.* state and store id', () => {
    const trace = agentTrace({ seed: 5 });
    const out = processTraceRequest(toExportRequest(trace.spans));
    assert.equal(out.rejected.count, 0);
    const agent = out.spans.find((r) => r.junjo_span_type === 'agent')!;
    const store = trace.stores[0]!;
    assert.equal(agent.junjo_wf_store_id, store.storeId);
    assert.deepEqual(JSON.parse(agent.junjo_wf_state_start), store.start);
    assert.deepEqual(JSON.parse(agent.junjo_wf_state_end), store.end);
    assert.equal(agent.junjo_wf_graph_structure, '{}');
    const attrs = JSON.parse(agent.attributes_json);
    for (const key of ['junjo.agent.state.start', 'junjo.agent.state.end', 'junjo.agent.store.id']) {
      assert.ok(!(key in attrs), key);
    }
    assert.equal(attrs['junjo.agent.outcome'], 'completed');
    const operations = out.spans.filter((r) => r.parent_span_id === agent.span_id);
    assert.deepEqual(
      operations.map((r) => [r.junjo_span_type, JSON.parse(r.attributes_json)['junjo.agent.operation_type']]),
      [
        ['', 'model_request'],
        ['', 'tool'],
        ['', 'model_request'],
      ],
    );
    assert.ok(out.patches.every((p) => p.workflow_id === agent.junjo_id && p.node_id === ''));
  });

  it('stores events and links as JSON with converted attributes', () => {
    const row = only(
      request([
        span({
          events: [
            {
              name: 'exception',
              timeUnixNano: 1749000000500000001n,
              droppedAttributesCount: 0,
              attributes: attributes({
                'exception.type': 'ValueError',
                'exception.escaped': 'False',
                line: 42,
              }),
            },
          ],
          links: [
            {
              traceId: Buffer.from('0AF7651916CD43DD8448EB211C80319C', 'hex'),
              spanId: Buffer.from('B7AD6B7169203331', 'hex'),
              traceState: 'rojo=00f067aa0ba902b7',
              attributes: attributes({ 'link.kind': 'follows' }),
              droppedAttributesCount: 2,
              flags: 257,
            },
          ],
        }),
      ]),
    );
    assert.match(row.events_json, /"timeUnixNano":1749000000500000001,/);
    assert.deepEqual(parseEventsJson(row.events_json), [
      {
        name: 'exception',
        timeUnixNano: 1749000000500000001n,
        droppedAttributesCount: 0,
        attributes: { 'exception.type': 'ValueError', 'exception.escaped': 'False', line: 42 },
      },
    ]);
    assert.deepEqual(JSON.parse(row.links_json), [
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceState: 'rojo=00f067aa0ba902b7',
        attributes: { 'link.kind': 'follows' },
        droppedAttributesCount: 2,
        flags: 257,
      },
    ]);
    assert.equal(only(request([span()])).links_json, '[]');
  });
});

describe('convertOtlpAttributesToJson', () => {
  it('keeps every value type, nested to any depth', () => {
    const kvs: KeyValue[] = [
      { key: 's', value: { type: 'string', value: 'naïve 🚀' } },
      { key: 'b', value: { type: 'bool', value: false } },
      { key: 'i', value: { type: 'int', value: -42n } },
      { key: 'max safe', value: { type: 'int', value: 9007199254740991n } },
      { key: 'unsafe', value: { type: 'int', value: 9007199254740993n } },
      { key: 'd', value: { type: 'double', value: 0.1 } },
      { key: 'nan', value: { type: 'double', value: Number.NaN } },
      { key: 'inf', value: { type: 'double', value: Number.POSITIVE_INFINITY } },
      { key: 'bytes', value: { type: 'bytes', value: Buffer.from([0xde, 0xad, 0x0b]) } },
      {
        key: 'arr',
        value: {
          type: 'array',
          value: [
            { type: 'int', value: 1n },
            { type: 'empty' },
            {
              type: 'array',
              value: [{ type: 'kvlist', value: [{ key: 'k', value: { type: 'string', value: 'v' } }] }],
            },
          ],
        },
      },
      {
        key: 'map',
        value: {
          type: 'kvlist',
          value: [
            {
              key: 'nested',
              value: {
                type: 'kvlist',
                value: [{ key: 'x', value: { type: 'bytes', value: Buffer.from([1]) } }],
              },
            },
            { key: 'gone', value: { type: 'empty' } },
          ],
        },
      },
      { key: 'empty', value: { type: 'empty' } },
      { key: 'dup', value: { type: 'string', value: 'first' } },
      { key: 'dup', value: { type: 'string', value: 'last' } },
    ];
    assert.deepStrictEqual(JSON.parse(JSON.stringify(convertOtlpAttributesToJson(kvs))), {
      s: 'naïve 🚀',
      b: false,
      i: -42,
      'max safe': 9007199254740991,
      unsafe: '9007199254740993',
      d: 0.1,
      nan: 'NaN',
      inf: 'Infinity',
      bytes: 'dead0b',
      arr: [1, null, [{ k: 'v' }]],
      map: { nested: { x: '01' } },
      dup: 'last',
    });
  });

  it('keeps a "__proto__" key as data', () => {
    const json = convertOtlpAttributesToJson([{ key: '__proto__', value: { type: 'string', value: 'x' } }]);
    assert.equal(JSON.stringify(json), '{"__proto__":"x"}');
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and rejects the span beyond`, () => {
    const nested = (levels: number): AnyValue => {
      let value: AnyValue = { type: 'string', value: 'bottom' };
      for (let i = 0; i < levels; i++) value = { type: 'array', value: [value] };
      return value;
    };
    // attributes_json is level 1, so MAX_JSON_DEPTH - 1 arrays fit.
    const ok = only(request([span({ attributes: [{ key: 'deep', value: nested(MAX_JSON_DEPTH - 1) }] })]));
    assert.ok(ok.attributes_json.includes('bottom'));
    const deep = request([
      span({
        spanId: spanId(1),
        name: 'Deep',
        attributes: [{ key: 'deep', value: nested(MAX_JSON_DEPTH) }],
      }),
      span({ spanId: spanId(2) }),
      // In a kvlist, on an event and on a link: the receivers' check finds it there too.
      span({
        spanId: spanId(3),
        name: 'DeepEvent',
        events: [{ ...setState('e', '[]'), attributes: [{ key: 'deep', value: nested(MAX_JSON_DEPTH) }] }],
      }),
      span({
        spanId: spanId(4),
        name: 'DeepLink',
        links: [
          {
            traceId: Buffer.alloc(16, 1),
            spanId: Buffer.alloc(8, 1),
            traceState: '',
            attributes: [
              {
                key: 'deep',
                value: { type: 'kvlist', value: [{ key: 'k', value: nested(MAX_JSON_DEPTH - 1) }] },
              },
            ],
            droppedAttributesCount: 0,
            flags: 0,
          },
        ],
      }),
    ]);
    const out = processTraceRequest(deep);
    assert.deepEqual(checkTraceRequest(deep), { accepted: 1, rejected: out.rejected });
    assert.equal(out.spans.length, 1);
    assert.deepEqual(out.rejected, {
      count: 3,
      errors: ['Deep', 'DeepEvent', 'DeepLink'].map(
        (name, index) =>
          `span ${index === 0 ? 0 : index + 1} of resource 0 ("${name}"): an attribute value is nested deeper than ${MAX_JSON_DEPTH} levels`,
      ),
    });
  });
});

describe('state patches', () => {
  const workflowAttrs = attributes({
    'junjo.span_type': 'workflow',
    'junjo.id': 'wf1',
    'junjo.workflow.store.id': 'stK9l8M7n6O5p4Q3r2S1t',
  });

  it('makes one row per set_state event, owned by the node or the workflow', () => {
    const node = span({
      spanId: spanId(1),
      attributes: attributes({ 'junjo.span_type': 'node', 'junjo.id': 'nd1', 'junjo.parent_id': 'wf1' }),
      events: [
        setState(
          'evQ1w2E3r4T5y6U7i8O9p',
          '[{"op": "replace", "path": "/count", "value": 1}]',
          1749000000050000999n,
        ),
        { name: 'other', timeUnixNano: 1n, attributes: [], droppedAttributesCount: 0 },
        setState('evZ0x9C8v7B6n5M4a3S2d', '{}'),
      ],
    });
    const workflow = span({ spanId: spanId(2), attributes: workflowAttrs, events: [setState('evW', '[]')] });
    const subflow = span({
      spanId: spanId(3),
      attributes: attributes({ 'junjo.span_type': 'subflow', 'junjo.id': 'sf1' }),
      events: [setState('evS', '[]')],
    });
    const concurrent = span({
      spanId: spanId(4),
      attributes: attributes({ 'junjo.span_type': 'run_concurrent', 'junjo.id': 'rc1' }),
      events: [setState('evR', '[]')],
    });
    const out = processTraceRequest(request([node, workflow, subflow, concurrent], resource('svc')));
    assert.equal(out.rejected.count, 0);
    const [first, noop, ...rest] = out.patches;
    assert.deepEqual(first, {
      patch_id: `${TRACE}:0000000000000001:evQ1w2E3r4T5y6U7i8O9p`,
      service_name: 'svc',
      trace_id: TRACE,
      span_id: '0000000000000001',
      workflow_id: '',
      node_id: 'nd1',
      event_time: 1749000000050000n,
      patch_json: '[{"op": "replace", "path": "/count", "value": 1}]',
      patch_store_id: 'stK9l8M7n6O5p4Q3r2S1t',
    });
    assert.equal(noop!.patch_json, '{}');
    assert.deepEqual(
      rest.map((p) => [p.workflow_id, p.node_id, p.patch_json]),
      [
        ['wf1', '', '[]'],
        ['sf1', '', '[]'],
        ['', '', '[]'],
      ],
    );
  });

  it('gives the same patch ids when the same request is processed twice', () => {
    const req = fixtureRequest();
    const first = processTraceRequest(req).patches.map((p) => p.patch_id);
    const again = processTraceRequest(
      decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(req)),
    ).patches.map((p) => p.patch_id);
    assert.ok(first.length > 20);
    assert.deepEqual(again, first);
    assert.equal(new Set(first).size, first.length);
  });

  it('hashes trace, span and event index when the event has no id; never collides with the id form', () => {
    const events = [setState(null, '[]'), setState('dup', '[]'), setState('dup', '[]')];
    const a = processTraceRequest(request([span({ spanId: spanId(1), events })])).patches;
    const b = processTraceRequest(request([span({ spanId: spanId(2), events })])).patches;
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.deepEqual(
      a.map((p) => p.patch_id),
      [
        sha(`${TRACE}:0000000000000001:#0`),
        `${TRACE}:0000000000000001:dup`,
        `${TRACE}:0000000000000001:dup#2`,
      ],
    );
    assert.equal(new Set([...a, ...b].map((p) => p.patch_id)).size, 6);
  });

  it('accepts escaped surrogate pairs and escaped backslashes in stored JSON text', () => {
    const state = '{"rocket":"\\ud83d\\ude80","path":"C:\\\\ud800"}';
    const out = processTraceRequest(
      request([
        span({
          attributes: attributes({ 'junjo.span_type': 'workflow', 'junjo.workflow.state.start': state }),
          events: [setState('e', `[{"op":"replace","path":"/rocket","value":"\\ud83d\\ude80"}]`)],
        }),
      ]),
    );
    assert.equal(out.rejected.count, 0);
    assert.equal(out.spans[0]!.junjo_wf_state_start, state);
    assert.equal(JSON.parse(state).rocket, '🚀');
  });

  it('defaults a missing patch to the "{}" no-op and a missing store id to ""', () => {
    const event: SpanEvent = {
      name: 'set_state',
      timeUnixNano: 5000n,
      attributes: [],
      droppedAttributesCount: 0,
    };
    const [patch] = processTraceRequest(request([span({ events: [event] })])).patches;
    assert.deepEqual([patch!.patch_json, patch!.patch_store_id, patch!.event_time], ['{}', '', 5n]);
  });
});

describe('rejected spans', () => {
  const cases: [string, Partial<Span>, string][] = [
    ['a short span id', { spanId: Buffer.alloc(5, 1) }, 'span_id has 5 bytes, expected 8'],
    ['a long trace id', { traceId: Buffer.alloc(17, 1) }, 'trace_id has 17 bytes, expected 16'],
    ['a missing trace id', { traceId: Buffer.alloc(0) }, 'trace_id has 0 bytes, expected 16'],
    ['an all-zero span id', { spanId: Buffer.alloc(8) }, 'span_id is all zeroes'],
    [
      'a 4-byte parent id',
      { parentSpanId: Buffer.alloc(4, 1) },
      'parent_span_id has 4 bytes, expected 0 or 8',
    ],
    [
      'a workflow state that is not JSON',
      {
        attributes: attributes({ 'junjo.span_type': 'workflow', 'junjo.workflow.state.end': '{"count": 1' }),
      },
      'junjo.workflow.state.end is not valid JSON',
    ],
    [
      'a graph snapshot that is not JSON',
      {
        attributes: attributes({
          'junjo.telemetry.contract_version': 2,
          'junjo.span_type': 'workflow',
          'junjo.workflow.execution_graph_snapshot': "{'v': 2}",
        }),
      },
      'junjo.workflow.execution_graph_snapshot is not valid JSON',
    ],
    [
      'an agent state that is not JSON',
      { attributes: attributes({ 'junjo.span_type': 'agent', 'junjo.agent.state.start': 'NaN' }) },
      'junjo.agent.state.start is not valid JSON',
    ],
    [
      'a state escaping an unpaired surrogate (DuckDB refuses it)',
      {
        attributes: attributes({
          'junjo.span_type': 'subflow',
          'junjo.workflow.state.start': '{"s":"\\ud800"}',
        }),
      },
      'junjo.workflow.state.start is not valid I-JSON',
    ],
    [
      'a patch escaping an unpaired surrogate',
      { events: [setState('e', '[{"op":"add","path":"/a","value":"\\udc00x"}]')] },
      'set_state event 0: junjo.state_json_patch is not valid I-JSON',
    ],
    [
      'a patch that is not JSON',
      { events: [setState('e', '[{"op":')] },
      'set_state event 0: junjo.state_json_patch is not valid JSON',
    ],
    ['a patch that is a JSON string', { events: [setState('e', '"replace"')] }, 'is not a JSON Patch array'],
    ['a non-empty patch object', { events: [setState('e', '{"op":"add"}')] }, 'is not a JSON Patch array'],
    [
      'an unknown op',
      { events: [setState('e', '[{"op":"frobnicate","path":"/a"}]')] },
      'operation 0 has an invalid op',
    ],
    [
      'a path that is not a pointer',
      { events: [setState('e', '[{"op":"remove","path":"count"}]')] },
      'invalid path',
    ],
    ['a bad ~ escape', { events: [setState('e', '[{"op":"remove","path":"/a~2"}]')] }, 'invalid path'],
    ['add without value', { events: [setState('e', '[{"op":"add","path":"/a"}]')] }, '(add) has no value'],
    [
      'move without from',
      { events: [setState('e', '[{"op":"move","path":"/a"}]')] },
      '(move) has an invalid from',
    ],
    [
      'a bad second event',
      { events: [setState('ok', '[]'), setState('bad', '[1]')] },
      'set_state event 1: junjo.state_json_patch operation 0 is not an object',
    ],
  ];
  for (const [name, overrides, reason] of cases) {
    it(`rejects a span with ${name} and keeps the others`, () => {
      const good1 = span({ spanId: spanId(1), events: [setState('g1', '[]')] });
      const bad = span({ spanId: spanId(2), name: 'NodeName', events: [setState('b', '[]')], ...overrides });
      const good2 = span({ spanId: spanId(3), events: [setState('g2', '[]')] });
      const req = {
        resourceSpans: [...request([good1]).resourceSpans, ...request([good2, bad]).resourceSpans],
      };
      const out = processTraceRequest(req);
      // The receivers' check without rows comes to the same verdict, reason for reason.
      assert.deepEqual(checkTraceRequest(req), { accepted: 2, rejected: out.rejected });
      assert.deepEqual(
        out.spans.map((r) => r.span_id),
        ['0000000000000001', '0000000000000003'],
      );
      assert.deepEqual(
        out.patches.map((p) => p.span_id),
        ['0000000000000001', '0000000000000003'],
      );
      assert.equal(out.rejected.count, 1);
      assert.equal(out.rejected.errors.length, 1);
      assert.ok(
        out.rejected.errors[0]!.startsWith('span 1 of resource 1 ("NodeName"): '),
        out.rejected.errors[0],
      );
      assert.ok(out.rejected.errors[0]!.includes(reason), out.rejected.errors[0]);
    });
  }

  it('counts every rejected span of a request', () => {
    const spans = [0, 1, 2, 3, 4].map((i) =>
      span({ spanId: i % 2 ? spanId(i + 1) : Buffer.alloc(3, 1), name: `s${i}` }),
    );
    const out = processTraceRequest(request(spans));
    assert.equal(out.spans.length, 2);
    assert.equal(out.rejected.count, 3);
    assert.deepEqual(checkTraceRequest(request(spans)), { accepted: 2, rejected: out.rejected });
    assert.deepEqual(
      out.rejected.errors,
      [0, 2, 4].map((i) => `span ${i} of resource 0 ("s${i}"): span_id has 3 bytes, expected 8`),
    );
  });
});
