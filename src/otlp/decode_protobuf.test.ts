import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  toExportRequest,
} from '../fixtures/junjo_traces.ts';
import { decodeTraceRequestProtobuf } from './decode_protobuf.ts';
import { encodeTraceRequestProtobuf } from './encode.ts';
import { bytesToHex } from './hex.ts';
import { otlpProtoTypes } from './proto_root.ts';
import { lengthDelimited } from './protobuf_test_bytes.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, Span } from './types.ts';
import { MAX_DECODED_VALUE_DEPTH, OtlpDecodeError } from './types.ts';

const fixtures = (): ExportTraceRequest =>
  toExportRequest([
    ...legacyWorkflowTrace({ seed: 1, fail: true }).spans,
    ...contract2WorkflowTrace({ seed: 2, serviceName: 'カスタマーサポート 🤖' }).spans,
    ...agentTrace({ seed: 3, serviceName: 'support-bot' }).spans,
  ]);

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex'),
    spanId: Buffer.from('00f067aa0ba902b7', 'hex'),
    traceState: '',
    parentSpanId: Buffer.alloc(0),
    flags: 0,
    name: 'span',
    kind: 1,
    startTimeUnixNano: 1749000000123456789n,
    endTimeUnixNano: 1749000000923456789n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: null,
    ...overrides,
  };
}

const requestOf = (...spans: Span[]): ExportTraceRequest => ({
  resourceSpans: [{ resource: null, scopeSpans: [{ scope: null, spans, schemaUrl: '' }], schemaUrl: '' }],
});

const everyValueType: KeyValue[] = [
  { key: 'string', value: { type: 'string', value: 'naïve café 東京 🚀' } },
  { key: 'empty string', value: { type: 'string', value: '' } },
  { key: 'bool', value: { type: 'bool', value: true } },
  { key: 'false', value: { type: 'bool', value: false } },
  { key: 'int', value: { type: 'int', value: 42n } },
  { key: 'negative int', value: { type: 'int', value: -7n } },
  { key: 'int64 max', value: { type: 'int', value: 9223372036854775807n } },
  { key: 'int64 min', value: { type: 'int', value: -9223372036854775808n } },
  { key: 'double', value: { type: 'double', value: 3.25 } },
  { key: 'NaN', value: { type: 'double', value: Number.NaN } },
  { key: '-Infinity', value: { type: 'double', value: Number.NEGATIVE_INFINITY } },
  { key: 'bytes', value: { type: 'bytes', value: Buffer.from([0, 1, 0xfe, 0xff]) } },
  {
    key: 'array',
    value: {
      type: 'array',
      value: [
        { type: 'string', value: 'a' },
        { type: 'int', value: 1n },
        { type: 'empty' },
        { type: 'array', value: [{ type: 'bool', value: false }] },
      ],
    },
  },
  {
    key: 'kvlist',
    value: {
      type: 'kvlist',
      value: [
        {
          key: 'inner',
          value: { type: 'kvlist', value: [{ key: 'deep', value: { type: 'double', value: 0.5 } }] },
        },
        { key: 'list', value: { type: 'array', value: [{ type: 'bytes', value: Buffer.from('hi') }] } },
      ],
    },
  },
  { key: 'unset', value: { type: 'empty' } },
];

/** A nested array value `levels` deep around a string. */
function nested(levels: number): AnyValue {
  let value: AnyValue = { type: 'string', value: 'bottom' };
  for (let i = 0; i < levels; i++) value = { type: 'array', value: [value] };
  return value;
}

