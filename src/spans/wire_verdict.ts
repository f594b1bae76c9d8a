// The receivers' verdict on an OTLP/protobuf trace export, read from the wire in place: when every
// span of the request would pass checkSpan, how many spans there are. Acknowledging an export used
// to mean decoding it into objects (a dozen objects and strings per span, garbage a moment later)
// only to look at a few of them; that garbage and its collections were most of the receiving
// thread's time (its profile: docs/memory.md, "The acknowledging thread"). This walk allocates
// nothing per span but the texts the verdict must parse (state, graph, set_state patches) and the
// short lifted values beside them; resources and scopes, one per group of spans, are decoded.
//
// Conservative by design: anything that might reject a span or fail the decode (an id of the wrong
// length, a value near a limit, deep nesting, a text that does not pass) answers null, and the
// caller runs the full decode and check, which word the reasons. So this file never words a
// rejection, and null is always a safe answer. wire_verdict.test.ts holds it to the full path over
// the fixtures and the fuzz suite's generated and mutated requests.
import { readResource, readScope, readStatus } from '../otlp/decode_protobuf.ts';
import {
  expectWireType,
  fail,
  I32,
  I64,
  messageEnd,
  type Reader,
  readUint32Field,
  readVarint32,
  skipField,
  textAt,
  VARINT,
  wireReader,
} from '../otlp/protobuf_wire.ts';
import type { AnyValue, KeyValue, Resource, SpanEvent } from '../otlp/types.ts';
import { STATE_EVENT } from './compact_span.ts';
import { SPAN_LIMITS } from './span_limits.ts';
import {
  extractJunjoAttributes,
  MAX_JSON_DEPTH,
  STATE_PATCH_KEY,
  serviceNameOf,
  statePatchesProblem,
  VERDICT_ATTRIBUTE_KEYS,
} from './span_processor.ts';

/** Thrown, one instance, when the walk meets anything it leaves to the full check. */
const UNSURE = new Error('left to the full check');

/**
 * The number of spans of an ExportTraceServiceRequest when the request decodes and checkSpan keeps
 * every one of them; null when that is not certain (then decode and check it in full).
 */
export function acceptedOnWire(bytes: Uint8Array): number | null {
  const r = wireReader(bytes, 'ExportTraceServiceRequest');
  try {
    let accepted = 0;
    const end = bytes.byteLength;
    while (r.pos < end) {
      const tag = readVarint32(r, end);
      if (tag >>> 3 === 1) accepted += walkResourceSpans(r, messageEnd(r, tag, end));
      else skipField(r, tag, end);
    }
    return accepted;
  } catch {
    return null; // UNSURE, a decode error or anything else: the full path decides, and says why.
  }
}

