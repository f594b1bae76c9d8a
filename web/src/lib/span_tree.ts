// Builds the span tree of one trace from the flat list the API returns, and flattens it into the
// rows of a waterfall. Iterative throughout: a trace may hold 10,000+ spans or a very deep chain.
// Works on whole spans and on compact ones (api/types.ts CompactSpan) alike.
import type { CompactSpan, Span } from '../../../src/features/otel/schemas.ts';
import { isErrorSpan } from './span_facts.ts';
import { parseTimestampMicros } from './time.ts';

/** What the tree reads of a span. */
export type TreeSpan = Pick<Span, 'span_id' | 'parent_span_id' | 'start_time' | 'end_time' | 'status_code'>;

export interface SpanNode<S extends TreeSpan = CompactSpan> {
  span: S;
  id: string;
  start: number;
  end: number;
  depth: number;
  parent: SpanNode<S> | null;
  children: SpanNode<S>[];
  error: boolean;
  /** true when this span or any descendant failed — shown on collapsed rows. */
  errorInSubtree: boolean;
  /** number of descendants, for "+N hidden" on collapsed rows. */
  descendantCount: number;
}

export interface SpanTree<S extends TreeSpan = CompactSpan> {
  roots: SpanNode<S>[];
  byId: Map<string, SpanNode<S>>;
  /** earliest start and latest end over all spans (µs); 0 for an empty trace. */
  start: number;
  end: number;
}

const byStart = (a: SpanNode<TreeSpan>, b: SpanNode<TreeSpan>) =>
  a.start - b.start || a.end - b.end || (a.id < b.id ? -1 : 1);

/**
 * Parents come from `parent_span_id`. A span whose parent is not in the list (not yet received,
 * or outside the trace) becomes a root, as does any span caught in a parent cycle.
 */
export function buildSpanTree<S extends TreeSpan>(spans: readonly S[]): SpanTree<S> {
  const byId = new Map<string, SpanNode<S>>();
  for (const span of spans) {
    if (byId.has(span.span_id)) continue;
    const start = parseTimestampMicros(span.start_time);
    const end = parseTimestampMicros(span.end_time);
    byId.set(span.span_id, {
      span,
      id: span.span_id,
      start,
      end: Number.isNaN(end) || end < start ? start : end,
      depth: 0,
      parent: null,
      children: [],
      error: isErrorSpan(span),
      errorInSubtree: false,
      descendantCount: 0,
    });
  }
  const roots: SpanNode<S>[] = [];
  for (const node of byId.values()) {
    const parentId = node.span.parent_span_id;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent && parent !== node) {
      node.parent = parent;
      parent.children.push(node);
    } else {
      roots.push(node);
    }
  }
  const order = preorder(roots, null);
  if (order.length < byId.size) breakCycles(byId, roots, order);
  roots.sort(byStart);
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const node of order) {
    node.children.sort(byStart);
    node.depth = node.parent ? node.parent.depth + 1 : 0;
    if (node.start < start) start = node.start;
    if (node.end > end) end = node.end;
  }
  // Reverse pre-order visits every child before its parent: roll counts and errors upward.
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    node.errorInSubtree = node.error || node.errorInSubtree;
    if (node.parent) {
      node.parent.descendantCount += node.descendantCount + 1;
      if (node.errorInSubtree) node.parent.errorInSubtree = true;
    }
  }
  return order.length === 0 ? { roots, byId, start: 0, end: 0 } : { roots, byId, start, end };
}

/** Spans whose parent links form a loop are unreachable from any root: cut each loop once. */
function breakCycles<S extends TreeSpan>(
  byId: Map<string, SpanNode<S>>,
  roots: SpanNode<S>[],
  order: SpanNode<S>[],
): void {
  const seen = new Set(order);
  for (const node of byId.values()) {
    if (seen.has(node)) continue;
    const parent = node.parent!;
    parent.children.splice(parent.children.indexOf(node), 1);
    node.parent = null;
    roots.push(node);
    for (const reached of preorder([node], null)) {
      seen.add(reached);
      order.push(reached);
    }
  }
}

/** Depth-first pre-order, skipping the children of collapsed nodes when `collapsed` is given. */
function preorder<S extends TreeSpan>(
  roots: readonly SpanNode<S>[],
  collapsed: ReadonlySet<string> | null,
): SpanNode<S>[] {
  const out: SpanNode<S>[] = [];
  const stack: SpanNode<S>[] = [...roots].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    if (collapsed?.has(node.id)) continue;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return out;
}

/** The rows shown in the waterfall: every span whose ancestors are all expanded. */
export function visibleRows<S extends TreeSpan>(
  tree: SpanTree<S>,
  collapsed: ReadonlySet<string>,
): SpanNode<S>[] {
  return preorder(tree.roots, collapsed);
}

/** Ids of the ancestors of a span (to expand them when the span is deep-linked). */
export function ancestorIds(node: SpanNode<TreeSpan>): string[] {
  const ids: string[] = [];
  for (let cursor = node.parent; cursor; cursor = cursor.parent) ids.push(cursor.id);
  return ids;
}

/** All spans under `root` (inclusive), e.g. the spans of one workflow run inside a larger trace. */
export function subtreeSpans<S extends TreeSpan>(tree: SpanTree<S>, rootId: string): S[] {
  const root = tree.byId.get(rootId);
  return root ? preorder([root], null).map((node) => node.span) : [];
}
