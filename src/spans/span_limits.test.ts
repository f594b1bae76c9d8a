import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  toExportRequest,
} from '../fixtures/junjo_traces.ts';
import type { ExportTraceRequest, KeyValue, Span } from '../otlp/types.ts';
import { SPAN_LIMITS } from './span_limits.ts';
import { checkTraceRequest, processTraceRequest } from './span_processor.ts';

const spansOf = (request: ExportTraceRequest): Span[] =>
  request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

const text = (length: number) => 'x'.repeat(length);
const stringValue = (length: number): KeyValue['value'] => ({ type: 'string', value: text(length) });

/** A Junjo workflow trace with 2 MB of state and an LLM call; every span is valid as it is. */
function realisticRequest(): ExportTraceRequest {
  return toExportRequest(contract2WorkflowTrace({ seed: 11, largeStateBytes: 2_000_000, llm: true }).spans);
}

/** Processes `request` after `breakOne` changed its second span; that span alone must be rejected. */
function rejectsOnlyThatSpan(breakOne: (span: Span) => void, reason: RegExp): void {
  const request = realisticRequest();
  const spans = spansOf(request);
  breakOne(spans[1]!);
  const processed = processTraceRequest(request);
  assert.deepEqual(checkTraceRequest(request), { accepted: spans.length - 1, rejected: processed.rejected });
  assert.equal(processed.rejected.count, 1);
  assert.match(processed.rejected.errors[0]!, /^span 1 of resource 0/);
  assert.match(processed.rejected.errors[0]!, reason);
  assert.equal(processed.spans.length, spans.length - 1, 'the other spans are kept');
}

describe('per-span limits', () => {
  test('real Junjo traces are within every limit: large state, LLM prompts, agents', () => {
    for (const trace of [
      legacyWorkflowTrace({ seed: 1, largeStateBytes: 2_000_000, llm: true, subflow: true }),
      contract2WorkflowTrace({ seed: 2, largeStateBytes: 2_000_000, llm: true }),
      agentTrace({ seed: 3, largeStateBytes: 2_000_000 }),
    ]) {
      assert.deepEqual(processTraceRequest(toExportRequest(trace.spans)).rejected, { count: 0, errors: [] });
    }
    // An LLM prompt of 500 KB, as an attribute and inside an array of messages.
    const request = realisticRequest();
    spansOf(request)[1]!.attributes.push(
      { key: 'llm.prompt', value: stringValue(500_000) },
      { key: 'llm.messages', value: { type: 'array', value: [stringValue(500_000), stringValue(500_000)] } },
    );
    assert.equal(processTraceRequest(request).rejected.count, 0);
  });

  test('a span name or service name over its limit', () => {
    rejectsOnlyThatSpan((span) => {
      span.name = text(SPAN_LIMITS.nameLength + 1);
    }, /name has 1025 characters, over the limit of 1024/);
    const request = realisticRequest();
    const service = request.resourceSpans[0]!.resource!.attributes.find((kv) => kv.key === 'service.name')!;
    service.value = stringValue(SPAN_LIMITS.serviceNameLength + 1);
    const processed = processTraceRequest(request);
    assert.equal(processed.spans.length, 0, 'every span of that resource names it');
    assert.match(processed.rejected.errors[0]!, /service\.name has 513 characters, over the limit of 512/);
  });

  test('too many attributes, on the span or on one of its events', () => {
    const many = (count: number): KeyValue[] =>
      Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: { type: 'int', value: BigInt(i) } }));
    rejectsOnlyThatSpan((span) => {
      span.attributes.push(...many(SPAN_LIMITS.attributeCount));
    }, /attributes has \d+ entries, over the limit of 2048/);
    rejectsOnlyThatSpan((span) => {
      span.events.push({
        timeUnixNano: span.startTimeUnixNano,
        name: 'e',
        attributes: many(2049),
        droppedAttributesCount: 0,
      });
    }, /event \d+ attributes has 2049 entries/);
  });

  test('an attribute key or value over its limit, also nested in an array or kvlist', () => {
    rejectsOnlyThatSpan((span) => {
      span.attributes.push({ key: text(1025), value: stringValue(1) });
    }, /attributes "x{80}…": the key has 1025 characters, over the limit of 1024/);
    rejectsOnlyThatSpan((span) => {
      span.attributes.push({ key: 'huge', value: stringValue(SPAN_LIMITS.attributeValueLength + 1) });
    }, /attributes "huge": the value has 16777217 characters, over the limit of 16777216/);
    rejectsOnlyThatSpan((span) => {
      span.attributes.push({
        key: 'blob',
        value: {
          type: 'array',
          value: [{ type: 'bytes', value: new Uint8Array(SPAN_LIMITS.attributeValueLength + 1) }],
        },
      });
    }, /attributes "blob": the value has 16777217 bytes/);
    rejectsOnlyThatSpan((span) => {
      span.attributes.push({
        key: 'map',
        value: { type: 'kvlist', value: [{ key: text(2000), value: stringValue(1) }] },
      });
    }, /attributes "map": a nested key has 2000 characters/);
  });

  test('too many events or links', () => {
    rejectsOnlyThatSpan((span) => {
      const event = {
        timeUnixNano: span.startTimeUnixNano,
        name: 'tick',
        attributes: [],
        droppedAttributesCount: 0,
      };
      span.events = Array.from({ length: SPAN_LIMITS.eventCount + 1 }, () => event);
    }, /the span has 10001 events, over the limit of 10000/);
    rejectsOnlyThatSpan((span) => {
      span.events.push({
        timeUnixNano: span.startTimeUnixNano,
        name: text(1025),
        attributes: [],
        droppedAttributesCount: 0,
      });
    }, /event \d+ name has 1025 characters/);
    rejectsOnlyThatSpan((span) => {
      const link = {
        traceId: span.traceId,
        spanId: span.spanId,
        traceState: '',
        attributes: [],
        droppedAttributesCount: 0,
        flags: 0,
      };
      span.links = Array.from({ length: SPAN_LIMITS.linkCount + 1 }, () => link);
    }, /the span has 1001 links/);
  });
});
