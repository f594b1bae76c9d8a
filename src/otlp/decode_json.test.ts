import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  toExportRequest,
} from '../fixtures/junjo_traces.ts';
import { decodeTraceRequestJson } from './decode_json.ts';
import { decodeTraceRequestProtobuf } from './decode_protobuf.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from './encode.ts';
import { bytesToHex } from './hex.ts';
import type { AnyValue, ExportTraceRequest } from './types.ts';
import { OtlpDecodeError } from './types.ts';

const fixtures = (): ExportTraceRequest =>
  toExportRequest([
    ...legacyWorkflowTrace({ seed: 1, fail: true }).spans,
    ...contract2WorkflowTrace({ seed: 2, serviceName: 'カスタマーサポート 🤖' }).spans,
    ...agentTrace({ seed: 3, serviceName: 'support-bot' }).spans,
  ]);

/** A request with one span, written the way a hand-rolled OTLP/JSON client would. */
function oneSpanJson(span: Record<string, unknown>): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'curl' } }] },
        scopeSpans: [
          {
            scope: { name: 'junjo' },
            spans: [
              {
                traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
                spanId: '00f067aa0ba902b7',
                name: 'sample_workflow',
                startTimeUnixNano: '1749000000123456789',
                endTimeUnixNano: '1749000000923456789',
                ...span,
              },
            ],
          },
        ],
      },
    ],
  });
}

const firstSpan = (req: ExportTraceRequest) => req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;

