// Generated and mutated OTLP export requests for the fuzz suite. Every case starts from realistic
// Junjo traces with fresh trace ids (so no two cases share a stored key) and is then
// - left valid (protobuf, JSON, gzip): it must be acknowledged in full;
// - mutated byte-wise: bit flips, random bytes, truncation, insertion, deletion, duplicated chunks,
//   corrupted length prefixes and field tags (wrong wire types) found by walking the protobuf;
// - mutated field-wise on the decoded request, then encoded: wrong id lengths, all-zero ids, huge
//   and negative integers, deep nesting, huge strings, odd characters, non-JSON state, bad patches;
// - mutated as JSON: wrong types at random places, truncated or corrupted text, deep arrays;
// - sent oversized (directly and as a gzip bomb), with broken gzip, a wrong content type, or
//   without a valid API key: it must be refused.
// A case is a pure function of the seeded PRNG apart from the fresh ids.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { toExportRequest, workflowMixTraces } from '../../src/fixtures/junjo_traces.ts';
import { createRng, type Rng } from '../../src/fixtures/rng.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, Span } from '../../src/otlp/types.ts';

export type Transport = 'grpc' | 'http';
export type WireFormat = 'protobuf' | 'json';

export interface FuzzCase {
  /** Generator and mutation, e.g. "bytes.length-prefix" (the statistics are grouped by it). */
  kind: string;
  transport: Transport;
  format: WireFormat;
  /** Bytes on the wire. */
  body: Buffer;
  /** What the server decodes (the body before gzip); decoded again for the ledger when acknowledged. */
  payload: Buffer;
  /** HTTP only: overrides the format's content type. */
  contentType?: string;
  /** HTTP only. */
  contentEncoding?: string;
  apiKey: 'valid' | 'missing' | 'wrong';
  /** accept: must be acknowledged without rejected spans; refuse: must be refused; any: either. */
  expect: 'accept' | 'refuse' | 'any';
  /** For some refusals, the only right answers ("413", "grpc RESOURCE_EXHAUSTED"…). */
  refusedAs?: string[];
}

interface Generator {
  weight: number;
  make(rng: Rng, ctx: CaseContext): FuzzCase;
}

interface CaseContext {
  /** A fresh small valid request (one trace, ~10 spans, fresh ids). */
  request(): ExportTraceRequest;
  maxRequestBytes: number;
}

// The encoder refuses messages nested deeper than 100 (protoc's default); the server must cope with
// what other encoders send, so the fuzzer's own encoder goes deeper.
protobuf.util.recursionLimit = 10_000;

// ---- valid requests ---------------------------------------------------------------------------

/** One trace per request: small bodies keep thousands of cases cheap. */
function requestPool(size: number, seed: number): ExportTraceRequest[] {
  return [...workflowMixTraces({ traces: size, services: 4, seed })].map((trace) =>
    toExportRequest(trace.spans),
  );
}

/** A deep copy of `base` whose trace ids are fresh random ones (span ids kept: unique per trace). */
function withFreshTraceIds(base: ExportTraceRequest): ExportTraceRequest {
  const copy = structuredClone(base);
  const fresh = new Map<string, Uint8Array>();
  for (const span of spansOf(copy)) {
    const old = Buffer.from(span.traceId).toString('hex');
    let id = fresh.get(old);
    if (!id) {
      id = randomBytes(16);
      fresh.set(old, id);
    }
    span.traceId = id;
  }
  return copy;
}

function pickSpan(rng: Rng, request: ExportTraceRequest): Span | undefined {
  const spans = spansOf(request);
  return spans.length > 0 ? rng.pick(spans) : undefined;
}

