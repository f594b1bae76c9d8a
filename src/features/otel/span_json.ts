// DuckDB result rows → the JSON text of api.md §5.1 payloads: JSON columns appear as JSON values
// (objects/arrays, not strings), timestamps as RFC 3339 UTC with exactly six fraction digits and `Z`.
//
// The text is assembled directly instead of JSON.parse-ing every JSON column only for the
// serializer to stringify it again: a page of 500 root spans carries ~2 MB of state and graph
// JSON, and the round trip cost more than the query. Splicing is safe because every JSON column
// holds strict JSON: the span processor writes it with JSON.stringify or checks it with JSON.parse
// before it is stored (DuckDB's own JSON check would also let NaN and trailing commas through).

/** The span columns every span query selects, in this order (timestamps as epoch microseconds). */
export const SPAN_COLUMNS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service_name',
  'name',
  'kind',
  'epoch_us(start_time)',
  'epoch_us(end_time)',
  'status_code',
  'status_message',
  'attributes_json',
  'events_json',
  'links_json',
  'trace_flags',
  'trace_state',
  'junjo_id',
  'junjo_parent_id',
  'junjo_span_type',
  'junjo_wf_state_start',
  'junjo_wf_state_end',
  'junjo_wf_graph_structure',
  'junjo_wf_store_id',
] as const;

export const STATE_PATCH_COLUMNS = [
  'patch_id',
  'service_name',
  'trace_id',
  'span_id',
  'workflow_id',
  'node_id',
  'epoch_us(event_time)',
  'patch_json',
  'patch_store_id',
] as const;

/** One result row of SPAN_COLUMNS or STATE_PATCH_COLUMNS (VARCHAR/JSON as string, BIGINT as bigint). */
export type ResultRow = readonly unknown[];

/** The JSON text of one Span (schemas.ts) from a row of SPAN_COLUMNS. */
export function spanJson(row: ResultRow): string {
  return (
    `{"trace_id":${text(row[0])},"span_id":${text(row[1])},"parent_span_id":${nullableText(row[2])}` +
    `,"service_name":${text(row[3])},"name":${text(row[4])},"kind":${text(row[5])}` +
    `,"start_time":"${formatTimestamp(row[6] as bigint)}","end_time":"${formatTimestamp(row[7] as bigint)}"` +
    `,"status_code":${text(row[8])},"status_message":${text(row[9])}` +
    `,"attributes_json":${json(row[10], '{}')},"events_json":${json(row[11], '[]')}` +
    `,"links_json":${json(row[12], '[]')},"trace_flags":${(row[13] as number | null) ?? 0}` +
    `,"trace_state":${nullableText(row[14])},"junjo_id":${text(row[15])}` +
    `,"junjo_parent_id":${text(row[16])},"junjo_span_type":${text(row[17])}` +
    `,"junjo_wf_state_start":${json(row[18], '{}')},"junjo_wf_state_end":${json(row[19], '{}')}` +
    `,"junjo_wf_graph_structure":${json(row[20], '{}')},"junjo_wf_store_id":${text(row[21])}}`
  );
}

/** The JSON text of one StatePatch (schemas.ts) from a row of STATE_PATCH_COLUMNS. */
export function statePatchJson(row: ResultRow): string {
  return (
    `{"patch_id":${text(row[0])},"service_name":${text(row[1])},"trace_id":${text(row[2])}` +
    `,"span_id":${text(row[3])},"workflow_id":${text(row[4])},"node_id":${text(row[5])}` +
    `,"event_time":"${formatTimestamp(row[6] as bigint)}","patch_json":${json(row[7], '{}')}` +
    `,"patch_store_id":${text(row[8])}}`
  );
}

export function jsonArray(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}

// Nullable VARCHAR columns read as "" (rows written by other tools), except the two the
// contract makes nullable; a NULL JSON column reads as its empty value.
const text = (value: unknown): string => JSON.stringify(value ?? '');
const nullableText = (value: unknown): string => JSON.stringify(value ?? null);
const json = (value: unknown, empty: string): string => (typeof value === 'string' ? value : empty);

const MICROS_PER_SECOND = 1_000_000n;

/** Epoch microseconds → `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six digits, always UTC). */
export function formatTimestamp(micros: bigint): string {
  // Floor division, so that instants before 1970 keep a positive fraction.
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
