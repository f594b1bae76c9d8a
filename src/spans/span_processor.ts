// Decoded OTLP spans → span and state-patch rows (rows.ts; api.md §7 with the project's Decisions 5
// and 6; telemetry.md for the Junjo attributes). The receivers run it to validate every export
// before it is acknowledged; the poller runs it again only for records that arrive without rows.
//
// Every span is converted on its own: a span that cannot be stored faithfully (bad id length, a
// state/graph attribute that is not JSON, a set_state patch that is not a JSON Patch, absurdly
// nested attributes) is rejected with a reason, together with its patches, and the rest of the
// request is kept. Choices where the reference server was silent or quirky:
// - status_code is STATUS_CODE_UNSET when the span has no Status (OTLP: an absent status means
//   UNSET; the reference stored ""); unknown status numbers also map to UNSET, unknown kinds to
//   UNSPECIFIED.
// - agent spans (contract 2) are store owners like workflows: their junjo_wf_* columns come from
//   junjo.agent.state.start/end and junjo.agent.store.id (lifted out of attributes_json), and their
//   set_state patches carry the agent's runtime id as workflow_id. A workflow/subflow/agent span
//   without a store id gets "" (the reference wrote "{}").
// - all-zero trace/span ids are rejected (invalid per OTLP); an all-zero parent id means "no parent".
// - patch_id is deterministic so replays never duplicate a patch (scheme: extractStatePatches).
import { createHash } from 'node:crypto';
import { bytesToHex } from '../otlp/hex.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, Span, SpanEvent, SpanLink } from '../otlp/types.ts';
import { STATE_EVENT } from './compact_span.ts';
import type { SpanBatch, SpanRow, StatePatchRow } from './rows.ts';
import { spanLimitViolation } from './span_limits.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ProcessedTraceRequest extends SpanBatch {
  rejected: { count: number; errors: string[] };
}

export interface ProcessedSpan {
  span: SpanRow;
  patches: StatePatchRow[];
}

/** A span that cannot be stored; `message` says why, without naming the span (the caller does). */
export class SpanRejectedError extends Error {
  override readonly name = 'SpanRejectedError';
}

/** I-JSON nesting limit (telemetry.md §7): attributes_json is level 1, each array/kvlist adds one. */
export const MAX_JSON_DEPTH = 128;

const UNKNOWN_SERVICE = 'unknown_service';
const KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const NO_JSON = '{}';

/**
 * Keys lifted into junjo_* columns → the slot their string value is read into. All of them are
 * removed from attributes_json on every span (api.md §7.2 list + contract 2), except the agent
 * ones, which are lifted (and removed) only on agent spans where they fill the store-owner columns.
 */
const SLOT = {
  spanType: 0,
  legacyId: 1,
  legacyParentId: 2,
  runtimeId: 3,
  parentRuntimeId: 4,
  stateStart: 5,
  stateEnd: 6,
  graphStructure: 7,
  graphSnapshot: 8,
  storeId: 9,
  /** Keys of the reference's removal list that fill no column. */
  removedOnly: 10,
  agentStateStart: 11,
  agentStateEnd: 12,
  agentStoreId: 13,
} as const;
const FIRST_AGENT_SLOT = SLOT.agentStateStart;
const LIFTED_KEYS = new Map<string, number>([
  ['junjo.span_type', SLOT.spanType],
  ['junjo.id', SLOT.legacyId],
  ['junjo.parent_id', SLOT.legacyParentId],
  ['junjo.executable_runtime_id', SLOT.runtimeId],
  ['junjo.parent_executable_runtime_id', SLOT.parentRuntimeId],
  ['junjo.workflow.state.start', SLOT.stateStart],
  ['junjo.workflow.state.end', SLOT.stateEnd],
  ['junjo.workflow.graph_structure', SLOT.graphStructure],
  ['junjo.workflow.execution_graph_snapshot', SLOT.graphSnapshot],
  ['junjo.workflow.store.id', SLOT.storeId],
  ['junjo.workflow_id', SLOT.removedOnly],
  ['node.id', SLOT.removedOnly],
  ['junjo.agent.state.start', SLOT.agentStateStart],
  ['junjo.agent.state.end', SLOT.agentStateEnd],
  ['junjo.agent.store.id', SLOT.agentStoreId],
]);
const CONTRACT_VERSION_KEY = 'junjo.telemetry.contract_version';
/** The set_state attribute a span's verdict reads. */
export const STATE_PATCH_KEY = 'junjo.state_json_patch';
/**
 * The span attribute keys a span's verdict reads (beyond its limits, ids and nesting): the lifted
 * keys and the contract marker. For the receivers' check on the wire (wire_verdict.ts).
 */
