// Span and state-patch rows → the JSON text of api.md §5.1 payloads: JSON columns appear as JSON values
// (objects/arrays, not strings), timestamps as RFC 3339 UTC with exactly six fraction digits and `Z`.
//
// The text is assembled directly instead of JSON.parse-ing every JSON column only for the
// serializer to stringify it again: a page of 500 root spans carries ~2 MB of state and graph
// JSON, and the round trip cost more than the query. Splicing is safe because every JSON column
// holds strict JSON: the span processor writes it with JSON.stringify or checks it with JSON.parse
// before it is stored (DuckDB's own JSON check would also let NaN and trailing commas through).

import type { CompactSpanRow, WaterfallSpanRow } from './compact_span.ts';
import type { LogRecordRow, SpanRow, StatePatchRow } from './rows.ts';

/** The columns whole and compact spans both start with (result_rows.ts reads them alike). */
type SpanHead = Pick<
  SpanRow,
  | 'trace_id'
  | 'span_id'
  | 'parent_span_id'
  | 'service_name'
  | 'name'
  | 'kind'
  | 'start_time'
  | 'end_time'
  | 'status_code'
  | 'status_message'
>;

/** The opening of a Span's or CompactSpan's JSON text: its head keys, the object left open. */
function spanHeadJson(span: SpanHead): string {
  return (
    `{"trace_id":${quote(span.trace_id)},"span_id":${quote(span.span_id)}` +
    `,"parent_span_id":${span.parent_span_id === null ? 'null' : quote(span.parent_span_id)}` +
    `,"service_name":${quote(span.service_name)},"name":${quote(span.name)},"kind":${quote(span.kind)}` +
    `,"start_time":"${formatTimestamp(span.start_time)}","end_time":"${formatTimestamp(span.end_time)}"` +
    `,"status_code":${quote(span.status_code)},"status_message":${quote(span.status_message)}`
  );
}

const HEAD_END = Buffer.from(',"attributes_json":');
const CLOSE_OBJECT = Buffer.from('}');

/**
 * The SpanSummary (features/otel/schemas.ts) of a span rendered by renderSpan, as UTF-8 bytes: the
 * rendered head closed where renderSpan's attributes begin, so a list of runs is answered without
 * parsing their multi-KB state and graph JSON. The first `,"attributes_json":` is that key: inside
 * a JSON string every `"` is escaped. Bytes of another layout are parsed instead.
 */
export function spanHeadBytes(span: Uint8Array): Uint8Array {
  const bytes = Buffer.from(span.buffer, span.byteOffset, span.byteLength);
  const end = bytes.indexOf(HEAD_END);
  if (end > 0) return Buffer.concat([bytes.subarray(0, end), CLOSE_OBJECT]);
  const whole = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify(Object.fromEntries(SPAN_HEAD_KEYS.map((key) => [key, whole[key]]))));
}

/** The opening fields of every rendered span, in order: what a summary list serves. */
export const SPAN_HEAD_KEYS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  'kind',
  'start_time',
  'end_time',
  'status_code',
  'status_message',
] as const satisfies readonly (keyof SpanHead)[];

/**
 * The JSON text of one Span (features/otel/schemas.ts). Used for the trace endpoints and, at insert
 * time, for the rows the list endpoints serve (a store may keep them rendered), so both render
 * identically.
 */
export function renderSpan(span: SpanRow): string {
  return (
    spanHeadJson(span) +
    `,"attributes_json":${span.attributes_json},"events_json":${span.events_json}` +
    `,"links_json":${span.links_json},"trace_flags":${span.trace_flags}` +
    `,"trace_state":${span.trace_state === null ? 'null' : quote(span.trace_state)}` +
    `,"junjo_id":${quote(span.junjo_id)},"junjo_parent_id":${quote(span.junjo_parent_id)}` +
    `,"junjo_span_type":${quote(span.junjo_span_type)}` +
    `,"junjo_wf_state_start":${span.junjo_wf_state_start},"junjo_wf_state_end":${span.junjo_wf_state_end}` +
    `,"junjo_wf_graph_structure":${span.junjo_wf_graph_structure}` +
    `,"junjo_wf_store_id":${quote(span.junjo_wf_store_id)}}`
  );
}