function spansOf(request: ExportTraceRequest): Span[] {
  return request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

const encode = (request: ExportTraceRequest, format: WireFormat): Buffer =>
  format === 'json'
    ? Buffer.from(encodeTraceRequestJson(request))
    : Buffer.from(encodeTraceRequestProtobuf(request));

function plainCase(
  kind: string,
  transport: Transport,
  format: WireFormat,
  payload: Buffer,
  expect: FuzzCase['expect'],
): FuzzCase {
  return { kind, transport, format, body: payload, payload, apiKey: 'valid', expect };
}

const anyTransport = (rng: Rng): Transport => (rng.chance(0.5) ? 'grpc' : 'http');

// ---- byte-wise mutations of protobuf ----------------------------------------------------------

interface LengthPrefix {
  /** Offset and size of the length varint. */
  at: number;
  size: number;
  value: number;
}

interface Tag {
  at: number;
  size: number;
  value: number;
}

/** Walks protobuf bytes, trying every length-delimited field as a nested message. */
function protobufLayout(bytes: Uint8Array): { lengths: LengthPrefix[]; tags: Tag[] } {
  const lengths: LengthPrefix[] = [];
  const tags: Tag[] = [];
  const varint = (at: number): { value: number; size: number } | null => {
    let value = 0;
    for (let i = 0; i < 5 && at + i < bytes.length; i++) {
      const byte = bytes[at + i]!;
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return { value, size: i + 1 };
    }
    return null;
  };
  const walk = (start: number, end: number, depth: number): boolean => {
    const foundLengths = lengths.length;
    const foundTags = tags.length;
    let at = start;
    while (at < end) {
      const tag = varint(at);
      if (!tag || tag.value >>> 3 === 0) break;
      tags.push({ at, size: tag.size, value: tag.value });
      at += tag.size;
      const wireType = tag.value & 7;
      if (wireType === 0) {
        const value = varint(at);
        if (!value) break;
        at += value.size;
      } else if (wireType === 1) at += 8;
      else if (wireType === 5) at += 4;
      else if (wireType === 2) {
        const length = varint(at);
        if (!length || at + length.size + length.value > end) break;
        lengths.push({ at, size: length.size, value: length.value });
        at += length.size;
        if (depth < 10 && length.value > 1) walk(at, at + length.value, depth + 1);
        at += length.value;
      } else break;
    }
    if (at === end) return true;
    // Not a message after all (a string or bytes field): forget what this level found.
    lengths.length = foundLengths;
    tags.length = foundTags;
    return false;
  };
  walk(0, bytes.length, 0);
  return { lengths, tags };
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

const splice = (bytes: Buffer, at: number, remove: number, insert: Buffer): Buffer =>
  Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at + remove)]);

type ByteMutation = (rng: Rng, bytes: Buffer) => Buffer;

const byteMutations: Record<string, ByteMutation> = {
  'bit-flips': (rng, bytes) => {
    const out = Buffer.from(bytes);
    for (let n = rng.int(1, 8); n > 0; n--) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
    return out;
  },
  'random-bytes': (rng, bytes) => {
    const out = Buffer.from(bytes);
    for (let n = rng.int(1, 16); n > 0; n--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
    return out;
  },
  truncate: (rng, bytes) => bytes.subarray(0, rng.int(0, bytes.length - 1)),
  insert: (rng, bytes) => splice(bytes, rng.int(0, bytes.length), 0, Buffer.from(rng.bytes(rng.int(1, 64)))),
  delete: (rng, bytes) => {
    const at = rng.int(0, bytes.length - 1);
    return splice(bytes, at, rng.int(1, Math.min(64, bytes.length - at)), Buffer.alloc(0));
  },
  'duplicate-chunk': (rng, bytes) => {
    const at = rng.int(0, bytes.length - 1);
    const chunk = bytes.subarray(at, at + rng.int(1, 256));
    return splice(bytes, rng.int(0, bytes.length), 0, Buffer.from(chunk));
  },
  'length-prefix': (rng, bytes) => {
    const { lengths } = protobufLayout(bytes);
    if (lengths.length === 0) return byteMutations['bit-flips']!(rng, bytes);
    const target = rng.pick(lengths);
    const value = rng.pick([
      0,
      1,
      target.value - 1,
      target.value + 1,
      target.value * 2,
      target.value + 1000,
      2 ** 31 - 1,
      2 ** 32 - 1,
      2 ** 35,
    ]);
    return splice(bytes, target.at, target.size, encodeVarint(Math.max(0, value)));
  },
  'wire-type': (rng, bytes) => {
    const { tags } = protobufLayout(bytes);
    if (tags.length === 0) return byteMutations['bit-flips']!(rng, bytes);
    const target = rng.pick(tags);
    const wireType = rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((t) => t !== (target.value & 7)));
    const fieldNumber = rng.chance(0.8) ? target.value >>> 3 : rng.int(1, 2 ** 29 - 1);
    return splice(bytes, target.at, target.size, encodeVarint(fieldNumber * 8 + wireType));
  },
};

