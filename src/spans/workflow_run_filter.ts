// Conditions on workflow runs (issue #15 point 2), store-neutral: which workflow, which nodes ran or
// failed, how long the run took, and what its start or end state holds at a JSON path. The text
// forms arrive from the query string; every store maps the parsed forms to its own bound queries,
// so nothing a user typed ever becomes SQL text.
import { invalidInput } from '../errors.ts';

/** One step of a JSON path: an object key or an array index. */
export type PathSegment = { key: string } | { index: number };

export interface JsonPath {
  segments: PathSegment[];
  /** A trailing `.length`: the length of the array or string at the path, not the value. */
  length: boolean;
}

export type StateOperator = '=' | '!=' | '<' | '>' | 'contains' | 'exists';
export type JsonScalar = string | number | boolean | null;

export interface StateCondition {
  path: JsonPath;
  operator: StateOperator;
  /** Absent for `exists`; a number for `<` and `>` and for any comparison of a `.length`. */
  value?: JsonScalar;
}

/**
 * Every condition must hold. Semantics every store implements:
 * - `nodes`: a node span (junjo.span_type `node`) of each name ran within the run (same trace,
 *   started between the run's start and end); `notNodes`: none of these did; `failedNodes`: a node
 *   span of each name ran and has status ERROR;
 * - durations are end − start, bounds inclusive; `from` inclusive, `to` exclusive, on the start;
 * - `state`: on the end state (`stateOf` end) or the start state. `=` compares JSON type and value
 *   (numbers numerically); `!=` is its negation (a missing value is "not equal"); `<` `>` need a
 *   number at the path; `contains` is a substring of a string, or an element equal to the value in
 *   an array; `exists` holds when the path leads to any value, null included.
 */
export interface WorkflowRunFilter {
  workflow?: string;
  nodes: string[];
  notNodes: string[];
  failedNodes: string[];
  minDurationMicros?: bigint;
  maxDurationMicros?: bigint;
  fromMicros?: bigint;
  toMicros?: bigint;
  stateOf: 'start' | 'end';
  state: StateCondition[];
}

/** Limits that keep one request cheap to parse and to run. */
export const MAX_RUN_FILTERS = 20;
export const MAX_FILTER_TEXT = 1024;
const MAX_PATH_SEGMENTS = 32;
const MAX_INDEX = 1_000_000;

/** True when the filter asks for nothing beyond "workflow runs of the service". */
export function isEmptyRunFilter(filter: WorkflowRunFilter): boolean {
  return (
    filter.workflow === undefined &&
    filter.nodes.length + filter.notNodes.length + filter.failedNodes.length + filter.state.length === 0 &&
    filter.minDurationMicros === undefined &&
    filter.maxDurationMicros === undefined &&
    filter.fromMicros === undefined &&
    filter.toMicros === undefined
  );
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const INDEX = /^\[(0|[1-9][0-9]{0,6})\]/;

/**
 * `$` followed by `.name`, `["name"]` (a JSON string) or `[index]` segments, and an optional
 * trailing `.length`; `$["length"]` reaches a key called length. Null when `text` is not one.
 */
export function parseJsonPath(text: string): JsonPath | null {
  if (!text.startsWith('$')) return null;
  const segments: PathSegment[] = [];
  let rest = text.slice(1);
  let length = false;
  while (rest.length > 0) {
    if (length || segments.length >= MAX_PATH_SEGMENTS) return null;
    if (rest.startsWith('.')) {
      const name = IDENTIFIER.exec(rest.slice(1))?.[0];
      if (!name) return null;
      rest = rest.slice(1 + name.length);
      if (name === 'length' && rest.length === 0) length = true;
      else segments.push({ key: name });
    } else if (rest.startsWith('["')) {
      const end = closingQuote(rest, 2);
      if (end < 0 || rest[end + 1] !== ']') return null;
      const key = parseJsonString(rest.slice(1, end + 1));
      if (key === null) return null;
      segments.push({ key });
      rest = rest.slice(end + 2);
    } else {
      const index = INDEX.exec(rest);
      if (!index || Number(index[1]) > MAX_INDEX) return null;
      segments.push({ index: Number(index[1]) });
      rest = rest.slice(index[0].length);
    }
  }
  return { segments, length };
}

/** Index of the `"` that closes the JSON string opened before `from`; -1 when none does. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** A JSON string literal without control characters (NUL included), or null. */
function parseJsonString(literal: string): string | null {
  try {
    const value: unknown = JSON.parse(literal);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    return typeof value === 'string' && !/[\u0000-\u001f]/.test(value) ? value : null;
  } catch {
    return null;
  }
}

/** The path's text form, as parseJsonPath reads it (keys that are not identifiers in brackets). */
export function formatJsonPath(path: JsonPath): string {
  const parts = path.segments.map((s) => {
    if ('index' in s) return `[${s.index}]`;
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.key) && s.key !== 'length'
      ? `.${s.key}`
      : `[${JSON.stringify(s.key)}]`;
  });
  return `$${parts.join('')}${path.length ? '.length' : ''}`;
}