export const VERDICT_ATTRIBUTE_KEYS: readonly string[] = [...LIFTED_KEYS.keys(), CONTRACT_VERSION_KEY];
/** Slot → key, for error messages. */
const SLOT_KEYS: string[] = [];
for (const [key, slot] of LIFTED_KEYS) SLOT_KEYS[slot] ??= key;

export function processTraceRequest(req: ExportTraceRequest): ProcessedTraceRequest {
  const spans: SpanRow[] = [];
  const patches: StatePatchRow[] = [];
  const rejected = forEachSpan(req, (span, serviceName) => {
    const processed = processSpan(span, serviceName);
    spans.push(processed.span);
    for (const patch of processed.patches) patches.push(patch);
  });
  return { spans, patches, rejected };
}

/**
 * How many spans processTraceRequest would keep, and the spans it would reject with the same
 * reasons, found without building a row: what a receiver needs to know before it acknowledges.
 */
export function checkTraceRequest(req: ExportTraceRequest): CheckedTraceRequest {
  let accepted = 0;
  const rejected = forEachSpan(req, (span, serviceName) => {
    checkSpan(span, serviceName);
    accepted++;
  });
  return { accepted, rejected };
}

export interface CheckedTraceRequest {
  accepted: number;
  rejected: { count: number; errors: string[] };
}

/** Calls `visit` for every span of the request; a SpanRejectedError it throws rejects that span. */
function forEachSpan(
  req: ExportTraceRequest,
  visit: (span: Span, serviceName: string) => void,
): { count: number; errors: string[] } {
  const errors: string[] = [];
  for (let r = 0; r < req.resourceSpans.length; r++) {
    const resourceSpans = req.resourceSpans[r]!;
    const serviceName = serviceNameOf(resourceSpans.resource?.attributes);
    // Spans are numbered across all scopes of their resource, in request order.
    let index = 0;
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        try {
          visit(span, serviceName);
        } catch (err) {
          if (!(err instanceof SpanRejectedError)) throw err;
          errors.push(`span ${index} of resource ${r} (${quotedName(span.name)}): ${err.message}`);
        }
        index++;
      }
    }
  }
  return { count: errors.length, errors };
}

/** The span's name for an error message, cut short: these messages go back to the client. */
function quotedName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

export function serviceNameOf(attributes: KeyValue[] | undefined): string {
  if (attributes) {
    for (const kv of attributes) {
      if (kv.key === 'service.name' && kv.value.type === 'string' && kv.value.value !== '')
        return kv.value.value;
    }
  }
  return UNKNOWN_SERVICE;
}

/**
 * Throws SpanRejectedError when the span cannot be stored, for the first of its problems in the
 * order processSpan would meet them; otherwise returns its Junjo fields and the attributes that
 * stay in attributes_json. Parses the JSON texts it stores (state, graph, patches) but builds none
 * of the row's text.
 */
