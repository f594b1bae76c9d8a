import { AppError } from '../errors.ts';

// The in-memory shape of a decoded OTLP ExportTraceServiceRequest, shared by the protobuf and
// JSON decoders, the encoders and the span processor.
//
// - ids keep their raw bytes (any length): validating them is the span processor's job, so one bad
//   span can be rejected without failing the whole request;
// - every uint64/int64 is a bigint: nanosecond timestamps exceed 2^53 and must never pass
//   through a float;
// - attribute values are a tagged union that keeps every AnyValue kind, nested to any depth.

/**
 * How deeply array/kvlist attribute values may nest before a request is refused as undecodable.
 * This only protects the decoders' stack; the span processor applies the stricter I-JSON limit
 * (128) per span, so a moderately over-deep value costs its span, not the whole request.
 */
export const MAX_DECODED_VALUE_DEPTH = 512;

export type AnyValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'array'; readonly value: AnyValue[] }
  | { readonly type: 'kvlist'; readonly value: KeyValue[] }
  /** The AnyValue message with no field set (or a KeyValue without value). */
  | { readonly type: 'empty' };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

/** OTLP Status.StatusCode: 0 UNSET, 1 OK, 2 ERROR (other numbers are kept as sent). */
export interface Status {
  code: number;
  message: string;
}

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  /** Empty for a root span. */
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  /** OTLP Span.SpanKind number: 0 UNSPECIFIED, 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  /** null when the span carried no Status message. */
  status: Status | null;
}

export interface ScopeSpans {
  scope: InstrumentationScope | null;
  spans: Span[];
  schemaUrl: string;
}

export interface ResourceSpans {
  resource: Resource | null;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
}

export interface ExportTraceRequest {
  resourceSpans: ResourceSpans[];
}

/** One OTLP LogRecord (opentelemetry/proto/logs/v1). `body` is null when the record has none. */
export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** OTLP SeverityNumber (0 UNSPECIFIED … 24 FATAL4). */
  severityNumber: number;
  severityText: string;
  body: AnyValue | null;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  /** Empty when the record belongs to no trace. */
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

export interface ScopeLogs {
  scope: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

export interface ExportLogsRequest {
  resourceLogs: ResourceLogs[];
}

/** ExportTracePartialSuccess: how many spans of a request were rejected, and why. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** The request bytes/text are not a decodable export request (INVALID_ARGUMENT / HTTP 400). */
export class OtlpDecodeError extends AppError {
  constructor(message: string) {
    super(message, 'invalid_input');
    this.name = 'OtlpDecodeError';
  }
}
