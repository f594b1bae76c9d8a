// Rebuilds the state of every store of a workflow run, step by step, from the `set_state` span
// events: start from the owner's `state.start` and apply each event's RFC 6902 patch with
// fast-json-patch (telemetry.md §3, §6).
//
// Stores: the workflow's own store, each subflow's store, and (contract 2) agent stores. A subflow
// may write into its parent's store; those events carry the parent's store id and so replay
// against the parent store, in order with the parent's other updates.
//
// Order: per store by `junjo.store.transition.sequence` when every event of the store has one
// (contract 2 — the sequence is the authority, not the clock), else by event time. Stores are then
// merged by event time so the steps read as one timeline.
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { Span } from '../../../src/features/otel/schemas.ts';
import { parseMaybeJson } from './span_facts.ts';
import { parseNanos } from './time.ts';

export interface StateEvent {
  /** the event's `id` attribute, else `<span id>:<event index>` */
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
  before: unknown;
  after: unknown;
  /** why the patch could not be applied; the state is then carried over unchanged */
  error: string | null;
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
}

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

/** Every `set_state` event of the given spans, in no particular order. */
export function collectStateEvents(spans: readonly Span[]): StateEvent[] {
  const events: StateEvent[] = [];
  for (const span of spans) {
    span.events_json.forEach((event, index) => {
      if (event.name !== 'set_state') return;
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
export function collectStores(spans: readonly Span[]): Map<string, StoreInfo> {
  const stores = new Map<string, StoreInfo>();
  for (const span of spans) {
    const a = span.attributes_json;
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
export function replayState(spans: readonly Span[]): StateReplay {
  const stores = collectStores(spans);
  const events = orderEvents(collectStateEvents(spans));
  const current = new Map<string, unknown>();
  const counts = new Map<string, number>();
  for (const [id, info] of stores) current.set(id, info.startState);
  const steps: StateStep[] = events.map((event, index) => {
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
      current.set(event.storeId, info.startState);
    }
    if (!info.name) info.name = event.storeName;
    const before = current.get(event.storeId);
    const storeStep = counts.get(event.storeId) ?? 0;
    counts.set(event.storeId, storeStep + 1);
    const parsed = parsePatch(event.rawPatch);
    if (!parsed.ok) {
      return { index, event, storeStep, ops: [], noop: false, before, after: before, error: parsed.reason };
    }
    if (parsed.noop)
      return { index, event, storeStep, ops: [], noop: true, before, after: before, error: null };
    try {
      const after = jsonpatch.applyPatch(before, parsed.ops, true, false).newDocument;
      current.set(event.storeId, after);
      return { index, event, storeStep, ops: parsed.ops, noop: false, before, after, error: null };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      return { index, event, storeStep, ops: parsed.ops, noop: false, before, after: before, error: reason };
    }
  });
  const replays = new Map<string, StoreReplay>();
  for (const [id, info] of stores) {
    const finalState = current.get(id);
    replays.set(id, {
      info,
      finalState,
      matchesEnd: info.endState === null ? null : jsonpatch._areEquals(finalState, info.endState),
      stepCount: counts.get(id) ?? 0,
    });
  }
  return { steps, stores: replays };
}