// ---- field-wise mutations of the decoded request ----------------------------------------------

type FieldMutation = (rng: Rng, request: ExportTraceRequest) => void;

const str = (value: string): AnyValue => ({ type: 'string', value });

function nested(levels: number, leaf: AnyValue = str('leaf')): AnyValue {
  let value = leaf;
  for (let i = 0; i < levels; i++) {
    value =
      i % 2 === 0 ? { type: 'array', value: [value] } : { type: 'kvlist', value: [{ key: 'k', value }] };
  }
  return value;
}

const ODD_STRINGS = [
  '',
  '\0',
  'a\0b',
  '\r\nlevel=fatal injected',
  '\ud800',
  '\udfff\ud800',
  '\u202e',
  '💥'.repeat(100),
  '{"level":60}',
  '__proto__',
  'x'.repeat(70_000),
];

function setAttribute(span: { attributes: KeyValue[] }, key: string, value: AnyValue): void {
  const existing = span.attributes.find((kv) => kv.key === key);
  if (existing) existing.value = value;
  else span.attributes.push({ key, value });
}

const fieldMutations: Record<string, FieldMutation> = {
  'id-length': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    const field = rng.pick(['traceId', 'spanId', 'parentSpanId'] as const);
    span[field] = rng.bytes(rng.pick([0, 1, 7, 9, 15, 17, 32, 1000]));
  },
  'zero-ids': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    const field = rng.pick(['traceId', 'spanId', 'parentSpanId'] as const);
    span[field] = new Uint8Array(field === 'traceId' ? 16 : 8);
  },
  'huge-integers': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    const big = rng.pick([
      0n,
      1n,
      (1n << 64n) - 1n,
      1n << 63n,
      (1n << 63n) - 1n,
      253402300800000000000n % (1n << 64n),
    ]);
    if (rng.chance(0.5)) span.startTimeUnixNano = big;
    else span.endTimeUnixNano = big;
    span.kind = rng.pick([0, 6, 255, 2 ** 31 - 1, 2 ** 32 - 1]);
    span.flags = rng.pick([0, 0xffffffff, 2 ** 31]);
    span.status = { code: rng.pick([0, 3, 99, 2 ** 31 - 1]), message: rng.pick(ODD_STRINGS) };
    span.droppedAttributesCount = 0xffffffff;
    setAttribute(span, 'int', { type: 'int', value: rng.pick([-(1n << 63n), (1n << 63n) - 1n, -1n]) });
    setAttribute(span, 'double', {
      type: 'double',
      value: rng.pick([Number.NaN, Infinity, -Infinity, -0, 1e308]),
    });
  },
  'deep-nesting': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    setAttribute(span, 'deep', nested(rng.pick([20, 126, 127, 128, 200, 511, 512, 513, 700])));
  },
  'odd-strings': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    span.name = rng.pick(ODD_STRINGS);
    setAttribute(span, rng.pick(ODD_STRINGS), str(rng.pick(ODD_STRINGS)));
    const resource = request.resourceSpans[0]?.resource;
    if (resource && rng.chance(0.3)) setAttribute(resource, 'service.name', str(rng.pick(ODD_STRINGS)));
  },
  'huge-values': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    if (rng.chance(0.5)) setAttribute(span, 'big', str('y'.repeat(rng.int(100_000, 600_000))));
    else
      for (let i = 0; i < 5000; i++)
        span.attributes.push({ key: `a${i}`, value: { type: 'int', value: BigInt(i) } });
  },
  'non-json-state': (rng, request) => {
    const owners = spansOf(request).filter((span) =>
      span.attributes.some(
        (kv) => kv.key === 'junjo.span_type' && kv.value.type === 'string' && kv.value.value !== 'node',
      ),
    );
    const span = owners.length > 0 ? rng.pick(owners) : pickSpan(rng, request);
    if (!span) return;
    const key = rng.pick([
      'junjo.workflow.state.start',
      'junjo.workflow.state.end',
      'junjo.workflow.graph_structure',
      'junjo.workflow.execution_graph_snapshot',
      'junjo.agent.state.start',
    ]);
    setAttribute(
      span,
      key,
      rng.chance(0.8)
        ? str(rng.pick(['{oops', '', 'NaN', '"\\ud800"', '[1,]', '{"a":']))
        : { type: 'int', value: 5n },
    );
  },
  'bad-patches': (rng, request) => {
    const events = spansOf(request).flatMap((span) =>
      span.events.filter((event) => event.name === 'set_state'),
    );
    const patch = rng.pick([
      'not json',
      '{"a":1}',
      '[{"op":"jump","path":"/a"}]',
      '[{"op":"add","path":"a","value":1}]',
      '[{"op":"add","path":"/a"}]',
      '[{"op":"move","path":"/a"}]',
      '[1,2,3]',
      '["\\udc00"]',
      '[{"op":"replace","path":"/~2","value":1}]',
    ]);
    const target = events.length > 0 ? rng.pick(events) : null;
    if (!target) return;
    const kv = target.attributes.find((a) => a.key === 'junjo.state_json_patch');
    if (kv) kv.value = str(patch);
    else target.attributes.push({ key: 'junjo.state_json_patch', value: str(patch) });
  },
  'duplicate-spans': (rng, request) => {
    const scope = request.resourceSpans.flatMap((rs) => rs.scopeSpans).find((ss) => ss.spans.length > 0);
    if (scope) scope.spans.push(structuredClone(rng.pick(scope.spans)));
  },
  'empty-parts': (rng, request) => {
    const choice = rng.int(0, 3);
    const first = request.resourceSpans[0];
    if (choice === 0 || !first) request.resourceSpans.push({ resource: null, scopeSpans: [], schemaUrl: '' });
    else if (choice === 1) first.resource = null;
    else if (choice === 2) first.scopeSpans.push({ scope: null, spans: [], schemaUrl: '' });
    else request.resourceSpans.length = 0;
  },
  'bad-links-and-events': (rng, request) => {
    const span = pickSpan(rng, request);
    if (!span) return;
    span.links.push({
      traceId: rng.bytes(rng.pick([0, 3, 16])),
      spanId: rng.bytes(rng.pick([0, 8, 40])),
      traceState: rng.pick(ODD_STRINGS),
      attributes: [{ key: 'k', value: nested(rng.pick([1, 130])) }],
      droppedAttributesCount: 0,
      flags: 0xffffffff,
    });
    span.events.push({
      timeUnixNano: rng.pick([0n, (1n << 64n) - 1n]),
      name: rng.pick(['set_state', 'exception', '']),
      attributes: [],
      droppedAttributesCount: 0,
    });
  },
};

