// ExportTraceRequest → OTLP protobuf / OTLP/JSON, and the ExportTraceServiceResponse the
// receivers answer with. The protobuf side goes through protobufjs types loaded from the
// project's .proto files; requests are only encoded by fixtures, tests and benchmarks.
import { bytesToBase64, bytesToHex } from './hex.ts';
import { otlpProtoTypes } from './proto_root.ts';
import type {
  AnyValue,
  ExportTraceRequest,
  InstrumentationScope,
  KeyValue,
  PartialSuccess,
  Resource,
  Span,
} from './types.ts';

/** protobufjs accepts any {low, high} object for 64-bit fields; bigint is not supported natively. */
function longBits(value: bigint): { low: number; high: number } {
  const u = BigInt.asUintN(64, value);
  return { low: Number(u & 0xffffffffn), high: Number(u >> 32n) };
}

// ---- protobuf -------------------------------------------------------------------------------

export function encodeTraceRequestProtobuf(req: ExportTraceRequest): Uint8Array {
  const message = {
    resource_spans: req.resourceSpans.map((rs) => ({
      ...(rs.resource ? { resource: resourceToProto(rs.resource) } : {}),
      scope_spans: rs.scopeSpans.map((ss) => ({
        ...(ss.scope ? { scope: scopeToProto(ss.scope) } : {}),
        spans: ss.spans.map(spanToProto),
        schema_url: ss.schemaUrl,
      })),
      schema_url: rs.schemaUrl,
    })),
  };
  return otlpProtoTypes().exportTraceRequest.encode(message).finish();
}

function resourceToProto(resource: Resource) {
  return {
    attributes: resource.attributes.map(keyValueToProto),
    dropped_attributes_count: resource.droppedAttributesCount,
  };
}

function scopeToProto(scope: InstrumentationScope) {
  return {
    name: scope.name,
    version: scope.version,
    attributes: scope.attributes.map(keyValueToProto),
    dropped_attributes_count: scope.droppedAttributesCount,
  };
}

function spanToProto(span: Span) {
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    trace_state: span.traceState,
    parent_span_id: span.parentSpanId,
    flags: span.flags,
    name: span.name,
    kind: span.kind,
    start_time_unix_nano: longBits(span.startTimeUnixNano),
    end_time_unix_nano: longBits(span.endTimeUnixNano),
    attributes: span.attributes.map(keyValueToProto),
    dropped_attributes_count: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      time_unix_nano: longBits(e.timeUnixNano),
      name: e.name,
      attributes: e.attributes.map(keyValueToProto),
      dropped_attributes_count: e.droppedAttributesCount,
    })),
    dropped_events_count: span.droppedEventsCount,
    links: span.links.map((l) => ({
      trace_id: l.traceId,
      span_id: l.spanId,
      trace_state: l.traceState,
      attributes: l.attributes.map(keyValueToProto),
      dropped_attributes_count: l.droppedAttributesCount,
      flags: l.flags,
    })),
    dropped_links_count: span.droppedLinksCount,
    ...(span.status ? { status: { code: span.status.code, message: span.status.message } } : {}),
  };
}

function keyValueToProto(kv: KeyValue): object {
  return kv.value.type === 'empty' ? { key: kv.key } : { key: kv.key, value: anyValueToProto(kv.value) };
}

function anyValueToProto(value: AnyValue): object {
  switch (value.type) {
    case 'string':
      return { string_value: value.value };
    case 'bool':
      return { bool_value: value.value };
    case 'int':
      return { int_value: longBits(value.value) };
    case 'double':
      return { double_value: value.value };
    case 'bytes':
      return { bytes_value: value.value };
    case 'array':
      return { array_value: { values: value.value.map(anyValueToProto) } };
    case 'kvlist':
      return { kvlist_value: { values: value.value.map(keyValueToProto) } };
    case 'empty':
      return {};
  }
}

// ---- OTLP/JSON ------------------------------------------------------------------------------

/** OTLP/JSON text: camelCase keys, hex ids, 64-bit integers as decimal strings, bytes as base64. */
export function encodeTraceRequestJson(req: ExportTraceRequest): string {
  return JSON.stringify({
    resourceSpans: req.resourceSpans.map((rs) => ({
      ...(rs.resource ? { resource: resourceToJson(rs.resource) } : {}),
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...(ss.scope ? { scope: scopeToJson(ss.scope) } : {}),
        spans: ss.spans.map(spanToJson),
        ...(ss.schemaUrl ? { schemaUrl: ss.schemaUrl } : {}),
      })),
      ...(rs.schemaUrl ? { schemaUrl: rs.schemaUrl } : {}),
    })),
  });
}

