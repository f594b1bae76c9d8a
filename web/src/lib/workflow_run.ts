// Everything the workflow debugger shows about one run, derived from the compact spans of its trace:
// the run's own spans, its graph, which graph nodes ran (and failed), and the state replay.
import type { CompactSpan } from '../../../src/features/otel/schemas.ts';
import { type GraphResult, normaliseGraph } from './graph.ts';
import { isErrorSpan } from './span_facts.ts';
import { buildSpanTree, type SpanTree, subtreeSpans } from './span_tree.ts';
import { replayState, type StateReplay } from './state.ts';

export interface NodeExecutions {
  spans: CompactSpan[];
  failed: boolean;
}

export interface WorkflowRun {
  workflow: CompactSpan;
  /** the workflow span and everything under it */
  spans: CompactSpan[];
  spanById: Map<string, CompactSpan>;
  tree: SpanTree<CompactSpan>;
  graph: GraphResult;
  /** graph node id → the spans that executed it (a node in a loop runs several times) */
  executions: Map<string, NodeExecutions>;
  replay: StateReplay;
  /** span id → indexes of the steps its set_state events produced */
  stepsBySpan: Map<string, number[]>;
  errorSpans: CompactSpan[];
}

/** null when the trace does not (yet) hold the workflow span. */
export function buildWorkflowRun(
  traceSpans: readonly CompactSpan[],
  workflowSpanId: string,
): WorkflowRun | null {
  const tree = buildSpanTree(traceSpans);
  if (!tree.byId.has(workflowSpanId)) return null;
  const spans = subtreeSpans(tree, workflowSpanId);
  const workflow = spans[0]!;
  const executions = new Map<string, NodeExecutions>();
  for (const span of spans.slice(1)) {
    if (!span.junjo_id) continue;
    const entry = executions.get(span.junjo_id) ?? { spans: [], failed: false };
    entry.spans.push(span);
    entry.failed ||= isErrorSpan(span);
    executions.set(span.junjo_id, entry);
  }
  const replay = replayState(spans);
  const stepsBySpan = new Map<string, number[]>();
  for (const step of replay.steps) {
    const list = stepsBySpan.get(step.event.spanId) ?? [];
    list.push(step.index);
    stepsBySpan.set(step.event.spanId, list);
  }
  return {
    workflow,
    spans,
    spanById: new Map(spans.map((s) => [s.span_id, s])),
    tree,
    graph: normaliseGraph(workflow.junjo_wf_graph_structure),
    executions,
    replay,
    stepsBySpan,
    errorSpans: spans.filter(isErrorSpan),
  };
}

/**
 * The graph node a span belongs to: its own Junjo id, or the nearest Junjo ancestor's (an LLM or
 * user span inside a node belongs to that node). null for spans outside any node.
 */
export function graphNodeOf(run: WorkflowRun, spanId: string): string | null {
  if (!run.graph.ok) return null;
  const byId = run.graph.graph.byId;
  for (let node = run.tree.byId.get(spanId); node; node = node.parent ?? undefined) {
    if (node.span.junjo_id && byId.has(node.span.junjo_id)) return node.span.junjo_id;
    if (node.id === run.workflow.span_id) return null;
  }
  return null;
}
