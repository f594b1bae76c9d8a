// Comparing runs of one workflow (issue #15 point 3): which nodes ran in some runs and not in
// others, how long each node took per run, and the runs' state steps aligned by node so that the
// first step where they part ways stands out. Nodes are matched across runs by name: Junjo gives
// the graph nodes of every run new ids.
import { isErrorSpan } from './span_facts.ts';
import { parseTimestampMicros } from './time.ts';
import type { WorkflowRun } from './workflow_run.ts';

export interface RunRef {
  traceId: string;
  spanId: string;
}

/** How many runs one comparison shows side by side. */
export const MAX_COMPARED_RUNS = 4;
const REF = /^([0-9a-f]{32}):([0-9a-f]{16})$/;

/** `runs=<traceId>:<spanId>,…` → the runs (2 to MAX_COMPARED_RUNS, distinct), or null. */
export function parseRunRefs(text: string | null): RunRef[] | null {
  if (!text) return null;
  const parts = text.toLowerCase().split(',');
  if (parts.length < 2 || parts.length > MAX_COMPARED_RUNS || new Set(parts).size !== parts.length)
    return null;
  const refs: RunRef[] = [];
  for (const part of parts) {
    const match = REF.exec(part);
    if (!match) return null;
    refs.push({ traceId: match[1]!, spanId: match[2]! });
  }
  return refs;
}

export function formatRunRefs(refs: readonly RunRef[]): string {
  return refs.map((r) => `${r.traceId}:${r.spanId}`).join(',');
}

/** One step of a run as the alignment sees it: the node that made it and what it changed. */
export interface StepView {
  node: string;
  /** the step's patch operations as JSON text: equal text, equal change */
  change: string;
}

export interface AlignedRow {
  node: string;
  /** 1 for the node's first step in a run, 2 for its second, … */
  occurrence: number;
  /** per run, the index of its step in this row, or null when that run has no such step */
  steps: (number | null)[];
  /** some run lacks the step, or the runs' steps changed the state differently */
  diverges: boolean;
}

/** The steps of a run as StepViews: a step belongs to the span that made it, named by that span. */
export function stepViews(run: WorkflowRun): StepView[] {
  return run.replay.steps.map((step) => ({
    node: run.spanById.get(step.event.spanId)?.name ?? '(unknown span)',
    change: JSON.stringify(step.ops),
  }));
}

/**
 * The runs' steps in rows: the k-th step of node N in each run shares a row. Rows follow the first
 * run's order; a step other runs lack is placed after the row of the step before it in its own run.
 */
export function alignSteps(runs: readonly (readonly StepView[])[]): AlignedRow[] {
  const rows: AlignedRow[] = [];
  const rowOf = new Map<string, AlignedRow>();
  runs.forEach((steps, r) => {
    const seen = new Map<string, number>();
    let previous = -1;
    steps.forEach((step, index) => {
      const occurrence = (seen.get(step.node) ?? 0) + 1;
      seen.set(step.node, occurrence);
      const key = `${occurrence}\u0000${step.node}`;
      let row = rowOf.get(key);
      if (!row) {
        row = { node: step.node, occurrence, steps: runs.map(() => null), diverges: false };
        rowOf.set(key, row);
        rows.splice(previous + 1, 0, row);
      }
      row.steps[r] = index;
      previous = rows.indexOf(row);
    });
  });
  for (const row of rows) {
    const changes = row.steps.map((index, r) => (index === null ? null : runs[r]![index]!.change));
    row.diverges = changes.some((change) => change === null || change !== changes[0]);
  }
  return rows;
}

/** Index of the first row where the runs part ways; -1 when every step matches. */
export function firstDivergence(rows: readonly AlignedRow[]): number {
  return rows.findIndex((row) => row.diverges);
}

export interface NodeTiming {
  /** executions of the node in the run */
  count: number;
  /** their durations added up, microseconds */
  micros: number;
  failed: boolean;
}

export interface NodeComparison {
  name: string;
  /** per run; null when the node did not run there */
  runs: (NodeTiming | null)[];
  /** ran in some runs and not in others */
  ranInSome: boolean;
}

const NODE_TYPES = new Set(['node', 'subflow', 'run_concurrent']);

/** Every node that ran in any of the runs, in the order of first execution across them. */
export function compareNodes(runs: readonly WorkflowRun[]): NodeComparison[] {
  const byName = new Map<string, NodeComparison>();
  const firstStart = new Map<string, number>();
  runs.forEach((run, r) => {
    const origin = parseTimestampMicros(run.workflow.start_time);
    for (const span of run.spans) {
      if (!NODE_TYPES.has(span.junjo_span_type)) continue;
      const start = parseTimestampMicros(span.start_time);
      const entry = byName.get(span.name) ?? {
        name: span.name,
        runs: runs.map(() => null),
        ranInSome: false,
      };
      const timing = entry.runs[r] ?? { count: 0, micros: 0, failed: false };
      timing.count += 1;
      timing.micros += parseTimestampMicros(span.end_time) - start;
      timing.failed ||= isErrorSpan(span);
      entry.runs[r] = timing;
      byName.set(span.name, entry);
      firstStart.set(
        span.name,
        Math.min(firstStart.get(span.name) ?? Number.POSITIVE_INFINITY, start - origin),
      );
    }
  });
  const nodes = [...byName.values()];
  for (const node of nodes) node.ranInSome = node.runs.some((t) => t === null);
  return nodes.sort((a, b) => firstStart.get(a.name)! - firstStart.get(b.name)!);
}

/** Per run, the ids of its graph nodes whose name ran in some of the runs and not in others. */
export function differingGraphNodes(
  runs: readonly WorkflowRun[],
  nodes: readonly NodeComparison[],
): Set<string>[] {
  const differing = new Set(nodes.filter((n) => n.ranInSome).map((n) => n.name));
  return runs.map((run) => {
    const ids = new Set<string>();
    if (!run.graph.ok) return ids;
    for (const node of run.graph.graph.nodes) {
      if (differing.has(node.label) || differing.has(node.type)) ids.add(node.id);
    }
    return ids;
  });
}
