// Rebuilds the state of every store of a workflow run, step by step, from the `set_state` span
// events (the compact trace carries them: CompactSpan.state_events): start from the owner's `state.start` and apply each event's RFC 6902 patch with
// fast-json-patch (telemetry.md §3, §6).
//
// Stores: the workflow's own store, each subflow's store, and (contract 2) agent stores. A subflow
// may write into its parent's store; those events carry the parent's store id and so replay
// against the parent store, in order with the parent's other updates.
//
// Order: per store by `junjo.store.transition.sequence` when every event of the store has one
// (contract 2 — the sequence is the authority, not the clock), else by event time. Stores are then
// merged by event time so the steps read as one timeline.
//
// Snapshots: one pass applies every patch to a working copy per store, recording errors and the
// final state, and keeps a full copy of the state every CHECKPOINT_EVERY updates of a store. The
// state before/after a given step is rebuilt on demand from the nearest checkpoint, so a run with
// 10,000 updates of a large state costs neither 10,000 copies of it nor quadratic time.
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { CompactSpan } from '../../../src/features/otel/schemas.ts';
import { parseMaybeJson } from './span_facts.ts';
import { parseNanos, parseTimestampMicros } from './time.ts';

export interface StateEvent {
  /** the event's `id` attribute, else `<span id>:<index among the span's state events>` */
  id: string;
  spanId: string;
  storeId: string;
  storeName: string;
  action: string;
  timeNanos: bigint;
  sequence: number | null;
  /** the raw `junjo.state_json_patch` attribute */
  rawPatch: unknown;
}

export type StoreOwnerKind = 'workflow' | 'subflow' | 'agent';

export interface StoreInfo {
  id: string;
  name: string;
  ownerSpanId: string | null;
  ownerName: string;
  ownerKind: StoreOwnerKind | null;
  /** the store a subflow's parent workflow owns */
  parentStoreId: string | null;
  startState: unknown;
  /** null when the owner span did not report an end state */
  endState: unknown;
}

export interface StateStep {
  index: number;
  event: StateEvent;
  /** index of this step among the steps of its store (0-based) */
  storeStep: number;
  ops: Operation[];
  /** the SDK reported an update that changed nothing (`"{}"` legacy, `"[]"` contract 2) */
  noop: boolean;
  /** why the patch could not be applied; the state is then carried over unchanged */
  error: string | null;
}

export interface Snapshot {
  before: unknown;
  after: unknown;
}

export interface StoreReplay {
  info: StoreInfo;
  finalState: unknown;
  /** does the replayed final state equal the reported end state? null when there is none */
  matchesEnd: boolean | null;
  stepCount: number;
}

export interface StateReplay {
  steps: StateStep[];
  stores: Map<string, StoreReplay>;
  /** The store's state before and after step `index` (fresh objects; callers may keep them). */
  snapshot(index: number): Snapshot;
}

/** Rebuilding a snapshot costs one copy of the state plus at most this many patches. */
export const CHECKPOINT_EVERY = 256;

type ParsedPatch = { ok: true; ops: Operation[]; noop: boolean } | { ok: false; reason: string };

/** Reads a `junjo.state_json_patch` value: a JSON Patch array, or the legacy `"{}"` no-op. */
export function parsePatch(raw: unknown): ParsedPatch {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, reason: 'The patch is not valid JSON.' };
    }
  }
  if (value === undefined || value === null) return { ok: false, reason: 'The event carries no patch.' };
  if (!Array.isArray(value)) {
    return typeof value === 'object' && Object.keys(value).length === 0
      ? { ok: true, ops: [], noop: true }
      : { ok: false, reason: 'The patch is not a JSON Patch array.' };
  }
  for (const op of value) {
    if (typeof op !== 'object' || op === null || typeof op.op !== 'string' || typeof op.path !== 'string') {
      return { ok: false, reason: 'The patch holds an operation without `op` and `path`.' };
    }
  }
  return { ok: true, ops: value as Operation[], noop: value.length === 0 };
}

/**
 * Every `set_state` event of the given spans, spans in start order, each span's events in the order
 * it emitted them. That arrival order settles ties of event time, which the browser makes common:
 * JSON.parse reads the server's nanosecond numbers as float64, a multiple of 256 ns, so two events
 * close together may read as the same instant whatever order the API listed their spans in.
 */