const OPERATOR = /^\s+(=|!=|<|>|contains|exists)(?:\s+(.*))?$/s;

/** Where the path at the start of `text` ends: the first whitespace outside a quoted key. */
function pathEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (/\s/.test(c)) return i;
  }
  return text.length;
}

/**
 * `<path> <operator> <JSON literal>` (or `<path> exists`), e.g. `$.intent = "billing"`,
 * `$.items.length > 3`. Throws invalidInput naming `field` when the text is not one.
 */
export function parseStateCondition(text: string, field = 'state'): StateCondition {
  if (text.length > MAX_FILTER_TEXT)
    throw invalidInput(`${field} is longer than ${MAX_FILTER_TEXT} characters`);
  const trimmed = text.trim();
  const pathText = trimmed.slice(0, pathEnd(trimmed));
  const match = OPERATOR.exec(trimmed.slice(pathText.length));
  if (!pathText.startsWith('$') || !match) {
    throw invalidInput(
      `${field} must be "<JSON path> <operator> <JSON value>" with an operator of =, !=, <, >, contains, exists`,
    );
  }
  const [, operatorText = '', valueText] = match;
  const path = parseJsonPath(pathText);
  if (!path) {
    throw invalidInput(
      `${field}: invalid JSON path ${JSON.stringify(pathText)} (expected $ then .name, ["name"] or [index] segments, optionally .length)`,
    );
  }
  const operator = operatorText as StateOperator;
  if (operator === 'exists') {
    if (valueText !== undefined && valueText.trim() !== '')
      throw invalidInput(`${field}: exists takes no value`);
    return { path, operator };
  }
  if (valueText === undefined || valueText.trim() === '')
    throw invalidInput(`${field}: ${operator} needs a value`);
  const value = parseScalar(valueText.trim());
  if (value === undefined) {
    throw invalidInput(
      `${field}: the value must be a JSON string (in double quotes), number, true, false or null`,
    );
  }
  if ((operator === '<' || operator === '>' || path.length) && typeof value !== 'number') {
    throw invalidInput(`${field}: ${path.length ? 'a .length' : operator} compares with a number`);
  }
  if (operator === 'contains' && path.length)
    throw invalidInput(`${field}: contains does not apply to .length`);
  return { path, operator, value };
}

function parseScalar(text: string): JsonScalar | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    return undefined;
  } catch {
    return undefined;
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Texts a state document must contain for the condition to hold, provided the document has no
 * backslash: without escapes, every key and string of a JSON text is written exactly as
 * JSON.stringify writes it, and true, false and null are written as themselves. A store can test
 * these substrings on the raw text before it parses any JSON ("contains a backslash, or all of
 * these"), which rules out most documents cheaply and never a matching one. `!=` needs nothing (a
 * missing value is "not equal"); numbers have many spellings (7, 7.0, 7e0), so only their path's
 * keys are required; keys that look like an index are left out (a store may read `/0` as either).
 */
export function requiredStateTexts(condition: StateCondition): string[] {
  if (condition.operator === '!=') return [];
  const texts = condition.path.segments.flatMap((s) =>
    'key' in s && PLAIN_KEY.test(s.key) ? [JSON.stringify(s.key)] : [],
  );
  const { operator, value } = condition;
  if (condition.path.length || value === undefined || typeof value === 'number') return texts;
  if (operator === '=') texts.push(JSON.stringify(value));
  // An element equal to the string, or a string holding it: either way its characters as written.
  else if (operator === 'contains')
    texts.push(typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value));
  return texts;
}
