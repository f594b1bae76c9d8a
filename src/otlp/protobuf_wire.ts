// The protobuf wire format, read in place: the primitives that the OTLP decoder and the receivers'
// verdict on the wire (spans/wire_verdict.ts) share. Every read checks its bounds and wire type and
// throws OtlpDecodeError naming the request and the byte offset.
import { OtlpDecodeError } from './types.ts';

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const START_GROUP = 3;
export const END_GROUP = 4;
export const I32 = 5;

export const EMPTY_BYTES: Uint8Array = Buffer.alloc(0);

// Buffer#utf8Slice is what Buffer#toString('utf8', …) calls after checking its arguments; calling
// it directly halves the cost of the ~15 short strings per span. Invalid UTF-8 becomes U+FFFD.
const utf8Slice: (this: Buffer, start: number, end: number) => string =
  (Buffer.prototype as unknown as { utf8Slice?: (this: Buffer, start: number, end: number) => string })
    .utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('utf8', start, end);
  };

export interface Reader {
  buf: Buffer;
  view: DataView;
  pos: number;
  /** The request being decoded, for error messages. */
  what: string;
}

/** A reader at the start of `bytes`; `what` names the message in errors. */
export function wireReader(bytes: Uint8Array, what: string): Reader {
  return {
    buf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    pos: 0,
    what,
  };
}

export function fail(r: Reader, what: string): never {
  throw new OtlpDecodeError(`invalid ${r.what} protobuf at byte ${r.pos}: ${what}`);
}

export function readVarint32(r: Reader, end: number): number {
  const buf = r.buf;
  let pos = r.pos;
  let result = 0;
  let shift = 0;
  // uint32/enum/tag values; a negative int32 enum arrives as 10 bytes, of which we keep the low 32 bits.
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail(r, 'truncated varint');
    const b = buf[pos++]!;
    if (shift < 32) result |= (b & 0x7f) << shift;
    shift += 7;
    if (b < 0x80) {
      r.pos = pos;
      return result >>> 0;
    }
  }
  return fail(r, 'varint longer than 10 bytes');
}

export function readVarint64(r: Reader, end: number): bigint {
  const buf = r.buf;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail(r, 'truncated varint');
    const b = buf[pos++]!;
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >> 4;
    } else hi |= (b & 0x7f) << (7 * i - 32);
    if (b < 0x80) {
      r.pos = pos;
      if (hi === 0 && lo >= 0) return BigInt(lo);
      return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    }
  }
  return fail(r, 'varint longer than 10 bytes');
}

export function readFixed64(r: Reader, end: number): bigint {
  if (r.pos + 8 > end) fail(r, 'truncated fixed64');
  const lo = r.view.getUint32(r.pos, true);
  const hi = r.view.getUint32(r.pos + 4, true);
  r.pos += 8;
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export function readFixed32(r: Reader, end: number): number {
  if (r.pos + 4 > end) fail(r, 'truncated fixed32');
  const value = r.view.getUint32(r.pos, true);
  r.pos += 4;
  return value;
}

export function readDouble(r: Reader, end: number): number {
  if (r.pos + 8 > end) fail(r, 'truncated double');
  const value = r.view.getFloat64(r.pos, true);
  r.pos += 8;
  return value;
}

/** Reads a LEN prefix and returns the end offset of the payload that follows. */
export function lengthEnd(r: Reader, end: number): number {
  const len = readVarint32(r, end);
  const stop = r.pos + len;
  if (stop > end) fail(r, `length ${len} runs past the end of its message`);
  return stop;
}

/** Checks that `tag` is a LEN field and returns the end offset of the embedded message. */
export function messageEnd(r: Reader, tag: number, end: number): number {
  if ((tag & 7) !== LEN) fail(r, `field ${tag >>> 3} has wire type ${tag & 7}, expected ${LEN}`);
  return lengthEnd(r, end);
}

export function readString(r: Reader, tag: number, end: number): string {
  const stop = messageEnd(r, tag, end);
  const start = r.pos;
  r.pos = stop;
  return textAt(r, start, stop);
}

/** The text of the UTF-8 bytes `[start, end)` of the message (invalid UTF-8 becomes U+FFFD). */
export function textAt(r: Reader, start: number, end: number): string {
  return start === end ? '' : utf8Slice.call(r.buf, start, end);
}

export function readBytes(r: Reader, tag: number, end: number): Uint8Array {
  const stop = messageEnd(r, tag, end);
  const start = r.pos;
  r.pos = stop;
  return start === stop ? EMPTY_BYTES : r.buf.subarray(start, stop);
}

export function expectWireType(r: Reader, tag: number, wireType: number): void {
  if ((tag & 7) !== wireType) fail(r, `field ${tag >>> 3} has wire type ${tag & 7}, expected ${wireType}`);
}

export function readUint32Field(r: Reader, tag: number, end: number): number {
  expectWireType(r, tag, VARINT);
  return readVarint32(r, end);
}

export function readFixed32Field(r: Reader, tag: number, end: number): number {
  expectWireType(r, tag, I32);
  return readFixed32(r, end);
}

export function readFixed64Field(r: Reader, tag: number, end: number): bigint {
  expectWireType(r, tag, I64);
  return readFixed64(r, end);
}

export function skipField(r: Reader, tag: number, end: number): void {
  switch (tag & 7) {
    case VARINT:
      readVarint32(r, end);
      return;
    case I64:
      if (r.pos + 8 > end) fail(r, 'truncated fixed64');
      r.pos += 8;
      return;
    case LEN:
      r.pos = lengthEnd(r, end);
      return;
    case START_GROUP: {
      const field = tag >>> 3;
      for (;;) {
        if (r.pos >= end) fail(r, `unterminated group ${field}`);
        const inner = readVarint32(r, end);
        if ((inner & 7) === END_GROUP) {
          if (inner >>> 3 !== field) fail(r, `group ${field} closed by ${inner >>> 3}`);
          return;
        }
        skipField(r, inner, end);
      }
    }
    case I32:
      if (r.pos + 4 > end) fail(r, 'truncated fixed32');
      r.pos += 4;
      return;
    default:
      fail(r, `invalid wire type ${tag & 7}`);
  }
}