function collectStateEvents(spans: readonly CompactSpan[]): StateEvent[] {
  const events: StateEvent[] = [];
  const startOrder = spans
    .map((span) => ({ span, start: parseTimestampMicros(span.start_time) }))
    .sort((a, b) => a.start - b.start || (a.span.span_id < b.span.span_id ? -1 : 1))
    .map(({ span }) => span);
  for (const span of startOrder) {
    span.state_events.forEach((event, index) => {
      const a = event.attributes;
      events.push({
        id: typeof a.id === 'string' && a.id ? a.id : `${span.span_id}:${index}`,
        spanId: span.span_id,
        storeId: typeof a['junjo.store.id'] === 'string' ? a['junjo.store.id'] : '',
        storeName: typeof a['junjo.store.name'] === 'string' ? a['junjo.store.name'] : 'unknown store',
        action: typeof a['junjo.store.action'] === 'string' ? a['junjo.store.action'] : 'unknown action',
        timeNanos: parseNanos(event.timeUnixNano) ?? 0n,
        sequence: toSequence(a['junjo.store.transition.sequence']),
        rawPatch: a['junjo.state_json_patch'],
      });
    });
  }
  return events;
}

function toSequence(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : null;
}

/** Stores owned by the workflow, subflow and agent spans among `spans`. */
function collectStores(spans: readonly CompactSpan[]): Map<string, StoreInfo> {
  const stores = new Map<string, StoreInfo>();
  for (const span of spans) {
    const a = span.junjo_attributes;
    if (span.junjo_span_type === 'workflow' || span.junjo_span_type === 'subflow') {
      const id = span.junjo_wf_store_id;
      if (!id || id === '{}' || stores.has(id)) continue;
      const parent = a['junjo.workflow.parent_store.id'];
      stores.set(id, {
        id,
        name: '',
        ownerSpanId: span.span_id,
        ownerName: span.name,
        ownerKind: span.junjo_span_type,
        parentStoreId: typeof parent === 'string' && parent ? parent : null,
        startState: parseMaybeJson(span.junjo_wf_state_start) ?? {},
        endState: reportedEnd(
          parseMaybeJson(span.junjo_wf_state_start),
          parseMaybeJson(span.junjo_wf_state_end),
        ),
      });
    } else if (span.junjo_span_type === 'agent' && typeof a['junjo.agent.store.id'] === 'string') {
      const id = a['junjo.agent.store.id'];
      if (!id || stores.has(id)) continue;
      const start = parseMaybeJson(a['junjo.agent.state.start']);
      stores.set(id, {
        id,
        name: '',
        ownerSpanId: span.span_id,
        ownerName: span.name,
        ownerKind: 'agent',
        parentStoreId: null,
        startState: start ?? {},
        endState: reportedEnd(start, parseMaybeJson(a['junjo.agent.state.end'])),
      });
    }
  }
  return stores;
}

/** The server stores `{}` for a missing end state; only trust `{}` when the run also started empty. */
function reportedEnd(start: unknown, end: unknown): unknown {
  if (end === undefined || end === null || typeof end === 'string') return null;
  const emptyObject = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length === 0;
  return emptyObject(end) && !emptyObject(start) ? null : end;
}