export function checkSpan(span: Span, serviceName: string): { junjo: JunjoFields; filtered: KeyValue[] } {
  const overLimit = spanLimitViolation(span, serviceName);
  if (overLimit) throw new SpanRejectedError(overLimit);
  checkId(span.traceId, 'trace_id', 16);
  checkId(span.spanId, 'span_id', 8);
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8)
    throw new SpanRejectedError(`parent_span_id has ${span.parentSpanId.length} bytes, expected 0 or 8`);
  const lifted = extractJunjoAttributes(span.attributes);
  checkNesting(lifted.filtered);
  for (const event of span.events) checkNesting(event.attributes);
  for (const link of span.links) checkNesting(link.attributes);
  const problem = statePatchesProblem(span.events);
  if (problem) throw new SpanRejectedError(problem);
  return lifted;
}

/** One span → its row and its state patches. Throws SpanRejectedError (see checkSpan). */
export function processSpan(span: Span, serviceName: string): ProcessedSpan {
  const { junjo, filtered } = checkSpan(span, serviceName);
  const traceId = bytesToHex(span.traceId);
  const spanId = bytesToHex(span.spanId);
  const parentSpanId =
    span.parentSpanId.length === 0 || isAllZero(span.parentSpanId) ? null : bytesToHex(span.parentSpanId);
  const row: SpanRow = {
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: parentSpanId,
    service_name: serviceName,
    name: span.name,
    kind: KIND_NAMES[span.kind] ?? 'UNSPECIFIED',
    start_time: span.startTimeUnixNano / 1000n,
    end_time: span.endTimeUnixNano / 1000n,
    status_code: (span.status && STATUS_NAMES[span.status.code]) || 'STATUS_CODE_UNSET',
    status_message: span.status?.message ?? '',
    attributes_json: JSON.stringify(convertOtlpAttributesToJson(filtered)),
    events_json: eventsJson(span.events),
    links_json: JSON.stringify(span.links.map(linkToJson)),
    // The column is a signed 32-bit INTEGER; real flags use the low 10 bits.
    trace_flags: span.flags | 0,
    trace_state: span.traceState === '' ? null : span.traceState,
    junjo_id: junjo.id,
    junjo_parent_id: junjo.parentId,
    junjo_span_type: junjo.spanType,
    junjo_wf_state_start: junjo.stateStart,
    junjo_wf_state_end: junjo.stateEnd,
    junjo_wf_graph_structure: junjo.graphStructure,
    junjo_wf_store_id: junjo.storeId,
  };
  const patches = extractStatePatches(span.events, {
    serviceName,
    traceId,
    spanId,
    workflowId: STORE_OWNER_TYPES.has(junjo.spanType) ? junjo.id : '',
    nodeId: junjo.spanType === 'node' ? junjo.id : '',
  });
  return { span: row, patches };
}

export function spanIdHex(id: Uint8Array, field: string, length: number): string {
  checkId(id, field, length);
  return bytesToHex(id);
}

