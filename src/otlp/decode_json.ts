// OTLP/JSON ExportTraceServiceRequest / ExportLogsServiceRequest → ExportTraceRequest / ExportLogsRequest.
//
// The OTLP/JSON mapping differs from generic proto3 JSON: trace/span ids are hex (not base64),
// field names are lowerCamelCase only (snake_case keys are unknown fields and ignored, as the
// spec requires for any unknown field), enums are integers (names accepted too), 64-bit integers
// are decimal strings or numbers, bytes attribute values are base64.
//
// A 64-bit integer sent as a bare JSON number above 2^53 is already rounded by JSON.parse. When
// the fast parse meets one in an integer field, the text is parsed again with a reviver that
// reads the number's source text, so no float rounding ever reaches a timestamp or int value.
import { base64ToBytes, hexToBytes } from './hex.ts';
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

type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

/** SeverityNumber names (SEVERITY_NUMBER_TRACE … FATAL4 = 1 … 24). */
const SEVERITY_NUMBERS: Record<string, number> = Object.fromEntries([
  ['SEVERITY_NUMBER_UNSPECIFIED', 0],
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level, i) =>
    ['', '2', '3', '4'].map((suffix, j) => [`SEVERITY_NUMBER_${level}${suffix}`, i * 4 + j + 1]),
  ),
]);
const EMPTY_BYTES: Uint8Array = Buffer.alloc(0);
const EMPTY_VALUE: AnyValue = { type: 'empty' };
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const INTEGER_TEXT = /^-?\d+$/;

/** Thrown (and caught below) when the fast parse rounded an integer we need exactly. */
class NeedsExactIntegers extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeTraceRequestJson(text: string | Uint8Array): ExportTraceRequest {
  return decodeJson(text, readRequest);
}

export function decodeLogsRequestJson(text: string | Uint8Array): ExportLogsRequest {
  return decodeJson(text, readLogsRequest);
}

function decodeJson<T>(text: string | Uint8Array, read: (json: Json) => T): T {
  let source: string;
  try {
    source = typeof text === 'string' ? text : utf8.decode(text);
  } catch {
    throw new OtlpDecodeError('invalid OTLP/JSON request: body is not valid UTF-8');
  }
  try {
    return read(parse(source, false));
  } catch (err) {
    if (!(err instanceof NeedsExactIntegers)) throw err;
    return read(parse(source, true));
  }
}

