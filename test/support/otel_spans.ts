// Turns the project's fixture requests into the SDK's ReadableSpan objects, so the stock
// OpenTelemetry JS exporters can send Junjo-shaped traces exactly as an SDK would.
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { bytesToHex } from '../../src/otlp/hex.ts';
import type { AnyValue, ExportTraceRequest, KeyValue } from '../../src/otlp/types.ts';

const hrTime = (nanos: bigint): HrTime => [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)];

const scalar = (value: AnyValue): string | number | boolean | undefined => {
  switch (value.type) {
    case 'string':
    case 'bool':
    case 'double':
      return value.value;
    case 'int':
      return Number(value.value);
    default:
      return undefined;
  }
};

/** OTel JS attributes hold scalars and homogeneous scalar arrays; fixtures stay within that. */
const attributes = (list: KeyValue[]): Attributes => {
  const out: Attributes = {};
  for (const { key, value } of list) {
    if (value.type === 'array') {
      out[key] = value.value.map(scalar).filter((item) => item !== undefined) as AttributeValue;
    } else {
      const converted = scalar(value);
      if (converted !== undefined) out[key] = converted;
    }
  }
  return out;
};

export function toReadableSpans(request: ExportTraceRequest): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = resourceFromAttributes(attributes(resourceSpans.resource?.attributes ?? []));
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        const traceId = bytesToHex(span.traceId);
        const start = hrTime(span.startTimeUnixNano);
        const end = hrTime(span.endTimeUnixNano);
        const durationNanos = span.endTimeUnixNano - span.startTimeUnixNano;
        spans.push({
          name: span.name,
          kind: Math.max(0, span.kind - 1),
          spanContext: () => ({ traceId, spanId: bytesToHex(span.spanId), traceFlags: span.flags & 0xff }),
          parentSpanContext:
            span.parentSpanId.length > 0
              ? { traceId, spanId: bytesToHex(span.parentSpanId), traceFlags: 1 }
              : undefined,
          startTime: start,
          endTime: end,
          status: { code: span.status?.code ?? 0, message: span.status?.message || undefined },
          attributes: attributes(span.attributes),
          links: [],
          events: span.events.map((event) => ({
            name: event.name,
            time: hrTime(event.timeUnixNano),
            attributes: attributes(event.attributes),
          })),
          duration: hrTime(durationNanos),
          ended: true,
          resource,
          instrumentationScope: { name: scopeSpans.scope?.name ?? 'junjo' },
          droppedAttributesCount: 0,
          droppedEventsCount: 0,
          droppedLinksCount: 0,
        });
      }
    }
  }
  return spans;
}