function checkId(id: Uint8Array, field: string, length: number): void {
  if (id.length !== length)
    throw new SpanRejectedError(`${field} has ${id.length} bytes, expected ${length}`);
  if (isAllZero(id)) throw new SpanRejectedError(`${field} is all zeroes`);
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

// ---- Junjo attributes -------------------------------------------------------------------------

export interface JunjoFields {
  id: string;
  parentId: string;
  spanType: string;
  /** JSON text; "{}" unless the span owns a store (workflow, subflow, agent). */
  stateStart: string;
  stateEnd: string;
  graphStructure: string;
  storeId: string;
}

/** Span types whose spans own a store: they get the junjo_wf_* columns and are a patch's workflow_id. */
const STORE_OWNER_TYPES = new Set(['workflow', 'subflow', 'agent']);

/**
 * Splits span attributes into the values of the junjo_* columns and the attributes that stay in
 * attributes_json. Legacy spans carry junjo.id / junjo.parent_id / junjo.workflow.graph_structure;
 * contract-2 spans (junjo.telemetry.contract_version present) carry the runtime-id family and the
 * execution graph snapshot instead. Only string values are lifted; lifted keys are removed whatever
 * their type. Throws SpanRejectedError when a state or graph value is not JSON.
 */
export function extractJunjoAttributes(attributes: KeyValue[]): { junjo: JunjoFields; filtered: KeyValue[] } {
  const values: (string | undefined)[] = new Array(SLOT_KEYS.length);
  let contract2 = false;
  let kept: KeyValue[] | undefined;
  let keptAgentKey = false;
  for (let i = 0; i < attributes.length; i++) {
    const kv = attributes[i]!;
    const slot = LIFTED_KEYS.get(kv.key);
    if (slot === undefined) {
      if (kv.key === CONTRACT_VERSION_KEY) contract2 = true;
      kept?.push(kv);
      continue;
    }
    if (kv.value.type === 'string') values[slot] = kv.value.value;
    if (slot >= FIRST_AGENT_SLOT) keptAgentKey = true;
    // Copy the attributes before the first lifted key; from here on, keep only what stays.
    kept ??= attributes.slice(0, i);
    if (slot >= FIRST_AGENT_SLOT) kept.push(kv);
  }
  const spanType = values[SLOT.spanType] ?? '';
  const junjo: JunjoFields = {
    id: values[contract2 ? SLOT.runtimeId : SLOT.legacyId] ?? '',
    parentId: values[contract2 ? SLOT.parentRuntimeId : SLOT.legacyParentId] ?? '',
    spanType,
    stateStart: NO_JSON,
    stateEnd: NO_JSON,
    graphStructure: NO_JSON,
    storeId: '',
  };
  if (spanType === 'workflow' || spanType === 'subflow') {
    junjo.stateStart = jsonText(values, SLOT.stateStart);
    junjo.stateEnd = jsonText(values, SLOT.stateEnd);
    junjo.graphStructure = jsonText(values, contract2 ? SLOT.graphSnapshot : SLOT.graphStructure);
    junjo.storeId = values[SLOT.storeId] ?? '';
  } else if (spanType === 'agent') {
    junjo.stateStart = jsonText(values, SLOT.agentStateStart);
    junjo.stateEnd = jsonText(values, SLOT.agentStateEnd);
    junjo.storeId = values[SLOT.agentStoreId] ?? '';
    if (keptAgentKey) kept = kept!.filter((kv) => (LIFTED_KEYS.get(kv.key) ?? 0) < FIRST_AGENT_SLOT);
  }
  return { junjo, filtered: kept ?? attributes };
}

/** The lifted attribute's JSON text as sent (validated), or "{}" when absent. */
function jsonText(values: (string | undefined)[], slot: number): string {
  const text = values[slot];
  if (text === undefined) return NO_JSON;
  const { problem } = storableJsonProblem(text);
  if (problem) throw new SpanRejectedError(`${SLOT_KEYS[slot]} ${problem}`);
  return text;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Parses JSON text that is stored verbatim in a JSON column. Beyond JSON.parse, DuckDB refuses an
 * escaped unpaired surrogate ("\ud800"; I-JSON forbids it too), which would fail the whole insert
 * batch, so such text is a problem here. The regex is only a cheap pre-filter: the parsed strings
 * decide (an escaped backslash followed by "ud800" is fine).
 */
function storableJsonProblem(text: string): { value?: unknown; problem?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `is not valid JSON (${(err as Error).message})` };
  }
  if (SURROGATE_ESCAPE.test(text)) {
    let wellFormed: boolean;
    try {
      wellFormed = isWellFormedJson(value);
    } catch {
      return { problem: 'is nested too deeply to check' }; // stack overflow on absurd nesting
    }
    if (!wellFormed) return { problem: 'is not valid I-JSON (it escapes an unpaired UTF-16 surrogate)' };
  }
  return { value };
}

function isWellFormedJson(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(isWellFormedJson);
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || !isWellFormedJson(item)) return false;
  }
  return true;
}

// ---- state patches ----------------------------------------------------------------------------

export interface PatchOwner {
  serviceName: string;
  traceId: string;
  spanId: string;
  /** junjo_id of a workflow/subflow/agent span, else "". */
  workflowId: string;
  /** junjo_id of a node span, else "". */
  nodeId: string;
}