function parse(source: string, exactIntegers: boolean): Json {
  try {
    return exactIntegers ? JSON.parse(source, keepExactIntegers) : JSON.parse(source);
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP/JSON request: ${(err as Error).message}`);
  }
}

/** JSON.parse reviver: every integer beyond 2^53 becomes a bigint read from its source text. */
function keepExactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || !Number.isInteger(value) || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  return source !== undefined && INTEGER_TEXT.test(source) ? BigInt(source) : BigInt(value);
}

function fail(path: string, what: string): never {
  throw new OtlpDecodeError(`invalid OTLP/JSON request at ${path}: ${what}`);
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: Json | undefined, path: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail(path, 'expected an object');
  return value;
}

function list(value: Json | undefined, path: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'expected an array');
  return value;
}

/**
 * JSON text may spell an unpaired UTF-16 surrogate ("\ud800"), which has no UTF-8 form. It becomes
 * U+FFFD, as invalid UTF-8 does in the protobuf decoder, so decoded strings are always storable.
 */
function string(value: Json | undefined, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') fail(path, 'expected a string');
  return value.isWellFormed() ? value : value.toWellFormed();
}

function integer(value: Json | undefined, path: string, min: bigint, max: bigint): bigint {
  let n: bigint;
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) fail(path, `expected an integer, got ${value}`);
    if (!Number.isSafeInteger(value)) throw new NeedsExactIntegers();
    n = BigInt(value);
  } else if (typeof value === 'string' && INTEGER_TEXT.test(value)) n = BigInt(value);
  else return fail(path, 'expected an integer or a decimal string');
  if (n < min || n > max) fail(path, `integer ${n} out of range`);
  return n;
}

function uint64(value: Json | undefined, path: string): bigint {
  return integer(value, path, 0n, UINT64_MAX);
}

function uint32(value: Json | undefined, path: string): number {
  if (typeof value === 'number' && value >= 0 && value <= 0xffffffff && Number.isInteger(value)) return value;
  return Number(integer(value, path, 0n, 0xffffffffn));
}

function enumNumber(value: Json | undefined, path: string, names: Record<string, number>): number {
  if (typeof value === 'string' && Object.hasOwn(names, value)) return names[value]!;
  return Number(integer(value, path, -0x80000000n, 0x7fffffffn));
}

function id(value: Json | undefined, path: string): Uint8Array {
  const hex = string(value, path);
  if (hex === '') return EMPTY_BYTES;
  return hexToBytes(hex) ?? fail(path, 'expected a hex string');
}

function readRequest(json: Json): ExportTraceRequest {
  const root = object(json, '$') ?? fail('$', 'expected an object');
  return {
    resourceSpans: list(root.resourceSpans, '$.resourceSpans').map((rs, i) =>
      readResourceSpans(rs, `$.resourceSpans[${i}]`),
    ),
  };
}

function readResourceSpans(json: Json, path: string): ResourceSpans {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const resource = object(o.resource, `${path}.resource`);
  return {
    resource: resource ? readResource(resource, `${path}.resource`) : null,
    scopeSpans: list(o.scopeSpans, `${path}.scopeSpans`).map((ss, i) =>
      readScopeSpans(ss, `${path}.scopeSpans[${i}]`),
    ),
    schemaUrl: string(o.schemaUrl, `${path}.schemaUrl`),
  };
}

function readLogsRequest(json: Json): ExportLogsRequest {
  const root = object(json, '$') ?? fail('$', 'expected an object');
  return {
    resourceLogs: list(root.resourceLogs, '$.resourceLogs').map((rl, i) =>
      readResourceLogs(rl, `$.resourceLogs[${i}]`),
    ),
  };
}

function readResourceLogs(json: Json, path: string): ResourceLogs {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const resource = object(o.resource, `${path}.resource`);
  return {
    resource: resource ? readResource(resource, `${path}.resource`) : null,
    scopeLogs: list(o.scopeLogs, `${path}.scopeLogs`).map((sl, i) =>
      readScopeLogs(sl, `${path}.scopeLogs[${i}]`),
    ),
    schemaUrl: string(o.schemaUrl, `${path}.schemaUrl`),
  };
}

function readScopeLogs(json: Json, path: string): ScopeLogs {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const scope = object(o.scope, `${path}.scope`);
  return {
    scope: scope ? readScope(scope, `${path}.scope`) : null,
    logRecords: list(o.logRecords, `${path}.logRecords`).map((lr, i) =>
      readLogRecord(lr, `${path}.logRecords[${i}]`),
    ),
    schemaUrl: string(o.schemaUrl, `${path}.schemaUrl`),
  };
}

function readLogRecord(json: Json, path: string): LogRecord {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const body = object(o.body, `${path}.body`);
  return {
    timeUnixNano: uint64(o.timeUnixNano, `${path}.timeUnixNano`),
    observedTimeUnixNano: uint64(o.observedTimeUnixNano, `${path}.observedTimeUnixNano`),
    severityNumber: enumNumber(o.severityNumber, `${path}.severityNumber`, SEVERITY_NUMBERS),
    severityText: string(o.severityText, `${path}.severityText`),
    body: body ? readAnyValue(body, `${path}.body`, 0) : null,
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
    flags: uint32(o.flags, `${path}.flags`),
    traceId: id(o.traceId, `${path}.traceId`),
    spanId: id(o.spanId, `${path}.spanId`),
    eventName: string(o.eventName, `${path}.eventName`),
  };
}

function readResource(o: JsonObject, path: string): Resource {
  return {
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
  };
}

function readScopeSpans(json: Json, path: string): ScopeSpans {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const scope = object(o.scope, `${path}.scope`);
  return {
    scope: scope ? readScope(scope, `${path}.scope`) : null,
    spans: list(o.spans, `${path}.spans`).map((s, i) => readSpan(s, `${path}.spans[${i}]`)),
    schemaUrl: string(o.schemaUrl, `${path}.schemaUrl`),
  };
}

function readScope(o: JsonObject, path: string): InstrumentationScope {
  return {
    name: string(o.name, `${path}.name`),
    version: string(o.version, `${path}.version`),
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
  };
}

function readSpan(json: Json, path: string): Span {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const status = object(o.status, `${path}.status`);
  return {
    traceId: id(o.traceId, `${path}.traceId`),
    spanId: id(o.spanId, `${path}.spanId`),
    traceState: string(o.traceState, `${path}.traceState`),
    parentSpanId: id(o.parentSpanId, `${path}.parentSpanId`),
    flags: uint32(o.flags, `${path}.flags`),
    name: string(o.name, `${path}.name`),
    kind: enumNumber(o.kind, `${path}.kind`, SPAN_KINDS),
    startTimeUnixNano: uint64(o.startTimeUnixNano, `${path}.startTimeUnixNano`),
    endTimeUnixNano: uint64(o.endTimeUnixNano, `${path}.endTimeUnixNano`),
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
    events: list(o.events, `${path}.events`).map((e, i) => readEvent(e, `${path}.events[${i}]`)),
    droppedEventsCount: uint32(o.droppedEventsCount, `${path}.droppedEventsCount`),
    links: list(o.links, `${path}.links`).map((l, i) => readLink(l, `${path}.links[${i}]`)),
    droppedLinksCount: uint32(o.droppedLinksCount, `${path}.droppedLinksCount`),
    status: status ? readStatus(status, `${path}.status`) : null,
  };
}

function readEvent(json: Json, path: string): SpanEvent {
  const o = object(json, path) ?? fail(path, 'expected an object');
  return {
    timeUnixNano: uint64(o.timeUnixNano, `${path}.timeUnixNano`),
    name: string(o.name, `${path}.name`),
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
  };
}

function readLink(json: Json, path: string): SpanLink {
  const o = object(json, path) ?? fail(path, 'expected an object');
  return {
    traceId: id(o.traceId, `${path}.traceId`),
    spanId: id(o.spanId, `${path}.spanId`),
    traceState: string(o.traceState, `${path}.traceState`),
    attributes: readAttributes(o.attributes, `${path}.attributes`, 0),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${path}.droppedAttributesCount`),
    flags: uint32(o.flags, `${path}.flags`),
  };
}