/** The JSON text of one CompactSpan (schemas.ts): renderSpan's keys for the columns it shares. */
export function renderCompactSpan(span: CompactSpanRow): string {
  return (
    spanHeadJson(span) +
    `,"junjo_id":${quote(span.junjo_id)},"junjo_parent_id":${quote(span.junjo_parent_id)}` +
    `,"junjo_span_type":${quote(span.junjo_span_type)},"junjo_wf_store_id":${quote(span.junjo_wf_store_id)}` +
    `,"junjo_wf_state_start":${span.junjo_wf_state_start},"junjo_wf_state_end":${span.junjo_wf_state_end}` +
    `,"junjo_wf_graph_structure":${span.junjo_wf_graph_structure}` +
    `,"has_exception":${span.has_exception},"is_llm":${span.is_llm}` +
    `,"state_events":${span.state_events_json},"junjo_attributes":${span.junjo_attributes_json}}`
  );
}

/** The JSON text of one WaterfallSpan (schemas.ts): the fields of renderCompactSpan the waterfall draws. */
export function renderWaterfallSpan(span: WaterfallSpanRow): string {
  return (
    `{"span_id":${quote(span.span_id)}` +
    `,"parent_span_id":${span.parent_span_id === null ? 'null' : quote(span.parent_span_id)}` +
    `,"service_name":${quote(span.service_name)},"name":${quote(span.name)}` +
    `,"start_time":"${formatTimestamp(span.start_time)}","end_time":"${formatTimestamp(span.end_time)}"` +
    `,"status_code":${quote(span.status_code)},"junjo_span_type":${quote(span.junjo_span_type)}` +
    `,"has_exception":${span.has_exception},"is_llm":${span.is_llm}}`
  );
}

/** The JSON text of one StatePatch (schemas.ts). */
export function statePatchJson(patch: StatePatchRow): string {
  return (
    `{"patch_id":${quote(patch.patch_id)},"service_name":${quote(patch.service_name)}` +
    `,"trace_id":${quote(patch.trace_id)},"span_id":${quote(patch.span_id)}` +
    `,"workflow_id":${quote(patch.workflow_id)},"node_id":${quote(patch.node_id)}` +
    `,"event_time":"${formatTimestamp(patch.event_time)}","patch_json":${patch.patch_json}` +
    `,"patch_store_id":${quote(patch.patch_store_id)}}`
  );
}

/** The JSON text of one LogRecord (schemas.ts); log_id stays internal. */
export function logRecordJson(record: LogRecordRow): string {
  return (
    `{"trace_id":${quote(record.trace_id)},"span_id":${quote(record.span_id)}` +
    `,"service_name":${quote(record.service_name)},"time":"${formatTimestamp(record.time)}"` +
    `,"observed_time":"${formatTimestamp(record.observed_time)}","severity_number":${record.severity_number}` +
    `,"severity_text":${quote(record.severity_text)},"event_name":${quote(record.event_name)}` +
    `,"body":${record.body_json},"attributes":${record.attributes_json}}`
  );
}

export function jsonArray(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}

/** The bytes a JSON array is laid out with (also by list_json.ts, which writes pages in place). */
export const JSON_ARRAY_BYTE = { open: 0x5b, comma: 0x2c, close: 0x5d } as const;
const { open: OPEN, comma: COMMA, close: CLOSE } = JSON_ARRAY_BYTE;
const OPEN_BYTES = Buffer.of(OPEN);
const COMMA_BYTES = Buffer.of(COMMA);
const CLOSE_BYTES = Buffer.of(CLOSE);

/**
 * Buffers whose owner laid their bytes out as a JSON array (markLaidOutJsonArray). Only these are
 * sent in place: the bytes around a view of any other buffer (Buffer's shared pool) may belong to
 * another allocation, whatever they happen to hold.
 */
const laidOutArrays = new WeakSet<ArrayBufferLike>();