/** The first set_state event whose patch is neither a JSON Patch nor an empty no-op, as a reason; null if none. */
export function statePatchesProblem(events: SpanEvent[]): string | null {
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.name !== STATE_EVENT) continue;
    const problem = jsonPatchProblem(setStateAttributes(event).patchJson);
    if (problem) return `set_state event ${i}: junjo.state_json_patch ${problem}`;
  }
  return null;
}

function setStateAttributes(event: SpanEvent): { eventId: string; patchJson: string; storeId: string } {
  let eventId = '';
  let patchJson = NO_JSON;
  let storeId = '';
  for (const kv of event.attributes) {
    if (kv.value.type !== 'string') continue;
    if (kv.key === 'id') eventId = kv.value.value;
    else if (kv.key === STATE_PATCH_KEY) patchJson = kv.value.value;
    else if (kv.key === 'junjo.store.id') storeId = kv.value.value;
  }
  return { eventId, patchJson, storeId };
}

/**
 * One StatePatchRow per `set_state` event of a span checkSpan accepted. patch_id is deterministic
 * so that a replayed export never duplicates a patch:
 * - event with an `id` attribute (every Junjo SDK sends one): `<trace_id>:<span_id>:<id>`; scoping
 *   by span keeps two spans that reuse an event id apart. A repeated id within one span gets
 *   `#<event index>` appended so neither patch is lost;
 * - event without `id`: sha256 hex of `<trace_id>:<span_id>:#<event index>` — 64 hex characters
 *   with no ':' , so it can never equal an id of the first form.
 */
function extractStatePatches(events: SpanEvent[], owner: PatchOwner): StatePatchRow[] {
  const patches: StatePatchRow[] = [];
  let seenIds: Set<string> | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.name !== STATE_EVENT) continue;
    const { eventId, patchJson, storeId } = setStateAttributes(event);
    let patchId: string;
    if (eventId === '') {
      patchId = createHash('sha256').update(`${owner.traceId}:${owner.spanId}:#${i}`).digest('hex');
    } else {
      seenIds ??= new Set();
      patchId = `${owner.traceId}:${owner.spanId}:${eventId}`;
      if (seenIds.has(eventId)) patchId += `#${i}`;
      seenIds.add(eventId);
    }
    patches.push({
      patch_id: patchId,
      service_name: owner.serviceName,
      trace_id: owner.traceId,
      span_id: owner.spanId,
      workflow_id: owner.workflowId,
      node_id: owner.nodeId,
      event_time: event.timeUnixNano / 1000n,
      patch_json: patchJson,
      patch_store_id: storeId,
    });
  }
  return patches;
}

const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const JSON_POINTER = /^(?:\/(?:[^~/]|~[01])*)*$/;

