// The span JSON of api.md §5.1 and §7.3 (with the Decisions at its top), written from the contract
// text alone, not from src/features/otel/schemas.ts: a client written against the contract must
// accept every span any endpoint returns. Each check returns the problems it finds, with paths.

type Check = (value: unknown, at: string) => string[];

const fail = (at: string, expected: string, value: unknown): string[] => [
  `${at}: expected ${expected}, got ${JSON.stringify(value)}`,
];

const string: Check = (v, at) => (typeof v === 'string' ? [] : fail(at, 'a string', v));
const integer: Check = (v, at) =>
  typeof v === 'number' && Number.isInteger(v) ? [] : fail(at, 'an integer JSON number', v);
const object: Check = (v, at) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? [] : fail(at, 'an object', v);
const nullOr =
  (check: Check): Check =>
  (v, at) =>
    v === null ? [] : check(v, at);
const pattern =
  (re: RegExp, what: string): Check =>
  (v, at) =>
    typeof v === 'string' && re.test(v) ? [] : fail(at, what, v);
const oneOf =
  (values: readonly string[]): Check =>
  (v, at) =>
    typeof v === 'string' && values.includes(v) ? [] : fail(at, `one of ${values.join('|')}`, v);
export const arrayOf =
  (item: Check): Check =>
  (v, at) =>
    Array.isArray(v) ? v.flatMap((x, i) => item(x, `${at}[${i}]`)) : fail(at, 'an array', v);
/** Exactly these keys (§5.1: the column names), each of its type. */
const shape =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    const problems = object(v, at);
    if (problems.length > 0) return problems;
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record))
      if (!(key in fields)) problems.push(`${at}.${key}: not in the contract`);
    for (const [key, check] of Object.entries(fields)) {
      if (!(key in record)) problems.push(`${at}.${key}: missing`);
      else problems.push(...check(record[key], `${at}.${key}`));
    }
    return problems;
  };

/** RFC 3339 in UTC (`Z`), fractional seconds up to microseconds, and a real instant. */
const timestamp: Check = (v, at) =>
  typeof v === 'string' &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(v) &&
  !Number.isNaN(Date.parse(v))
    ? []
    : fail(at, 'an RFC 3339 UTC timestamp with at most microseconds', v);

/** §7.3: one object per span event; timeUnixNano is a JSON number. */
const event = shape({
  name: string,
  timeUnixNano: (v, at) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? [] : fail(at, 'a non-negative JSON number', v),
  droppedAttributesCount: integer,
  attributes: object,
});

const hex = (digits: number) =>
  pattern(new RegExp(`^[0-9a-f]{${digits}}$`), `${digits} lowercase hex digits`);

/** §5.1, with Decisions 5 (OTLP kind names, links stored) and 6 (`agent` spans). */
export const checkSpan: Check = shape({
  trace_id: hex(32),
  span_id: hex(16),
  parent_span_id: nullOr(hex(16)),
  service_name: string,
  name: string,
  kind: oneOf(['CLIENT', 'SERVER', 'INTERNAL', 'PRODUCER', 'CONSUMER', 'UNSPECIFIED']),
  start_time: timestamp,
  end_time: timestamp,
  status_code: oneOf(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR', '']),
  status_message: string,
  attributes_json: object,
  events_json: arrayOf(event),
  links_json: arrayOf(object),
  trace_flags: integer,
  trace_state: nullOr(string),
  junjo_id: string,
  junjo_parent_id: string,
  junjo_span_type: oneOf(['workflow', 'subflow', 'node', 'run_concurrent', 'agent', '']),
  junjo_wf_state_start: object,
  junjo_wf_state_end: object,
  junjo_wf_graph_structure: object,
  junjo_wf_store_id: string,
});

/** Decision 8: rows of §7.5's state_patches, JSON column parsed (Decision 2). */
export const checkStatePatch: Check = shape({
  patch_id: string,
  service_name: string,
  trace_id: hex(32),
  span_id: hex(16),
  workflow_id: string,
  node_id: string,
  event_time: timestamp,
  patch_json: (v, at) =>
    typeof v === 'object' && v !== null ? [] : fail(at, 'a parsed JSON Patch (array) or {}', v),
  patch_store_id: string,
});
