// Positions for the workflow graph. Containers (RunConcurrent groups and Subflows) are laid out
// inside-out: each container's members are placed by dagre, the container takes the size of the
// result, and is then placed as one box among its own siblings. Positions are relative to the
// containing box, which is what React Flow expects for child nodes. Ranks run top-down or
// left-to-right (the wide debugger pane suits long chains better that way).
import dagre from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, WorkflowGraph } from './graph.ts';
import type { LayoutDirection } from './graph_prefs.ts';

const NODE_HEIGHT = 44;
const GROUP_HEADER = 30;
const GROUP_PADDING = 16;

export interface LaidOutNode {
  node: GraphNode;
  /** top-left, relative to the parent box (or to the canvas for top-level nodes) */
  x: number;
  y: number;
  width: number;
  height: number;
  parentId: string | null;
  /** a container drawn open, with its members inside */
  isGroup: boolean;
}

export interface LaidOutEdge extends GraphEdge {
  /** endpoints after hiding the inside of collapsed containers */
  from: string;
  to: string;
}

export interface GraphLayout {
  /** parents always precede their children */
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

function nodeWidth(label: string): number {
  return Math.min(Math.max(label.length * 7.5 + 40, 140), 280);
}

export function layoutGraph(
  graph: WorkflowGraph,
  collapsed: ReadonlySet<string> = new Set(),
  direction: LayoutDirection = 'TB',
): GraphLayout {
  const members = new Map<string | null, GraphNode[]>();
  for (const node of graph.nodes) {
    const list = members.get(node.container) ?? [];
    list.push(node);
    members.set(node.container, list);
  }
  const isOpenGroup = (id: string) => !collapsed.has(id) && (members.get(id)?.length ?? 0) > 0;
  const placed = new Map<string, LaidOutNode>();

  /** Lays out the members of `containerId` and returns the size of the content. */
  const layoutMembers = (containerId: string | null): Size => {
    const own = members.get(containerId) ?? [];
    const sizes = new Map<string, Size>();
    for (const node of own) {
      let size = { width: nodeWidth(node.label), height: NODE_HEIGHT };
      if (isOpenGroup(node.id)) {
        const inner = layoutMembers(node.id);
        size = {
          // the header holds the kind, the name and the collapse button
          width: Math.max(inner.width + 2 * GROUP_PADDING, nodeWidth(node.label) + 110),
          height: inner.height + GROUP_HEADER + 2 * GROUP_PADDING,
        };
      }
      sizes.set(node.id, size);
    }
    const links: Array<[string, string]> = [];
    for (const edge of graph.edges) {
      const tail = memberAncestor(graph, edge.source, containerId);
      const head = memberAncestor(graph, edge.target, containerId);
      if (tail && head && tail !== head) links.push([tail, head]);
    }
    const arranged =
      own.length > LARGE_GRAPH
        ? layeredPlacement(sizes, links, direction)
        : dagrePlacement(sizes, links, direction);
    const inset =
      containerId === null ? { x: 0, y: 0 } : { x: GROUP_PADDING, y: GROUP_HEADER + GROUP_PADDING };
    for (const node of own) {
      const size = sizes.get(node.id)!;
      const centre = arranged.centres.get(node.id)!;
      placed.set(node.id, {
        node,
        x: centre.x - size.width / 2 + inset.x,
        y: centre.y - size.height / 2 + inset.y,
        width: size.width,
        height: size.height,
        parentId: containerId,
        isGroup: isOpenGroup(node.id),
      });
    }
    return arranged.size;
  };

  const size = layoutMembers(null);
  const nodes: LaidOutNode[] = [];
  const stack = [...(members.get(null) ?? [])].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    nodes.push(placed.get(node.id)!);
    if (isOpenGroup(node.id)) stack.push(...[...(members.get(node.id) ?? [])].reverse());
  }
  return { nodes, edges: visibleEdges(graph, new Set(nodes.map((n) => n.node.id))), ...size };
}

interface Size {
  width: number;
  height: number;
}

interface Placement {
  /** centre of each box */
  centres: Map<string, { x: number; y: number }>;
  size: Size;
}

const NODE_GAP = 28;
const RANK_GAP = 48;

/** Above this many boxes in one container, dagre's cost (about 0.5 ms per node) is not worth it. */
export const LARGE_GRAPH = 120;

/** dagre's layered layout with crossing reduction: the best drawing for workflow-sized graphs. */
function dagrePlacement(
  sizes: Map<string, Size>,
  links: Array<[string, string]>,
  direction: LayoutDirection,
): Placement {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: direction, nodesep: NODE_GAP, ranksep: RANK_GAP, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [id, size] of sizes) g.setNode(id, { ...size });
  for (const [tail, head] of links) g.setEdge(tail, head);
  dagre.layout(g);
  const centres = new Map<string, { x: number; y: number }>();
  for (const id of sizes.keys()) {
    const { x, y } = g.node(id) as { x: number; y: number };
    centres.set(id, { x, y });
  }
  const box = g.graph() as { width?: number; height?: number };
  return { centres, size: { width: box.width ?? 0, height: box.height ?? 0 } };
}