/** Declares `bytes`, a buffer of its own (not a pool's), as holding JSON arrays of views of it. */
export function markLaidOutJsonArray(bytes: Uint8Array): void {
  laidOutArrays.add(bytes.buffer);
}

/**
 * jsonArray for items that are already UTF-8 bytes: the bytes go out without a JS string. Items
 * already laid out as a JSON array in one marked buffer (a list page inflated in place:
 * list_json.ts) are that array: it is returned as it is, not copied.
 */
export function jsonArrayBytes(items: readonly Uint8Array[]): Buffer {
  const laidOut = arrayAroundItems(items);
  if (laidOut) return laidOut;
  const parts: Uint8Array[] = [OPEN_BYTES];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA_BYTES);
    parts.push(items[i]!);
  }
  parts.push(CLOSE_BYTES);
  return Buffer.concat(parts);
}

/** The bytes `[item,item,…]` when the items are views of one marked buffer separated by exactly that. */
function arrayAroundItems(items: readonly Uint8Array[]): Buffer | undefined {
  const first = items[0];
  if (!first || !(first.buffer instanceof ArrayBuffer) || !laidOutArrays.has(first.buffer)) return undefined;
  const bytes = new Uint8Array(first.buffer);
  const start = first.byteOffset - 1;
  if (start < 0 || bytes[start] !== OPEN) return undefined;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    if (item.buffer !== first.buffer || item.byteOffset !== end + 1 || bytes[end] !== COMMA) return undefined;
    end = item.byteOffset + item.byteLength;
  }
  if (bytes[end] !== CLOSE) return undefined;
  return Buffer.from(first.buffer, start, end + 1 - start);
}

const quote = (value: string): string => JSON.stringify(value);

const MICROS_PER_SECOND = 1_000_000n;
/** Beyond this many µs from 1970 (±285 years) a double loses microseconds: BigInt arithmetic then. */
const SAFE_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The last whole second formatted, `YYYY-MM-DDTHH:MM:SS`: a trace's thousands of timestamps fall
 * in a few seconds, and Date#toISOString was most of the cost of rendering a 10,000-span waterfall.
 */
let cachedSecond = Number.NaN;
let cachedSecondText = '';

/** Epoch microseconds → `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six digits, always UTC). */
export function formatTimestamp(micros: bigint): string {
  if (micros > SAFE_MICROS || micros < -SAFE_MICROS) return formatFarTimestamp(micros);
  const value = Number(micros);
  // Floor division, so that instants before 1970 keep a positive fraction.
  const seconds = Math.floor(value / 1_000_000);
  const fraction = value - seconds * 1_000_000;
  if (seconds !== cachedSecond) {
    cachedSecondText = new Date(seconds * 1000).toISOString().slice(0, -5); // drops .000Z
    cachedSecond = seconds;
  }
  return `${cachedSecondText}.${String(fraction).padStart(6, '0')}Z`;
}

function formatFarTimestamp(micros: bigint): string {
  let seconds = micros / MICROS_PER_SECOND;
  let fraction = micros % MICROS_PER_SECOND;
  if (fraction < 0n) {
    fraction += MICROS_PER_SECOND;
    seconds -= 1n;
  }
  const whole = new Date(Number(seconds) * 1000).toISOString(); // …T12:34:56.000Z
  return `${whole.slice(0, -5)}.${fraction.toString().padStart(6, '0')}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 timestamp → epoch microseconds, or null when the text is not one. Fraction digits
 * below the microsecond must be zero: stored times have microsecond precision, and a cursor that
 * fell between two of them would make "before this instant" ambiguous at a tie.
 */
export function parseTimestamp(text: string): bigint | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, year, month, day, hour, minute, second, fractionText = '', zone = 'Z'] = m;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 31 February over into March; a real date must survive the round trip.
  if (new Date(ms).getUTCDate() !== d) return null;
  const digits = fractionText.padEnd(9, '0');
  if (digits.slice(6) !== '000') return null;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetHours = Number(zone.slice(1, 3));
    const offsetMins = Number(zone.slice(4, 6));
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1000n + BigInt(digits.slice(0, 6));
}
