// ExportTraceServiceRequest / ExportLogsServiceRequest protobuf bytes → ExportTraceRequest /
// ExportLogsRequest, in one pass.
//
// Hand-written over the wire format instead of protobufjs' reflection decoder because this is
// the ingestion hot path and the generic decoder would need a second pass anyway: it yields
// Long objects for 64-bit fields (we want bigint), camel/snake objects we would re-shape, and
// caps message nesting at 100 (a deeply nested attribute would fail the whole request instead of
// just its span). Field numbers follow proto/opentelemetry/...; decode_protobuf.test.ts checks
// this decoder against protobufjs loaded from those files. Unknown fields are skipped.

import {
  EMPTY_BYTES,
  expectWireType,
  fail,
  I64,
  messageEnd,
  type Reader,
  readBytes,
  readDouble,
  readFixed32Field,
  readFixed64Field,
  readString,
  readUint32Field,
  readVarint32,
  readVarint64,
  skipField,
  VARINT,
  wireReader,
} from './protobuf_wire.ts';
import type {
  AnyValue,
  ExportLogsRequest,
  ExportTraceRequest,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
  ResourceLogs,
  ResourceSpans,
  ScopeLogs,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
  Status,
} from './types.ts';
import { MAX_DECODED_VALUE_DEPTH, OtlpDecodeError } from './types.ts';

const EMPTY_VALUE: AnyValue = { type: 'empty' };

/** Byte fields of the result (ids, bytes values) are views into `bytes`, not copies. */
export function decodeTraceRequestProtobuf(bytes: Uint8Array): ExportTraceRequest {
  return { resourceSpans: readTopLevel(bytes, 'ExportTraceServiceRequest', readResourceSpans) };
}

/** Byte fields of the result (ids, bytes values) are views into `bytes`, not copies. */
export function decodeLogsRequestProtobuf(bytes: Uint8Array): ExportLogsRequest {
  return { resourceLogs: readTopLevel(bytes, 'ExportLogsServiceRequest', readResourceLogs) };
}