/**
 * A linear-time layered layout for large graphs: loops are cut where a depth-first walk meets its
 * own path, each box goes one rank below its deepest predecessor, boxes of a rank are ordered by
 * the mean position of their predecessors (one sweep) and each rank is centred. Left-to-right is
 * the top-down layout of the transposed boxes, transposed back.
 */
export function layeredPlacement(
  sizes: Map<string, Size>,
  links: Array<[string, string]>,
  direction: LayoutDirection = 'TB',
): Placement {
  if (direction === 'TB') return topDownPlacement(sizes, links);
  const swap = <T extends { x: number; y: number }>(p: T) => ({ x: p.y, y: p.x });
  const turned = topDownPlacement(
    new Map([...sizes].map(([id, size]) => [id, { width: size.height, height: size.width }])),
    links,
  );
  return {
    centres: new Map([...turned.centres].map(([id, centre]) => [id, swap(centre)])),
    size: { width: turned.size.height, height: turned.size.width },
  };
}

function topDownPlacement(sizes: Map<string, Size>, links: Array<[string, string]>): Placement {
  const ids = [...sizes.keys()];
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [tail, head] of links) out.get(tail)?.push(head);
  // Depth-first post-order without recursion; edges back onto the current path are loops.
  const state = new Map<string, 'open' | 'done'>();
  const postorder: string[] = [];
  const forward = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const root of ids) {
    if (state.has(root)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const targets = out.get(frame.id)!;
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (state.get(target) === 'open') continue;
        forward.get(frame.id)!.push(target);
        if (!state.has(target)) {
          state.set(target, 'open');
          stack.push({ id: target, next: 0 });
        }
      } else {
        state.set(frame.id, 'done');
        postorder.push(frame.id);
        stack.pop();
      }
    }
  }
  const topological = postorder.reverse();
  const rank = new Map<string, number>(ids.map((id) => [id, 0]));
  const parents = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of topological) {
    for (const target of forward.get(id)!) {
      rank.set(target, Math.max(rank.get(target)!, rank.get(id)! + 1));
      parents.get(target)!.push(id);
    }
  }
  const ranks: string[][] = Array.from({ length: Math.max(0, ...rank.values()) + 1 }, () => []);
  for (const id of topological) ranks[rank.get(id)!]!.push(id);
  const centres = new Map<string, { x: number; y: number }>();
  let y = 0;
  let minX = 0;
  let maxX = 0;
  for (const row of ranks) {
    const mean = (id: string) => {
      const xs = parents.get(id)!.map((p) => centres.get(p)?.x ?? 0);
      return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const ordered = row.map((id, index) => ({ id, index, key: mean(id) }));
    ordered.sort((a, b) => a.key - b.key || a.index - b.index);
    const width =
      ordered.reduce((sum, { id }) => sum + sizes.get(id)!.width, 0) + NODE_GAP * (row.length - 1);
    const height = Math.max(...row.map((id) => sizes.get(id)!.height));
    let x = -width / 2;
    for (const { id } of ordered) {
      const size = sizes.get(id)!;
      centres.set(id, { x: x + size.width / 2, y: y + height / 2 });
      x += size.width + NODE_GAP;
    }
    minX = Math.min(minX, -width / 2);
    maxX = Math.max(maxX, width / 2);
    y += height + RANK_GAP;
  }
  for (const centre of centres.values()) centre.x -= minX;
  return { centres, size: { width: maxX - minX, height: Math.max(0, y - RANK_GAP) } };
}

/** The ancestor-or-self of `nodeId` that sits directly inside `containerId`, if any. */
function memberAncestor(graph: WorkflowGraph, nodeId: string, containerId: string | null): string | null {
  for (let cursor = graph.byId.get(nodeId); cursor; cursor = graph.byId.get(cursor.container ?? '')) {
    if (cursor.container === containerId) return cursor.id;
    if (cursor.container === null) return null;
  }
  return null;
}

/** Edges between visible nodes; an endpoint inside a collapsed container moves to that container. */
function visibleEdges(graph: WorkflowGraph, visible: ReadonlySet<string>): LaidOutEdge[] {
  const nearestVisible = (id: string): string | null => {
    for (let cursor = graph.byId.get(id); cursor; cursor = graph.byId.get(cursor.container ?? '')) {
      if (visible.has(cursor.id)) return cursor.id;
    }
    return null;
  };
  const seen = new Set<string>();
  const edges: LaidOutEdge[] = [];
  for (const edge of graph.edges) {
    const from = nearestVisible(edge.source);
    const to = nearestVisible(edge.target);
    if (!from || !to || from === to || seen.has(`${from}\u0000${to}`)) continue;
    seen.add(`${from}\u0000${to}`);
    edges.push({ ...edge, from, to });
  }
  return edges;
}