describe('decodeTraceRequestJson', () => {
  it('decodes what the JSON encoder wrote, identical to the protobuf round trip', () => {
    const request = fixtures();
    const fromJson = decodeTraceRequestJson(encodeTraceRequestJson(request));
    assert.deepStrictEqual(fromJson, request);
    assert.deepStrictEqual(fromJson, decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(request)));
  });

  it('accepts the body as UTF-8 bytes', () => {
    const request = fixtures();
    assert.deepStrictEqual(decodeTraceRequestJson(Buffer.from(encodeTraceRequestJson(request))), request);
  });

  it('reads hex ids (any case), enum names and numbers, 64-bit integers as strings or numbers', () => {
    const span = firstSpan(
      decodeTraceRequestJson(
        oneSpanJson({
          parentSpanId: 'A1A1A1A1A1A1A1A1',
          kind: 'SPAN_KIND_SERVER',
          status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
          events: [{ name: 'set_state', timeUnixNano: 1749000000000000 }],
          droppedAttributesCount: '2',
          flags: 257,
        }),
      ),
    );
    assert.equal(bytesToHex(span.traceId), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(bytesToHex(span.parentSpanId), 'a1a1a1a1a1a1a1a1');
    assert.equal(span.kind, 2);
    assert.deepEqual(span.status, { code: 2, message: 'boom' });
    assert.equal(span.startTimeUnixNano, 1749000000123456789n);
    assert.equal(span.events[0]!.timeUnixNano, 1749000000000000n);
    assert.equal(span.droppedAttributesCount, 2);
    assert.equal(span.flags, 257);
    assert.equal(firstSpan(decodeTraceRequestJson(oneSpanJson({ kind: 3 }))).kind, 3);
  });

  it('keeps 64-bit integers sent as bare JSON numbers exact (no float rounding)', () => {
    const text = oneSpanJson({ attributes: [{ key: 'big', value: { intValue: 0 } }] })
      .replace('"1749000000123456789"', '1749000000123456789')
      .replace('{"intValue":0}', '{"intValue":9007199254740993}');
    const span = firstSpan(decodeTraceRequestJson(text));
    assert.equal(span.startTimeUnixNano, 1749000000123456789n);
    assert.deepEqual(span.attributes[0]!.value, { type: 'int', value: 9007199254740993n });
  });

  it('reads every AnyValue form: nested arrays and kvlists, base64 bytes, non-finite doubles, empty', () => {
    const span = firstSpan(
      decodeTraceRequestJson(
        oneSpanJson({
          attributes: [
            { key: 'd', value: { doubleValue: 'NaN' } },
            { key: 'inf', value: { doubleValue: '-Infinity' } },
            { key: 'bytes', value: { bytesValue: 'AAH+/w==' } },
            { key: 'urlsafe', value: { bytesValue: 'AAH-_w' } },
            {
              key: 'nested',
              value: {
                arrayValue: {
                  values: [{ kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } }, {}],
                },
              },
            },
            { key: 'empty', value: {} },
            { key: 'no value' },
          ],
        }),
      ),
    );
    const values = Object.fromEntries(span.attributes.map((kv) => [kv.key, kv.value]));
    assert.ok(Number.isNaN((values.d as { value: number }).value));
    assert.deepEqual(values.inf, { type: 'double', value: Number.NEGATIVE_INFINITY });
    assert.deepEqual(values.bytes, { type: 'bytes', value: Buffer.from([0, 1, 0xfe, 0xff]) });
    assert.deepEqual(values.urlsafe, { type: 'bytes', value: Buffer.from([0, 1, 0xfe, 0xff]) });
    const expected: AnyValue = {
      type: 'array',
      value: [
        { type: 'kvlist', value: [{ key: 'k', value: { type: 'bool', value: false } }] },
        { type: 'empty' },
      ],
    };
    assert.deepEqual(values.nested, expected);
    assert.deepEqual(values.empty, { type: 'empty' });
    assert.deepEqual(values['no value'], { type: 'empty' });
  });

  it('turns unpaired surrogate escapes into U+FFFD, keeps pairs', () => {
    const text = oneSpanJson({ name: 'x', attributes: [{ key: 'k', value: { stringValue: 'y' } }] })
      .replace('"name":"x"', '"name":"a\\ud800b"')
      .replace('"stringValue":"y"', '"stringValue":"\\ud83d\\ude80\\udc00"');
    const span = firstSpan(decodeTraceRequestJson(text));
    assert.equal(span.name, 'a\ufffdb');
    assert.deepEqual(span.attributes[0]!.value, { type: 'string', value: '🚀\ufffd' });
  });

  it('ignores snake_case and other unknown keys, as OTLP/JSON requires', () => {
    const span = firstSpan(
      decodeTraceRequestJson(oneSpanJson({ parent_span_id: 'a1a1a1a1a1a1a1a1', extra: [1] })),
    );
    assert.equal(span.parentSpanId.length, 0);
  });

  it('decodes requests serialized by the OpenTelemetry JS SDK', () => {
    const readable = {
      name: 'node',
      kind: 0,
      spanContext: () => ({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: 1,
      }),
      startTime: [1749000000, 123456789],
      endTime: [1749000001, 5],
      status: { code: 0 },
      attributes: { 'junjo.span_type': 'node', n: 3 },
      links: [],
      events: [],
      duration: [1, 0],
      ended: true,
      resource: {
        attributes: { 'service.name': 'otel-js' },
        merge: () => undefined,
        asyncAttributesPending: false,
      },
      instrumentationScope: { name: 'junjo' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } as unknown as ReadableSpan;
    const body = JsonTraceSerializer.serializeRequest([readable])!;
    const span = firstSpan(decodeTraceRequestJson(body));
    assert.equal(bytesToHex(span.spanId), '00f067aa0ba902b7');
    assert.equal(span.kind, 1);
    assert.equal(span.startTimeUnixNano, 1749000000123456789n);
    assert.deepEqual(span.attributes[1], { key: 'n', value: { type: 'int', value: 3n } });
  });

  describe('refuses undecodable input with OtlpDecodeError', () => {
    const cases: [string, string | Uint8Array][] = [
      ['invalid JSON', '{"resourceSpans": ['],
      ['a JSON array', '[]'],
      ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
      ['resourceSpans that is not an array', '{"resourceSpans": {}}'],
      ['a base64 (not hex) trace id', oneSpanJson({ traceId: 'S/kvNXezTaajzpKdDg5HNg==' })],
      ['an odd-length hex id', oneSpanJson({ spanId: 'abc' })],
      ['a fractional timestamp', oneSpanJson({ startTimeUnixNano: 1.5 })],
      ['a negative timestamp', oneSpanJson({ endTimeUnixNano: '-1' })],
      ['a name that is not a string', oneSpanJson({ name: 5 })],
      ['an unknown kind name', oneSpanJson({ kind: 'SPAN_KIND_WHATEVER' })],
      ['invalid base64 bytes', oneSpanJson({ attributes: [{ key: 'b', value: { bytesValue: '!!' } }] })],
      [
        'an int64 out of range',
        oneSpanJson({ attributes: [{ key: 'i', value: { intValue: '9223372036854775808' } }] }),
      ],
    ];
    for (const [name, input] of cases) {
      it(name, () => assert.throws(() => decodeTraceRequestJson(input), OtlpDecodeError));
    }
  });
});
