import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FuzzCases } from '../../test/hardening/fuzz_cases.ts';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  packRequests,
  toExportRequest,
  workflowMix,
} from '../fixtures/junjo_traces.ts';
import { attributes } from '../fixtures/trace_builder.ts';
import { decodeTraceRequestProtobuf } from '../otlp/decode_protobuf.ts';
import { encodeTraceRequestProtobuf } from '../otlp/encode.ts';
import { lengthDelimited as field } from '../otlp/protobuf_test_bytes.ts';
import type { AnyValue, ExportTraceRequest, Span } from '../otlp/types.ts';
import { SPAN_LIMITS } from './span_limits.ts';
import { checkTraceRequest, MAX_JSON_DEPTH } from './span_processor.ts';
import { acceptedOnWire } from './wire_verdict.ts';

/**
 * The wire verdict of `bytes`, after checking it against the full decode and check: whenever it
 * answers a number, the full path accepts exactly that many spans and rejects none.
 */
function wireVerdict(bytes: Uint8Array): number | null {
  const onWire = acceptedOnWire(bytes);
  if (onWire !== null) {
    assert.deepEqual(checkTraceRequest(decodeTraceRequestProtobuf(bytes)), {
      accepted: onWire,
      rejected: { count: 0, errors: [] },
    });
  }
  return onWire;
}

const encoded = (req: ExportTraceRequest) => encodeTraceRequestProtobuf(req);

/** A valid trace: a workflow span that owns a store, and nodes that patch it. */
const contract2 = contract2WorkflowTrace({ seed: 2 });
const isWorkflow = (span: Span) =>
  span.attributes.some(
    (kv) => kv.key === 'junjo.span_type' && kv.value.type === 'string' && kv.value.value === 'workflow',
  );
/** The trace as a request, its workflow span changed (and its service renamed). */
const withWorkflowSpan = (change: (span: Span) => void, serviceName?: string): ExportTraceRequest => {
  const all = contract2.spans.map((s) => ({
    ...s,
    span: structuredClone(s.span),
    serviceName: serviceName ?? s.serviceName,
  }));
  const workflow = all.find((s) => isWorkflow(s.span));
  assert.ok(workflow);
  change(workflow.span);
  return toExportRequest(all);
};
const setAttribute = (span: Span, key: string, value: AnyValue) => {
  span.attributes = [...span.attributes.filter((kv) => kv.key !== key), { key, value }];
};
const text = (value: string): AnyValue => ({ type: 'string', value });
const nested = (levels: number): AnyValue => {
  let value: AnyValue = text('bottom');
  for (let i = 0; i < levels; i++) value = { type: 'array', value: [value] };
  return value;
};