function readStatus(o: JsonObject, path: string): Status {
  return {
    code: enumNumber(o.code, `${path}.code`, STATUS_CODES),
    message: string(o.message, `${path}.message`),
  };
}

function readAttributes(json: Json | undefined, path: string, depth: number): KeyValue[] {
  const items = list(json, path);
  const out: KeyValue[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = readKeyValue(items[i]!, `${path}[${i}]`, depth);
  return out;
}

function readKeyValue(json: Json, path: string, depth: number): KeyValue {
  const o = object(json, path) ?? fail(path, 'expected an object');
  const value = object(o.value, `${path}.value`);
  return {
    key: string(o.key, `${path}.key`),
    value: value ? readAnyValue(value, `${path}.value`, depth) : EMPTY_VALUE,
  };
}

function readAnyValue(o: JsonObject, path: string, depth: number): AnyValue {
  if (depth > MAX_DECODED_VALUE_DEPTH)
    fail(path, `value nested deeper than ${MAX_DECODED_VALUE_DEPTH} levels`);
  // A well-formed AnyValue sets one field; if several are present, the first in field order wins.
  if (o.stringValue !== undefined && o.stringValue !== null) {
    return { type: 'string', value: string(o.stringValue, `${path}.stringValue`) };
  }
  if (o.boolValue !== undefined && o.boolValue !== null) {
    if (typeof o.boolValue !== 'boolean') fail(`${path}.boolValue`, 'expected a boolean');
    return { type: 'bool', value: o.boolValue };
  }
  if (o.intValue !== undefined && o.intValue !== null) {
    return { type: 'int', value: integer(o.intValue, `${path}.intValue`, INT64_MIN, INT64_MAX) };
  }
  if (o.doubleValue !== undefined && o.doubleValue !== null) {
    return { type: 'double', value: double(o.doubleValue, `${path}.doubleValue`) };
  }
  if (o.arrayValue !== undefined && o.arrayValue !== null) {
    const array = object(o.arrayValue, `${path}.arrayValue`)!;
    const items = list(array.values, `${path}.arrayValue.values`);
    const values: AnyValue[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const itemPath = `${path}.arrayValue.values[${i}]`;
      values[i] = readAnyValue(object(items[i], itemPath) ?? {}, itemPath, depth + 1);
    }
    return { type: 'array', value: values };
  }
  if (o.kvlistValue !== undefined && o.kvlistValue !== null) {
    const kvlist = object(o.kvlistValue, `${path}.kvlistValue`)!;
    return {
      type: 'kvlist',
      value: readAttributes(kvlist.values, `${path}.kvlistValue.values`, depth + 1),
    };
  }
  if (o.bytesValue !== undefined && o.bytesValue !== null) {
    const text = string(o.bytesValue, `${path}.bytesValue`);
    return { type: 'bytes', value: base64ToBytes(text) ?? fail(`${path}.bytesValue`, 'expected base64') };
  }
  return EMPTY_VALUE;
}

/** proto3 JSON doubles: numbers, or the strings "NaN", "Infinity", "-Infinity" (and numeric strings). */
function double(value: Json, path: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) return n;
  }
  return fail(path, 'expected a number');
}