/** Why `text` is not an RFC 6902 patch or an empty no-op ("{}" legacy, "[]" contract 2); null if fine. */
function jsonPatchProblem(text: string): string | null {
  const { value: patch, problem } = storableJsonProblem(text);
  if (problem) return problem;
  if (!Array.isArray(patch)) {
    return isPlainObject(patch) && Object.keys(patch).length === 0 ? null : 'is not a JSON Patch array';
  }
  for (let i = 0; i < patch.length; i++) {
    const op: unknown = patch[i];
    if (!isPlainObject(op)) return `operation ${i} is not an object`;
    if (typeof op.op !== 'string' || !PATCH_OPS.has(op.op)) return `operation ${i} has an invalid op`;
    if (typeof op.path !== 'string' || !JSON_POINTER.test(op.path)) {
      return `operation ${i} has an invalid path`;
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) {
      return `operation ${i} (${op.op}) has no value`;
    }
    if (
      (op.op === 'move' || op.op === 'copy') &&
      (typeof op.from !== 'string' || !JSON_POINTER.test(op.from))
    ) {
      return `operation ${i} (${op.op}) has an invalid from`;
    }
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- attribute values → JSON ------------------------------------------------------------------

/**
 * OTLP attributes → a JSON object, keeping every value type: strings, booleans; ints as numbers
 * when safe and decimal strings otherwise; doubles as numbers, non-finite ones as "NaN" /
 * "Infinity" / "-Infinity"; bytes as lowercase hex; arrays and kvlists nested to any depth up to
 * MAX_JSON_DEPTH (deeper → SpanRejectedError). A key whose value is empty is omitted (inside an
 * array an empty value becomes null, so positions are kept); a repeated key keeps its last value.
 */
export function convertOtlpAttributesToJson(attributes: KeyValue[]): JsonObject {
  return keyValuesToJson(attributes, 1);
}

/** One OTLP value → JSON, by the rules of convertOtlpAttributesToJson (a log record's body). */
export function convertOtlpValueToJson(value: AnyValue): JsonValue {
  return anyValueToJson(value, 1);
}

function keyValuesToJson(attributes: KeyValue[], depth: number): JsonObject {
  const out: JsonObject = {};
  for (const kv of attributes) {
    if (kv.value.type === 'empty') continue;
    const value = anyValueToJson(kv.value, depth);
    // "__proto__" must become an own property, not the object's prototype.
    if (kv.key === '__proto__')
      Object.defineProperty(out, kv.key, { value, enumerable: true, writable: true });
    else out[kv.key] = value;
  }
  return out;
}

function anyValueToJson(value: AnyValue, depth: number): JsonValue {
  switch (value.type) {
    case 'string':
    case 'bool':
      return value.value;
    case 'int': {
      const n = value.value;
      return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n.toString();
    }
    case 'double':
      return Number.isFinite(value.value) ? value.value : String(value.value);
    case 'bytes':
      return bytesToHex(value.value);
    case 'array': {
      if (depth >= MAX_JSON_DEPTH) throw tooDeep();
      const items = value.value;
      const out: JsonValue[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        out[i] = item.type === 'empty' ? null : anyValueToJson(item, depth + 1);
      }
      return out;
    }
    case 'kvlist':
      if (depth >= MAX_JSON_DEPTH) throw tooDeep();
      return keyValuesToJson(value.value, depth + 1);
    case 'empty':
      return null;
  }
}

/** Throws what convertOtlpAttributesToJson would for values nested deeper than MAX_JSON_DEPTH, without converting. */
function checkNesting(attributes: KeyValue[], depth = 1): void {
  for (const kv of attributes) checkValueNesting(kv.value, depth);
}

function checkValueNesting(value: AnyValue, depth: number): void {
  if (value.type !== 'array' && value.type !== 'kvlist') return;
  if (depth >= MAX_JSON_DEPTH) throw tooDeep();
  if (value.type === 'kvlist') checkNesting(value.value, depth + 1);
  else for (const item of value.value) checkValueNesting(item, depth + 1);
}

function tooDeep(): SpanRejectedError {
  return new SpanRejectedError(`an attribute value is nested deeper than ${MAX_JSON_DEPTH} levels`);
}

/**
 * events_json as api.md §7.3 has it. Assembled as text because timeUnixNano is a JSON number of up
 * to 20 digits: JSON.stringify would need a JS number, which keeps only about 16 of them.
 */
function eventsJson(events: readonly SpanEvent[]): string {
  const items = events.map(
    (event) =>
      `{"name":${JSON.stringify(event.name)},"timeUnixNano":${event.timeUnixNano}` +
      `,"droppedAttributesCount":${event.droppedAttributesCount}` +
      `,"attributes":${JSON.stringify(convertOtlpAttributesToJson(event.attributes))}}`,
  );
  return `[${items.join(',')}]`;
}

function linkToJson(link: SpanLink): JsonObject {
  return {
    traceId: bytesToHex(link.traceId),
    spanId: bytesToHex(link.spanId),
    traceState: link.traceState,
    attributes: convertOtlpAttributesToJson(link.attributes),
    droppedAttributesCount: link.droppedAttributesCount,
    flags: link.flags,
  };
}