function walkResourceSpans(r: Reader, end: number): number {
  let resource: Resource | null = null;
  let spans = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        resource = readResource(r, messageEnd(r, tag, end));
        break;
      case 2:
        spans += walkScopeSpans(r, messageEnd(r, tag, end));
        break;
      case 3:
        r.pos = messageEnd(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  // The resource (last on the wire wins) may come after its spans.
  if (spans > 0 && serviceNameOf(resource?.attributes).length > SPAN_LIMITS.serviceNameLength) throw UNSURE;
  return spans;
}

function walkScopeSpans(r: Reader, end: number): number {
  let spans = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        readScope(r, messageEnd(r, tag, end));
        break;
      case 2:
        walkSpan(r, messageEnd(r, tag, end));
        spans++;
        break;
      case 3:
        r.pos = messageEnd(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  return spans;
}

function walkSpan(r: Reader, end: number): void {
  // Last on the wire wins, as in the decoder.
  let traceIdStart = 0;
  let traceIdLength = 0;
  let spanIdStart = 0;
  let spanIdLength = 0;
  let parentIdLength = 0;
  let attributes = 0;
  let events = 0;
  let links = 0;
  let verdictAttributes: KeyValue[] | undefined;
  let setStateEvents: SpanEvent[] | undefined;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1: {
        const stop = messageEnd(r, tag, end);
        traceIdStart = r.pos;
        traceIdLength = stop - r.pos;
        r.pos = stop;
        break;
      }
      case 2: {
        const stop = messageEnd(r, tag, end);
        spanIdStart = r.pos;
        spanIdLength = stop - r.pos;
        r.pos = stop;
        break;
      }
      case 3:
        r.pos = messageEnd(r, tag, end);
        break;
      case 4: {
        const stop = messageEnd(r, tag, end);
        parentIdLength = stop - r.pos;
        r.pos = stop;
        break;
      }
      case 5:
        skipName(r, tag, end);
        break;
      case 6:
      case 10:
      case 12:
      case 14:
        readUint32Field(r, tag, end);
        break;
      case 7:
      case 8:
        skipFixed(r, tag, end, I64, 8);
        break;
      case 9: {
        walkKeyValue(r, messageEnd(r, tag, end), 1);
        if (++attributes > SPAN_LIMITS.attributeCount) throw UNSURE;
        const key = verdictKey(r.buf, keyStart, keyEnd);
        if (key !== undefined) {
          verdictAttributes ??= [];
          verdictAttributes.push({ key, value: stringValueOrEmpty(r) });
        }
        break;
      }
      case 11: {
        const setState = walkEvent(r, messageEnd(r, tag, end));
        if (++events > SPAN_LIMITS.eventCount) throw UNSURE;
        if (setState) {
          setStateEvents ??= [];
          setStateEvents.push(setState);
        }
        break;
      }
      case 13:
        walkLink(r, messageEnd(r, tag, end));
        if (++links > SPAN_LIMITS.linkCount) throw UNSURE;
        break;
      case 15:
        readStatus(r, messageEnd(r, tag, end));
        break;
      case 16:
        skipFixed(r, tag, end, I32, 4);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  if (traceIdLength !== 16 || isAllZero(r.buf, traceIdStart, traceIdLength)) throw UNSURE;
  if (spanIdLength !== 8 || isAllZero(r.buf, spanIdStart, spanIdLength)) throw UNSURE;
  if (parentIdLength !== 0 && parentIdLength !== 8) throw UNSURE;
  // The same functions as checkSpan, on the only attributes and events they read.
  if (verdictAttributes) extractJunjoAttributes(verdictAttributes); // throws SpanRejectedError
  if (setStateEvents && statePatchesProblem(setStateEvents) !== null) throw UNSURE;
}

/** Walks an event; for a set_state event, returns a stand-in carrying only its patch attribute. */
function walkEvent(r: Reader, end: number): SpanEvent | null {
  let nameStart = 0;
  let nameEnd = 0;
  let patchStart = -1;
  let patchEnd = 0;
  let attributes = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        skipFixed(r, tag, end, I64, 8);
        break;
      case 2:
        nameStart = skipName(r, tag, end);
        nameEnd = r.pos;
        break;
      case 3:
        walkKeyValue(r, messageEnd(r, tag, end), 1);
        if (++attributes > SPAN_LIMITS.attributeCount) throw UNSURE;
        if (valueType === STRING && sameBytes(r.buf, keyStart, keyEnd, STATE_PATCH_KEY_BYTES)) {
          patchStart = valueStart;
          patchEnd = valueEnd;
        }
        break;
      case 4:
        readUint32Field(r, tag, end);
        break;
      default:
        skipField(r, tag, end);
    }
  }
  if (!sameBytes(r.buf, nameStart, nameEnd, STATE_EVENT_BYTES)) return null;
  const patch: KeyValue[] =
    patchStart < 0
      ? []
      : [
          {
            key: STATE_PATCH_KEY,
            value: { type: 'string', value: textAt(r, patchStart, patchEnd) },
          },
        ];
  return { timeUnixNano: 0n, name: STATE_EVENT, attributes: patch, droppedAttributesCount: 0 };
}

function walkLink(r: Reader, end: number): void {
  let attributes = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
      case 2:
      case 3:
        r.pos = messageEnd(r, tag, end);
        break;
      case 4:
        walkKeyValue(r, messageEnd(r, tag, end), 1);
        if (++attributes > SPAN_LIMITS.attributeCount) throw UNSURE;
        break;
      case 5:
        readUint32Field(r, tag, end);
        break;
      case 6:
        skipFixed(r, tag, end, I32, 4);
        break;
      default:
        skipField(r, tag, end);
    }
  }
}

// What the last walkKeyValue / walkAnyValue found, read by its caller right after the call (kept
// here rather than returned so that a walk allocates no result object).
const OTHER = 0;
const STRING = 1;
let keyStart = 0;
let keyEnd = 0;
let valueType = OTHER;
let valueStart = 0;
let valueEnd = 0;

