import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeTraceResponse, encodeTraceResponseJson } from './encode.ts';
import { otlpProtoTypes } from './proto_root.ts';

describe('encodeTraceResponse', () => {
  it('is the empty message (full success) without a partial success', () => {
    assert.equal(encodeTraceResponse().length, 0);
    assert.equal(encodeTraceResponse(null).length, 0);
    assert.equal(encodeTraceResponse({ rejectedSpans: 0, errorMessage: '' }).length, 0);
    assert.equal(encodeTraceResponseJson(), '{}');
  });

  it('carries rejected_spans and error_message as ExportTracePartialSuccess', () => {
    const partial = {
      rejectedSpans: 3,
      errorMessage: 'span 0 of resource 0 ("x"): span_id has 5 bytes, expected 8',
    };
    const type = otlpProtoTypes().exportTraceResponse;
    const decoded = type.toObject(type.decode(encodeTraceResponse(partial)), { longs: Number });
    assert.deepEqual(decoded, {
      partial_success: { rejected_spans: 3, error_message: partial.errorMessage },
    });
    assert.deepEqual(JSON.parse(encodeTraceResponseJson(partial)), {
      partialSuccess: { rejectedSpans: '3', errorMessage: partial.errorMessage },
    });
  });

  it('encodes the same bytes as the OTLP wire format spells them', () => {
    // field 1 (partial_success, LEN) { field 1 (rejected_spans, varint) = 2 }
    assert.deepEqual(
      [...encodeTraceResponse({ rejectedSpans: 2, errorMessage: '' })],
      [0x0a, 0x02, 0x08, 0x02],
    );
  });
});