/** Both export requests are one repeated message in field 1; `what` names the request in errors. */
function readTopLevel<T>(bytes: Uint8Array, what: string, read: (r: Reader, end: number) => T): T[] {
  const r = wireReader(bytes, what);
  const items: T[] = [];
  try {
    const end = bytes.byteLength;
    while (r.pos < end) {
      const tag = readVarint32(r, end);
      if (tag >>> 3 === 1) items.push(read(r, messageEnd(r, tag, end)));
      else skipField(r, tag, end);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    // RangeError from DataView reads past the end, stack overflow on absurd nesting, …
    throw new OtlpDecodeError(`invalid ${what} protobuf: ${(err as Error).message}`);
  }
  return items;
}

function readResourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { resource: null, scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.resource = readResource(r, messageEnd(r, tag, end));
        break;
      case 2:
        out.scopeSpans.push(readScopeSpans(r, messageEnd(r, tag, end)));
        break;
      case 3:
        out.schemaUrl = readString(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readResourceLogs(r: Reader, end: number): ResourceLogs {
  const out: ResourceLogs = { resource: null, scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.resource = readResource(r, messageEnd(r, tag, end));
        break;
      case 2:
        out.scopeLogs.push(readScopeLogs(r, messageEnd(r, tag, end)));
        break;
      case 3:
        out.schemaUrl = readString(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readScopeLogs(r: Reader, end: number): ScopeLogs {
  const out: ScopeLogs = { scope: null, logRecords: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.scope = readScope(r, messageEnd(r, tag, end));
        break;
      case 2:
        out.logRecords.push(readLogRecord(r, messageEnd(r, tag, end)));
        break;
      case 3:
        out.schemaUrl = readString(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readLogRecord(r: Reader, end: number): LogRecord {
  const out: LogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    eventName: '',
  };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.timeUnixNano = readFixed64Field(r, tag, end);
        break;
      case 2:
        out.severityNumber = readUint32Field(r, tag, end) | 0;
        break;
      case 3:
        out.severityText = readString(r, tag, end);
        break;
      case 5:
        out.body = readAnyValue(r, messageEnd(r, tag, end), 0);
        break;
      case 6:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 7:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      case 8:
        out.flags = readFixed32Field(r, tag, end);
        break;
      case 9:
        out.traceId = readBytes(r, tag, end);
        break;
      case 10:
        out.spanId = readBytes(r, tag, end);
        break;
      case 11:
        out.observedTimeUnixNano = readFixed64Field(r, tag, end);
        break;
      case 12:
        out.eventName = readString(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

export function readResource(r: Reader, end: number): Resource {
  const out: Resource = { attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 2:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readScopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { scope: null, spans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.scope = readScope(r, messageEnd(r, tag, end));
        break;
      case 2:
        out.spans.push(readSpan(r, messageEnd(r, tag, end)));
        break;
      case 3:
        out.schemaUrl = readString(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

export function readScope(r: Reader, end: number): InstrumentationScope {
  const out: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.name = readString(r, tag, end);
        break;
      case 2:
        out.version = readString(r, tag, end);
        break;
      case 3:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 4:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readSpan(r: Reader, end: number): Span {
  const out: Span = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    parentSpanId: EMPTY_BYTES,
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: null,
  };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.traceId = readBytes(r, tag, end);
        break;
      case 2:
        out.spanId = readBytes(r, tag, end);
        break;
      case 3:
        out.traceState = readString(r, tag, end);
        break;
      case 4:
        out.parentSpanId = readBytes(r, tag, end);
        break;
      case 5:
        out.name = readString(r, tag, end);
        break;
      case 6:
        out.kind = readUint32Field(r, tag, end) | 0; // enums are int32 on the wire
        break;
      case 7:
        out.startTimeUnixNano = readFixed64Field(r, tag, end);
        break;
      case 8:
        out.endTimeUnixNano = readFixed64Field(r, tag, end);
        break;
      case 9:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 10:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      case 11:
        out.events.push(readEvent(r, messageEnd(r, tag, end)));
        break;
      case 12:
        out.droppedEventsCount = readUint32Field(r, tag, end);
        break;
      case 13:
        out.links.push(readLink(r, messageEnd(r, tag, end)));
        break;
      case 14:
        out.droppedLinksCount = readUint32Field(r, tag, end);
        break;
      case 15:
        out.status = readStatus(r, messageEnd(r, tag, end));
        break;
      case 16:
        out.flags = readFixed32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readEvent(r: Reader, end: number): SpanEvent {
  const out: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.timeUnixNano = readFixed64Field(r, tag, end);
        break;
      case 2:
        out.name = readString(r, tag, end);
        break;
      case 3:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 4:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readLink(r: Reader, end: number): SpanLink {
  const out: SpanLink = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
  };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        out.traceId = readBytes(r, tag, end);
        break;
      case 2:
        out.spanId = readBytes(r, tag, end);
        break;
      case 3:
        out.traceState = readString(r, tag, end);
        break;
      case 4:
        out.attributes.push(readKeyValue(r, messageEnd(r, tag, end), 0));
        break;
      case 5:
        out.droppedAttributesCount = readUint32Field(r, tag, end);
        break;
      case 6:
        out.flags = readFixed32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

export function readStatus(r: Reader, end: number): Status {
  const out: Status = { code: 0, message: '' };
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 2:
        out.message = readString(r, tag, end);
        break;
      case 3:
        out.code = readUint32Field(r, tag, end) | 0;
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return out;
}

function readKeyValue(r: Reader, end: number, depth: number): KeyValue {
  let key = '';
  let value = EMPTY_VALUE;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        key = readString(r, tag, end);
        break;
      case 2:
        value = readAnyValue(r, messageEnd(r, tag, end), depth);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return { key, value };
}

/** `depth` counts enclosing array/kvlist values, so an attribute's own value is at depth 0. */
function readAnyValue(r: Reader, end: number, depth: number): AnyValue {
  if (depth > MAX_DECODED_VALUE_DEPTH)
    fail(r, `attribute value nested deeper than ${MAX_DECODED_VALUE_DEPTH} levels`);
  // proto3 oneof: the last field on the wire wins.
  let value = EMPTY_VALUE;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        value = { type: 'string', value: readString(r, tag, end) };
        break;
      case 2:
        expectWireType(r, tag, VARINT);
        value = { type: 'bool', value: readVarint64(r, end) !== 0n };
        break;
      case 3:
        expectWireType(r, tag, VARINT);
        value = { type: 'int', value: readVarint64(r, end) };
        break;
      case 4:
        expectWireType(r, tag, I64);
        value = { type: 'double', value: readDouble(r, end) };
        break;
      case 5:
        value = { type: 'array', value: readArrayValue(r, messageEnd(r, tag, end), depth + 1) };
        break;
      case 6:
        value = { type: 'kvlist', value: readKeyValueList(r, messageEnd(r, tag, end), depth + 1) };
        break;
      case 7:
        value = { type: 'bytes', value: readBytes(r, tag, end) };
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return value;
}

function readArrayValue(r: Reader, end: number, depth: number): AnyValue[] {
  const values: AnyValue[] = [];
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    if (tag >>> 3 === 1) values.push(readAnyValue(r, messageEnd(r, tag, end), depth));
    else skipField(r, tag, end);
  }
  return values;
}

function readKeyValueList(r: Reader, end: number, depth: number): KeyValue[] {
  const values: KeyValue[] = [];
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    if (tag >>> 3 === 1) values.push(readKeyValue(r, messageEnd(r, tag, end), depth));
    else skipField(r, tag, end);
  }
  return values;
}