describe('decodeTraceRequestProtobuf', () => {
  it('decodes what the encoder wrote, for every fixture span', () => {
    const request = fixtures();
    assert.deepStrictEqual(decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(request)), request);
  });

  it('keeps every AnyValue type, nested arrays/kvlists, bytes and the int64 extremes', () => {
    const request = requestOf(span({ attributes: everyValueType }));
    assert.deepStrictEqual(decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(request)), request);
  });

  it('reads nanosecond timestamps exactly, beyond float precision', () => {
    const request = requestOf(
      span({
        startTimeUnixNano: 1749000000123456789n,
        endTimeUnixNano: 18446744073709551615n,
        events: [
          { timeUnixNano: 1749000000987654321n, name: 'e', attributes: [], droppedAttributesCount: 0 },
        ],
      }),
    );
    const decoded = decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(request));
    const s = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.startTimeUnixNano, 1749000000123456789n);
    assert.equal(s.endTimeUnixNano, 18446744073709551615n);
    assert.equal(s.events[0]!.timeUnixNano, 1749000000987654321n);
  });

  it('keeps ids of any length (validation is the span processor’s job) and status absent vs present', () => {
    const request = requestOf(
      span({ spanId: Buffer.from([1, 2, 3, 4, 5]), status: null }),
      span({ traceId: Buffer.alloc(0), status: { code: 2, message: 'boom' } }),
    );
    assert.deepStrictEqual(decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(request)), request);
  });

  it('agrees with protobufjs reading the project’s .proto files', () => {
    const bytes = encodeTraceRequestProtobuf(fixtures());
    const reference = otlpProtoTypes().exportTraceRequest.toObject(
      otlpProtoTypes().exportTraceRequest.decode(bytes),
      {
        longs: String,
        bytes: String,
        defaults: true,
        oneofs: false,
      },
    );
    assert.deepStrictEqual(toProtobufjsShape(decodeTraceRequestProtobuf(bytes)), reference);
  });

  it('decodes requests serialized by the OpenTelemetry JS SDK', () => {
    const readable = {
      name: 'http GET',
      kind: 2, // API SpanKind.CLIENT; OTLP numbers kinds from 1 (INTERNAL), so it arrives as 3
      spanContext: () => ({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: 1,
      }),
      parentSpanContext: {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: 'a1a1a1a1a1a1a1a1',
        traceFlags: 1,
      },
      startTime: [1749000000, 123456789],
      endTime: [1749000001, 5],
      status: { code: 2, message: 'bad' },
      attributes: { s: 'x', n: 3, d: 1.5, b: true, arr: ['a', 'b'] },
      links: [],
      events: [{ name: 'exception', time: [1749000000, 999999999], attributes: { 'exception.type': 'E' } }],
      duration: [1, 0],
      ended: true,
      resource: {
        attributes: { 'service.name': 'otel-js' },
        merge: () => undefined,
        asyncAttributesPending: false,
      },
      instrumentationScope: { name: 'junjo', version: '1.0.0' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } as unknown as ReadableSpan;
    const decoded = decodeTraceRequestProtobuf(ProtobufTraceSerializer.serializeRequest([readable])!);
    const rs = decoded.resourceSpans[0]!;
    assert.deepEqual(rs.resource?.attributes, [
      { key: 'service.name', value: { type: 'string', value: 'otel-js' } },
    ]);
    assert.equal(rs.scopeSpans[0]!.scope?.name, 'junjo');
    const s = rs.scopeSpans[0]!.spans[0]!;
    assert.equal(bytesToHex(s.traceId), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(bytesToHex(s.parentSpanId), 'a1a1a1a1a1a1a1a1');
    assert.equal(s.kind, 3);
    assert.equal(s.startTimeUnixNano, 1749000000123456789n);
    assert.equal(s.endTimeUnixNano, 1749000001000000005n);
    assert.deepEqual(s.status, { code: 2, message: 'bad' });
    assert.equal(s.events[0]!.timeUnixNano, 1749000000999999999n);
    assert.deepEqual(
      s.attributes.map((kv) => [kv.key, kv.value.type]),
      [
        ['s', 'string'],
        ['n', 'int'],
        ['d', 'double'],
        ['b', 'bool'],
        ['arr', 'array'],
      ],
    );
  });

  it('skips unknown fields of every wire type, groups included', () => {
    const request = requestOf(span({ name: 'kept' }));
    const known = encodeTraceRequestProtobuf(request);
    const writer = protobuf.Writer.create();
    writer.uint32((99 << 3) | 0).uint64(123456789); // varint
    writer.uint32((98 << 3) | 1).fixed64(7); // I64
    writer.uint32((97 << 3) | 2).bytes(Buffer.from('unknown')); // LEN
    writer.uint32((96 << 3) | 5).fixed32(7); // I32
    writer
      .uint32((95 << 3) | 3)
      .uint32((1 << 3) | 0)
      .uint32(5)
      .uint32((95 << 3) | 4); // group
    const unknown = writer.finish();
    assert.deepStrictEqual(decodeTraceRequestProtobuf(Buffer.concat([unknown, known, unknown])), request);
  });

  it('decodes an empty body as an empty request', () => {
    assert.deepStrictEqual(decodeTraceRequestProtobuf(new Uint8Array(0)), { resourceSpans: [] });
  });

  it('accepts deeply nested values up to its stack guard and refuses deeper ones', () => {
    const decoded = decodeTraceRequestProtobuf(deepValueRequest(200));
    const value = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes[0]!.value;
    assert.deepStrictEqual(value, nested(200));
    assert.throws(
      () => decodeTraceRequestProtobuf(deepValueRequest(MAX_DECODED_VALUE_DEPTH + 1)),
      OtlpDecodeError,
    );
  });

  describe('refuses undecodable bytes with OtlpDecodeError', () => {
    const valid = encodeTraceRequestProtobuf(fixtures());
    const cases: [string, Uint8Array][] = [
      ['a truncated request', valid.subarray(0, valid.length - 7)],
      ['a length running past the end', Buffer.from([0x0a, 0x05, 0x12, 0x01])],
      ['an unterminated varint', Buffer.from([0x0a, 0xff, 0xff])],
      ['a known field with the wrong wire type', Buffer.from([0x08, 0x01])],
      ['an invalid wire type', Buffer.from([0x0f])],
      ['an unterminated group', Buffer.from([0x1b, 0x08, 0x01])],
      ['text instead of protobuf', Buffer.from('{"resourceSpans": []}')],
    ];
    for (const [name, bytes] of cases) {
      it(name, () => assert.throws(() => decodeTraceRequestProtobuf(bytes), OtlpDecodeError));
    }
  });
});