/** `level` is the value's nesting level as checkNesting counts it (an attribute's own value: 1). */
function walkKeyValue(r: Reader, end: number, level: number): void {
  let kStart = 0;
  let kEnd = 0;
  let vType = OTHER;
  let vStart = 0;
  let vEnd = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    switch (tag >>> 3) {
      case 1:
        kEnd = messageEnd(r, tag, end);
        kStart = r.pos;
        r.pos = kEnd;
        // UTF-16 length ≤ UTF-8 length, so a key within the limit in bytes is within it.
        if (kEnd - kStart > SPAN_LIMITS.attributeKeyLength) throw UNSURE;
        break;
      case 2:
        walkAnyValue(r, messageEnd(r, tag, end), level);
        vType = valueType;
        vStart = valueStart;
        vEnd = valueEnd;
        break;
      default:
        skipField(r, tag, end);
    }
  }
  keyStart = kStart;
  keyEnd = kEnd;
  valueType = vType;
  valueStart = vStart;
  valueEnd = vEnd;
}

function walkAnyValue(r: Reader, end: number, level: number): void {
  let type = OTHER;
  let start = 0;
  let stop = 0;
  while (r.pos < end) {
    const tag = readVarint32(r, end);
    const field = tag >>> 3;
    switch (field) {
      case 1:
      case 7: {
        const valueStop = messageEnd(r, tag, end);
        if (valueStop - r.pos > SPAN_LIMITS.attributeValueLength) throw UNSURE;
        type = field === 1 ? STRING : OTHER;
        start = r.pos;
        stop = valueStop;
        r.pos = valueStop;
        break;
      }
      case 2:
      case 3:
        expectWireType(r, tag, VARINT);
        readVarint32(r, end);
        type = OTHER;
        break;
      case 4:
        skipFixed(r, tag, end, I64, 8);
        type = OTHER;
        break;
      case 5:
      case 6: {
        if (level >= MAX_JSON_DEPTH) throw UNSURE;
        const listEnd = messageEnd(r, tag, end);
        while (r.pos < listEnd) {
          const itemTag = readVarint32(r, listEnd);
          if (itemTag >>> 3 !== 1) skipField(r, itemTag, listEnd);
          else if (field === 5) walkAnyValue(r, messageEnd(r, itemTag, listEnd), level + 1);
          else walkKeyValue(r, messageEnd(r, itemTag, listEnd), level + 1);
        }
        type = OTHER;
        break;
      }
      default:
        skipField(r, tag, end);
    }
  }
  valueType = type;
  valueStart = start;
  valueEnd = stop;
}

const EMPTY_VALUE: AnyValue = { type: 'empty' };

/** The value walkKeyValue just found, decoded when it is a string (what the verdict reads). */
function stringValueOrEmpty(r: Reader): AnyValue {
  return valueType === STRING ? { type: 'string', value: textAt(r, valueStart, valueEnd) } : EMPTY_VALUE;
}

/**
 * Moves past a span's or event's name and returns where it starts; a name within the limit in
 * UTF-8 bytes is within it in UTF-16 units.
 */
function skipName(r: Reader, tag: number, end: number): number {
  const stop = messageEnd(r, tag, end);
  const start = r.pos;
  if (stop - start > SPAN_LIMITS.nameLength) throw UNSURE;
  r.pos = stop;
  return start;
}

function skipFixed(r: Reader, tag: number, end: number, wireType: number, size: number): void {
  expectWireType(r, tag, wireType);
  if (r.pos + size > end) fail(r, `truncated fixed${size * 8}`);
  r.pos += size;
}

function isAllZero(buf: Buffer, start: number, length: number): boolean {
  for (let i = start; i < start + length; i++) if (buf[i] !== 0) return false;
  return true;
}

function sameBytes(buf: Buffer, start: number, end: number, expected: Buffer): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

const STATE_EVENT_BYTES = Buffer.from(STATE_EVENT);
const STATE_PATCH_KEY_BYTES = Buffer.from(STATE_PATCH_KEY);

/** Verdict keys by their UTF-8 length: a key's bytes are compared only with keys as long. */
const VERDICT_KEYS_BY_LENGTH = new Map<number, Array<{ bytes: Buffer; key: string }>>();
for (const key of VERDICT_ATTRIBUTE_KEYS) {
  const bytes = Buffer.from(key);
  const sameLength = VERDICT_KEYS_BY_LENGTH.get(bytes.length) ?? [];
  sameLength.push({ bytes, key });
  VERDICT_KEYS_BY_LENGTH.set(bytes.length, sameLength);
}

/** The verdict key whose bytes `buf[start, end)` are, if any. */
function verdictKey(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = VERDICT_KEYS_BY_LENGTH.get(end - start);
  if (candidates) for (const { bytes, key } of candidates) if (sameBytes(buf, start, end, bytes)) return key;
  return undefined;
}