describe('acceptedOnWire', () => {
  it('accepts every span of valid exports, as the full check does', () => {
    const fixtures = toExportRequest([
      ...legacyWorkflowTrace({ seed: 1, fail: true, largeStateBytes: 50_000 }).spans,
      ...contract2WorkflowTrace({ seed: 2, serviceName: 'カスタマーサポート 🤖' }).spans,
      ...agentTrace({ seed: 3, serviceName: 'support-bot' }).spans,
    ]);
    assert.equal(wireVerdict(encoded(fixtures)), 12 + 11 + 4);
    const mix = workflowMix({ traces: 300, services: 3, seed: 7 });
    const counted = packRequests(mix, 512).map((req) => wireVerdict(encoded(req)));
    assert.equal(
      counted.reduce((sum: number, n) => sum + (n ?? Number.NaN), 0),
      mix.length,
    );
    assert.equal(wireVerdict(encoded({ resourceSpans: [] })), 0);
  });

  // Each change makes the full check reject a span (all of them for the service name); the wire must leave the request to it.
  const rejected: Array<[string, ExportTraceRequest]> = [
    ['a 15-byte trace id', withWorkflowSpan((s) => (s.traceId = s.traceId.subarray(1)))],
    ['an all-zero trace id', withWorkflowSpan((s) => (s.traceId = Buffer.alloc(16)))],
    ['an all-zero span id', withWorkflowSpan((s) => (s.spanId = Buffer.alloc(8)))],
    ['a 4-byte parent id', withWorkflowSpan((s) => (s.parentSpanId = Buffer.alloc(4, 1)))],
    [
      'a state that is not JSON',
      withWorkflowSpan((s) => setAttribute(s, 'junjo.workflow.state.start', text('{'))),
    ],
    [
      'a graph snapshot with an escaped lone surrogate',
      withWorkflowSpan((s) =>
        setAttribute(s, 'junjo.workflow.execution_graph_snapshot', text('["\\ud800"]')),
      ),
    ],
    [
      'a set_state patch that is not a JSON Patch',
      (() => {
        const req = withWorkflowSpan(() => {});
        const node = req.resourceSpans[0]!.scopeSpans[0]!.spans.find((s) =>
          s.events.some((e) => e.name === 'set_state'),
        )!;
        const event = node.events.find((e) => e.name === 'set_state')!;
        event.attributes = [
          ...event.attributes.filter((kv) => kv.key !== 'junjo.state_json_patch'),
          { key: 'junjo.state_json_patch', value: text('[{"op":"jump","path":"/x"}]') },
        ];
        return req;
      })(),
    ],
    [
      `attributes nested ${MAX_JSON_DEPTH} levels deep`,
      withWorkflowSpan((s) => setAttribute(s, 'deep', nested(MAX_JSON_DEPTH))),
    ],
    ['a name over the limit', withWorkflowSpan((s) => (s.name = 'n'.repeat(SPAN_LIMITS.nameLength + 1)))],
    [
      'a key over the limit',
      withWorkflowSpan((s) => setAttribute(s, 'k'.repeat(SPAN_LIMITS.attributeKeyLength + 1), text('v'))),
    ],
    [
      'too many attributes',
      withWorkflowSpan((s) => {
        s.attributes = attributes(
          Object.fromEntries(Array.from({ length: SPAN_LIMITS.attributeCount + 1 }, (_, i) => [`a${i}`, i])),
        );
      }),
    ],
    [
      'a service.name over the limit',
      withWorkflowSpan(() => {}, 's'.repeat(SPAN_LIMITS.serviceNameLength + 1)),
    ],
  ];
  for (const [what, req] of rejected) {
    it(`leaves a span with ${what} to the full check`, () => {
      const full = checkTraceRequest(decodeTraceRequestProtobuf(encoded(req)));
      assert.ok(full.rejected.count >= 1, 'the full check accepts it');
      assert.equal(acceptedOnWire(encoded(req)), null);
    });
  }

  it('accepts what is just within the limits', () => {
    const req = withWorkflowSpan((s) => {
      s.name = 'é'.repeat(SPAN_LIMITS.nameLength); // 2 bytes each: left to the full check
      setAttribute(s, 'deep', nested(MAX_JSON_DEPTH - 1));
    });
    assert.equal(wireVerdict(encoded(req)), null);
    const ascii = withWorkflowSpan((s) => {
      s.name = 'n'.repeat(SPAN_LIMITS.nameLength);
      setAttribute(s, 'deep', nested(MAX_JSON_DEPTH - 1));
    });
    assert.equal(wireVerdict(encoded(ascii)), contract2.spans.length);
  });

  it('reads repeated fields as the decoder does: the last one on the wire wins', () => {
    const id = (byte: number, length: number) => Buffer.alloc(length, byte);
    const kv = (key: string, ...values: Buffer[]) =>
      field(9, Buffer.concat([field(1, Buffer.from(key)), ...values.map((v) => field(2, v))]));
    const str = (value: string) => field(1, Buffer.from(value));
    const request = (...spanFields: Buffer[]) =>
      field(1, field(2, field(2, Buffer.concat([field(5, Buffer.from('s')), ...spanFields]))));
    const cases: Array<[string, Buffer, number | null]> = [
      [
        'a zero trace id after a valid one',
        request(field(1, id(1, 16)), field(1, id(0, 16)), field(2, id(1, 8))),
        null,
      ],
      [
        'a valid trace id after a zero one',
        request(field(1, id(0, 16)), field(1, id(1, 16)), field(2, id(1, 8))),
        1,
      ],
      [
        'a state that is JSON after one that is not',
        request(
          field(1, id(1, 16)),
          field(2, id(1, 8)),
          kv('junjo.span_type', str('workflow')),
          kv('junjo.workflow.state.start', str('{'), str('{"a":1}')),
        ),
        1,
      ],
      [
        'a state that is not JSON after one that is',
        request(
          field(1, id(1, 16)),
          field(2, id(1, 8)),
          kv('junjo.span_type', str('workflow')),
          kv('junjo.workflow.state.start', str('{"a":1}')),
          kv('junjo.workflow.state.start', str('{')),
        ),
        null,
      ],
      [
        'a state whose string is replaced by a number',
        request(
          field(1, id(1, 16)),
          field(2, id(1, 8)),
          kv('junjo.span_type', str('workflow')),
          kv('junjo.workflow.state.start', Buffer.concat([str('{'), Buffer.from([3 << 3, 7])])),
        ),
        1,
      ],
    ];
    for (const [what, bytes, expected] of cases) {
      const full = checkTraceRequest(decodeTraceRequestProtobuf(bytes));
      assert.equal(full.rejected.count, expected === null ? 1 : 0, what);
      assert.equal(wireVerdict(bytes), expected, what);
    }
  });

  it("agrees with the full check on the fuzz suite's generated and mutated requests", () => {
    const cases = new FuzzCases({ seed: 41, maxRequestBytes: 2 * 1024 * 1024 });
    let judged = 0;
    let leftToFullCheck = 0;
    for (let i = 0; i < 3000; i++) {
      const fuzzCase = i % 10 === 0 ? cases.validCase('grpc') : cases.next();
      if (fuzzCase.format !== 'protobuf' || fuzzCase.payload.length > 2 * 1024 * 1024) continue;
      const verdict = wireVerdict(fuzzCase.payload);
      if (fuzzCase.kind === 'valid.protobuf') assert.notEqual(verdict, null);
      if (verdict === null) leftToFullCheck++;
      else judged++;
    }
    // Both answers occur, so both sides of the comparison were exercised.
    assert.ok(judged > 500, `${judged} judged on the wire`);
    assert.ok(leftToFullCheck > 100, `${leftToFullCheck} left to the full check`);
  });
});