/**
 * A request whose one span has one attribute nested `levels` arrays deep, built by hand:
 * protobufjs' encoder stops at 100 message levels.
 */
function deepValueRequest(levels: number): Buffer {
  const field = lengthDelimited;
  let value = field(1, Buffer.from('bottom')); // AnyValue.string_value
  for (let i = 0; i < levels; i++) value = field(5, field(1, value)); // AnyValue.array_value{values}
  const keyValue = Buffer.concat([field(1, Buffer.from('deep')), field(2, value)]);
  return field(1, field(2, field(2, field(9, keyValue)))); // request → resource_spans → scope_spans → span
}

// ---- the shape protobufjs' toObject({longs: String, bytes: String, defaults: true}) produces ----

type Obj = Record<string, unknown>;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function toProtobufjsShape(req: ExportTraceRequest): Obj {
  const kvs = (list: KeyValue[]): Obj[] => list.map(kv);
  const kv = (k: KeyValue): Obj =>
    k.value.type === 'empty' ? { key: k.key } : { key: k.key, value: anyValue(k.value) };
  const anyValue = (v: AnyValue): Obj => {
    switch (v.type) {
      case 'string':
        return { string_value: v.value };
      case 'bool':
        return { bool_value: v.value };
      case 'int':
        return { int_value: v.value.toString() };
      case 'double':
        return { double_value: v.value };
      case 'bytes':
        return { bytes_value: b64(v.value) };
      case 'array':
        return { array_value: { values: v.value.map(anyValue) } };
      case 'kvlist':
        return { kvlist_value: { values: kvs(v.value) } };
      case 'empty':
        return {};
    }
  };
  return {
    resource_spans: req.resourceSpans.map((rs) => ({
      ...(rs.resource
        ? { resource: { attributes: kvs(rs.resource.attributes), dropped_attributes_count: 0 } }
        : { resource: null }),
      scope_spans: rs.scopeSpans.map((ss) => ({
        scope: ss.scope
          ? {
              name: ss.scope.name,
              version: ss.scope.version,
              attributes: kvs(ss.scope.attributes),
              dropped_attributes_count: ss.scope.droppedAttributesCount,
            }
          : null,
        spans: ss.spans.map((s) => ({
          trace_id: b64(s.traceId),
          span_id: b64(s.spanId),
          trace_state: s.traceState,
          parent_span_id: b64(s.parentSpanId),
          flags: s.flags,
          name: s.name,
          kind: s.kind,
          start_time_unix_nano: s.startTimeUnixNano.toString(),
          end_time_unix_nano: s.endTimeUnixNano.toString(),
          attributes: kvs(s.attributes),
          dropped_attributes_count: s.droppedAttributesCount,
          events: s.events.map((e) => ({
            time_unix_nano: e.timeUnixNano.toString(),
            name: e.name,
            attributes: kvs(e.attributes),
            dropped_attributes_count: e.droppedAttributesCount,
          })),
          dropped_events_count: s.droppedEventsCount,
          links: s.links.map((l) => ({
            trace_id: b64(l.traceId),
            span_id: b64(l.spanId),
            trace_state: l.traceState,
            attributes: kvs(l.attributes),
            dropped_attributes_count: l.droppedAttributesCount,
            flags: l.flags,
          })),
          dropped_links_count: s.droppedLinksCount,
          status: s.status ? { message: s.status.message, code: s.status.code } : null,
        })),
        schema_url: ss.schemaUrl,
      })),
      schema_url: rs.schemaUrl,
    })),
  };
}