// ---- JSON mutations ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const WRONG_VALUES: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  '',
  'x',
  '18446744073709551616',
  '-9223372036854775809',
  '9'.repeat(400),
  [],
  {},
  [[[]]],
  { nested: { deeper: [1, 'a', null] } },
];

/** Replaces one random node of the parsed JSON with a value of another type. */
function replaceRandomNode(rng: Rng, root: Json): Json {
  const slots: { parent: Json[] | { [key: string]: Json }; key: string | number }[] = [];
  const visit = (node: Json) => {
    if (Array.isArray(node))
      node.forEach((child, i) => {
        slots.push({ parent: node, key: i });
        visit(child);
      });
    else if (node !== null && typeof node === 'object')
      for (const [key, child] of Object.entries(node)) {
        slots.push({ parent: node, key });
        visit(child);
      }
  };
  visit(root);
  if (slots.length === 0) return rng.pick(WRONG_VALUES);
  const slot = rng.pick(slots);
  (slot.parent as Record<string | number, Json>)[slot.key] = structuredClone(rng.pick(WRONG_VALUES));
  return root;
}

const jsonMutations: Record<string, (rng: Rng, text: string) => string> = {
  'wrong-types': (rng, text) => {
    let root = JSON.parse(text) as Json;
    for (let n = rng.int(1, 3); n > 0; n--) root = replaceRandomNode(rng, root);
    return JSON.stringify(root);
  },
  truncate: (rng, text) => text.slice(0, rng.int(0, text.length - 1)),
  'corrupt-chars': (rng, text) => {
    const chars = [...text];
    for (let n = rng.int(1, 6); n > 0; n--)
      chars[rng.int(0, chars.length - 1)] = rng.pick(['"', '{', ']', ',', '\\', '\0', 'é', '\ud800', ' ']);
    return chars.join('');
  },
  'deep-arrays': (rng) => {
    const depth = rng.pick([100, 10_000, 200_000]);
    return `{"resourceSpans":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  },
  'base64-ids': (rng, text) => {
    // Generic proto3 JSON spells ids in base64; OTLP/JSON wants hex.
    const root = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
    const span = root.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (span) span.traceId = Buffer.from(span.traceId, 'hex').toString('base64');
    return rng.chance(0.5) ? JSON.stringify(root) : `\ufeff${JSON.stringify(root)}`;
  },
};

/**
 * An HTTP client still sending an oversized body may see the connection reset instead of the 413:
 * the server answers as soon as the limit is passed and stops reading.
 */
export const CLOSED_WHILE_SENDING = 'closed while sending';
const TOO_LARGE = ['413', 'grpc RESOURCE_EXHAUSTED', CLOSED_WHILE_SENDING];

// ---- the generators ---------------------------------------------------------------------------

const generators: Generator[] = [
  {
    weight: 8,
    make: (rng, ctx) => {
      const transport = anyTransport(rng);
      const format: WireFormat = transport === 'http' && rng.chance(0.4) ? 'json' : 'protobuf';
      return plainCase(`valid.${format}`, transport, format, encode(ctx.request(), format), 'accept');
    },
  },
  {
    weight: 3,
    make: (rng, ctx) => {
      const format: WireFormat = rng.chance(0.5) ? 'json' : 'protobuf';
      const payload = encode(ctx.request(), format);
      return {
        ...plainCase(`valid.gzip-${format}`, 'http', format, payload, 'accept'),
        body: gzipSync(payload),
        contentEncoding: 'gzip',
      };
    },
  },
  {
    weight: 36,
    make: (rng, ctx) => {
      const name = rng.pick(Object.keys(byteMutations));
      let bytes = encode(ctx.request(), 'protobuf');
      for (let n = rng.chance(0.8) ? 1 : rng.int(2, 4); n > 0; n--) {
        bytes = (rng.chance(0.8) ? byteMutations[name]! : rng.pick(Object.values(byteMutations)))(rng, bytes);
      }
      return plainCase(`bytes.${name}`, anyTransport(rng), 'protobuf', bytes, 'any');
    },
  },
  {
    weight: 30,
    make: (rng, ctx) => {
      const name = rng.pick(Object.keys(fieldMutations));
      const request = ctx.request();
      fieldMutations[name]!(rng, request);
      if (rng.chance(0.3)) rng.pick(Object.values(fieldMutations))(rng, request);
      const transport = anyTransport(rng);
      const format: WireFormat = transport === 'http' && rng.chance(0.4) ? 'json' : 'protobuf';
      return plainCase(`fields.${name}`, transport, format, encode(request, format), 'any');
    },
  },
  {
    weight: 14,
    make: (rng, ctx) => {
      const name = rng.pick(Object.keys(jsonMutations));
      const text = jsonMutations[name]!(rng, encode(ctx.request(), 'json').toString());
      return plainCase(`json.${name}`, 'http', 'json', Buffer.from(text), 'any');
    },
  },
  {
    weight: 1,
    make: (rng, ctx) => {
      const over = ctx.maxRequestBytes + rng.int(1, 1024 * 1024);
      if (rng.chance(0.5)) {
        const filler = Buffer.alloc(over, 0x41);
        return {
          ...plainCase('oversized.plain', anyTransport(rng), 'protobuf', filler, 'refuse'),
          refusedAs: TOO_LARGE,
        };
      }
      // A gzip bomb: a small body that inflates past the limit.
      const inflated = Buffer.alloc(over * 4);
      return {
        ...plainCase('oversized.gzip-bomb', 'http', 'protobuf', inflated, 'refuse'),
        body: gzipSync(inflated),
        contentEncoding: 'gzip',
        refusedAs: TOO_LARGE,
      };
    },
  },
  {
    weight: 4,
    make: (rng, ctx) => {
      const payload = encode(ctx.request(), 'protobuf');
      const gzipped = gzipSync(payload);
      const variant = rng.int(0, 4);
      const base: FuzzCase = {
        ...plainCase('gzip', 'http', 'protobuf', payload, 'refuse'),
        refusedAs: ['400'],
      };
      if (variant === 0) return { ...base, kind: 'gzip.not-gzip', contentEncoding: 'gzip' };
      if (variant === 1)
        return {
          ...base,
          kind: 'gzip.truncated',
          contentEncoding: 'gzip',
          body: gzipped.subarray(0, rng.int(1, gzipped.length - 1)),
        };
      if (variant === 2) {
        const corrupt = Buffer.from(gzipped);
        corrupt[rng.int(10, corrupt.length - 9)]! ^= 0xff;
        return { ...base, kind: 'gzip.corrupt', contentEncoding: 'gzip', body: corrupt, expect: 'any' };
      }
      if (variant === 3)
        return {
          ...base,
          kind: 'gzip.trailing-garbage',
          contentEncoding: 'gzip',
          body: Buffer.concat([gzipped, Buffer.from(rng.bytes(16))]),
          expect: 'any',
        };
      return {
        ...base,
        kind: 'gzip.unsupported-encoding',
        contentEncoding: rng.pick(['br', 'deflate', 'zstd', 'gzip, gzip', 'x']),
        body: gzipped,
      };
    },
  },
  {
    weight: 4,
    make: (rng, ctx) => {
      const payload = encode(ctx.request(), 'protobuf');
      const variant = rng.int(0, 2);
      if (variant === 0)
        return {
          ...plainCase('headers.content-type', 'http', 'protobuf', payload, 'refuse'),
          contentType: rng.pick([
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
            '',
          ]),
          refusedAs: ['415'],
        };
      return {
        ...plainCase(
          `headers.api-key-${variant === 1 ? 'missing' : 'wrong'}`,
          anyTransport(rng),
          'protobuf',
          payload,
          'refuse',
        ),
        apiKey: variant === 1 ? 'missing' : 'wrong',
        refusedAs: ['401', 'grpc UNAUTHENTICATED'],
      };
    },
  },
];

export class FuzzCases {
  readonly #rng: Rng;
  readonly #pool: ExportTraceRequest[];
  readonly #maxRequestBytes: number;
  readonly #totalWeight = generators.reduce((sum, g) => sum + g.weight, 0);

  constructor(options: { seed: number; maxRequestBytes: number }) {
    this.#rng = createRng(options.seed);
    this.#pool = requestPool(64, options.seed);
    this.#maxRequestBytes = options.maxRequestBytes;
  }

  /** A valid protobuf export with fresh ids. */
  validCase(transport: Transport): FuzzCase {
    const payload = encode(withFreshTraceIds(this.#rng.pick(this.#pool)), 'protobuf');
    return plainCase('valid.protobuf', transport, 'protobuf', payload, 'accept');
  }

  next(): FuzzCase {
    let roll = this.#rng.next() * this.#totalWeight;
    let generator = generators[0]!;
    for (const candidate of generators) {
      generator = candidate;
      roll -= candidate.weight;
      if (roll < 0) break;
    }
    return generator.make(this.#rng, {
      request: () => withFreshTraceIds(this.#rng.pick(this.#pool)),
      maxRequestBytes: this.#maxRequestBytes,
    });
  }
}