function resourceToJson(resource: Resource) {
  return {
    attributes: resource.attributes.map(keyValueToJson),
    droppedAttributesCount: resource.droppedAttributesCount,
  };
}

function scopeToJson(scope: InstrumentationScope) {
  return {
    name: scope.name,
    version: scope.version,
    attributes: scope.attributes.map(keyValueToJson),
    droppedAttributesCount: scope.droppedAttributesCount,
  };
}

function spanToJson(span: Span) {
  return {
    traceId: bytesToHex(span.traceId),
    spanId: bytesToHex(span.spanId),
    ...(span.traceState ? { traceState: span.traceState } : {}),
    parentSpanId: bytesToHex(span.parentSpanId),
    flags: span.flags,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    attributes: span.attributes.map(keyValueToJson),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      timeUnixNano: e.timeUnixNano.toString(),
      name: e.name,
      attributes: e.attributes.map(keyValueToJson),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((l) => ({
      traceId: bytesToHex(l.traceId),
      spanId: bytesToHex(l.spanId),
      ...(l.traceState ? { traceState: l.traceState } : {}),
      attributes: l.attributes.map(keyValueToJson),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: l.flags,
    })),
    droppedLinksCount: span.droppedLinksCount,
    ...(span.status ? { status: { code: span.status.code, message: span.status.message } } : {}),
  };
}

function keyValueToJson(kv: KeyValue): object {
  return kv.value.type === 'empty' ? { key: kv.key } : { key: kv.key, value: anyValueToJson(kv.value) };
}

function anyValueToJson(value: AnyValue): object {
  switch (value.type) {
    case 'string':
      return { stringValue: value.value };
    case 'bool':
      return { boolValue: value.value };
    case 'int':
      return { intValue: value.value.toString() };
    case 'double':
      // proto3 JSON spells the non-finite doubles as strings.
      return { doubleValue: Number.isFinite(value.value) ? value.value : String(value.value) };
    case 'bytes':
      return { bytesValue: bytesToBase64(value.value) };
    case 'array':
      return { arrayValue: { values: value.value.map(anyValueToJson) } };
    case 'kvlist':
      return { kvlistValue: { values: value.value.map(keyValueToJson) } };
    case 'empty':
      return {};
  }
}

// ---- responses ------------------------------------------------------------------------------

const isFullSuccess = (partial: PartialSuccess | null | undefined): partial is null | undefined =>
  !partial || (partial.rejectedSpans === 0 && !partial.errorMessage);

/**
 * ExportTraceServiceResponse bytes. Without a partial success (or with rejectedSpans 0 and no
 * message) this is the empty message, i.e. zero bytes: full success.
 */
export function encodeTraceResponse(partialSuccess?: PartialSuccess | null): Uint8Array {
  if (isFullSuccess(partialSuccess)) return new Uint8Array(0);
  return otlpProtoTypes()
    .exportTraceResponse.encode({
      partial_success: {
        rejected_spans: longBits(BigInt(partialSuccess.rejectedSpans)),
        error_message: partialSuccess.errorMessage,
      },
    })
    .finish();
}

/** The same response in OTLP/JSON (int64 as a decimal string, per the proto3 JSON mapping). */
export function encodeTraceResponseJson(partialSuccess?: PartialSuccess | null): string {
  if (isFullSuccess(partialSuccess)) return '{}';
  return JSON.stringify({
    partialSuccess: {
      rejectedSpans: String(partialSuccess.rejectedSpans),
      errorMessage: partialSuccess.errorMessage,
    },
  });
}

/** ExportLogsServiceResponse bytes; `rejectedSpans` counts the rejected log records here. */
export function encodeLogsResponse(partialSuccess?: PartialSuccess | null): Uint8Array {
  if (isFullSuccess(partialSuccess)) return new Uint8Array(0);
  return otlpProtoTypes()
    .exportLogsResponse.encode({
      partial_success: {
        rejected_log_records: longBits(BigInt(partialSuccess.rejectedSpans)),
        error_message: partialSuccess.errorMessage,
      },
    })
    .finish();
}

export function encodeLogsResponseJson(partialSuccess?: PartialSuccess | null): string {
  if (isFullSuccess(partialSuccess)) return '{}';
  return JSON.stringify({
    partialSuccess: {
      rejectedLogRecords: String(partialSuccess.rejectedSpans),
      errorMessage: partialSuccess.errorMessage,
    },
  });
}