/** Orders events: per store by sequence (or time), then all stores merged by time. */
export function orderEvents(events: readonly StateEvent[]): StateEvent[] {
  const byStore = new Map<string, StateEvent[]>();
  for (const event of events) {
    const list = byStore.get(event.storeId) ?? [];
    list.push(event);
    byStore.set(event.storeId, list);
  }
  const queues = [...byStore.values()].map((list) => {
    const bySequence = list.every((e) => e.sequence !== null);
    return list
      .map((event, arrival) => ({ event, arrival }))
      .sort(
        (a, b) =>
          (bySequence ? a.event.sequence! - b.event.sequence! : 0) ||
          compareBigInt(a.event.timeNanos, b.event.timeNanos) ||
          a.arrival - b.arrival,
      )
      .map(({ event }) => event);
  });
  const merged: StateEvent[] = [];
  const heads = queues.map(() => 0);
  for (;;) {
    let best = -1;
    for (let q = 0; q < queues.length; q++) {
      const candidate = queues[q]![heads[q]!];
      if (!candidate) continue;
      if (best < 0 || candidate.timeNanos < queues[best]![heads[best]!]!.timeNanos) best = q;
    }
    if (best < 0) return merged;
    merged.push(queues[best]![heads[best]!]!);
    heads[best]!++;
  }
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Replays every store of the given spans (normally the spans of one workflow run). */
export function replayState(spans: readonly CompactSpan[]): StateReplay {
  const stores = collectStores(spans);
  const events = orderEvents(collectStateEvents(spans));
  const working = new Map<string, { doc: unknown; steps: StateStep[]; checkpoints: unknown[] }>();
  const storeOf = (event: StateEvent) => {
    let entry = working.get(event.storeId);
    if (!entry) {
      let info = stores.get(event.storeId);
      if (!info) {
        // A store we have no owner span for (e.g. its owner was not exported): replay from empty.
        info = {
          id: event.storeId,
          name: '',
          ownerSpanId: null,
          ownerName: '',
          ownerKind: null,
          parentStoreId: null,
          startState: {},
          endState: null,
        };
        stores.set(event.storeId, info);
      }
      entry = { doc: clone(info.startState), steps: [], checkpoints: [] };
      working.set(event.storeId, entry);
    }
    return entry;
  };

  const steps: StateStep[] = events.map((event, index) => {
    const store = storeOf(event);
    const info = stores.get(event.storeId)!;
    if (!info.name) info.name = event.storeName;
    const storeStep = store.steps.length;
    if (storeStep % CHECKPOINT_EVERY === 0) store.checkpoints.push(clone(store.doc));
    const parsed = parsePatch(event.rawPatch);
    const step: StateStep = parsed.ok
      ? { index, event, storeStep, ops: parsed.ops, noop: parsed.noop, error: null }
      : { index, event, storeStep, ops: [], noop: false, error: parsed.reason };
    if (step.ops.length > 0) {
      try {
        store.doc = applyOps(store.doc, step.ops);
      } catch (error) {
        step.error = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        // The failed patch may have been half applied: rebuild the working copy without it.
        store.doc = rebuild(store.checkpoints, store.steps, storeStep);
      }
    }
    store.steps.push(step);
    return step;
  });

  const replays = new Map<string, StoreReplay>();
  for (const [id, info] of stores) {
    const finalState = working.get(id)?.doc ?? info.startState;
    replays.set(id, {
      info,
      finalState,
      matchesEnd: info.endState === null ? null : jsonpatch._areEquals(finalState, info.endState),
      stepCount: working.get(id)?.steps.length ?? 0,
    });
  }

  const cache = new Map<number, Snapshot>();
  const snapshot = (index: number): Snapshot => {
    const cached = cache.get(index);
    if (cached) return cached;
    const step = steps[index];
    if (!step) throw new RangeError(`no state step ${index}`);
    const store = working.get(step.event.storeId)!;
    const before = rebuild(store.checkpoints, store.steps, step.storeStep);
    const after = step.ops.length > 0 && !step.error ? applyOps(clone(before), step.ops) : before;
    const result = { before, after };
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    cache.set(index, result);
    return result;
  };

  return { steps, stores: replays, snapshot };
}

/** The state before store step `upTo`: the nearest checkpoint plus the successful updates since. */
function rebuild(checkpoints: unknown[], storeSteps: StateStep[], upTo: number): unknown {
  const from = Math.floor(upTo / CHECKPOINT_EVERY);
  let doc = clone(checkpoints[from]);
  for (let k = from * CHECKPOINT_EVERY; k < upTo; k++) {
    const step = storeSteps[k]!;
    if (step.ops.length > 0 && !step.error) doc = applyOps(doc, step.ops);
  }
  return doc;
}

/**
 * Applies a patch in place (the caller owns `doc`) and returns the new document (a root operation
 * replaces it). Each operation is copied first so its `value` never becomes part of a state that
 * later updates modify: the patch stays as sent, and replaying it again gives the same result.
 */
function applyOps(doc: unknown, ops: readonly Operation[]): unknown {
  let result = doc;
  for (const op of ops) result = jsonpatch.applyOperation(result, ownCopy(op), true, true).newDocument;
  return result;
}

/** The operation itself when its value is a primitive (nothing of it can be shared), else a deep copy. */
function ownCopy(op: Operation): Operation {
  const value = (op as { value?: unknown }).value;
  return typeof value === 'object' && value !== null ? clone(op) : op;
}

function clone<T>(value: T): T {
  return value === undefined ? value : jsonpatch.deepClone(value);
}
