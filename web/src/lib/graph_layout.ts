// Positions for the workflow graph. Containers (RunConcurrent groups and Subflows) are laid out
// inside-out: each container's members are placed by dagre, the container takes the size of the
// result, and is then placed as one box among its own siblings. Positions are relative to the
// containing box, which is what React Flow expects for child nodes.
import dagre from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, WorkflowGraph } from './graph.ts';

export const NODE_HEIGHT = 44;
export const GROUP_HEADER = 30;
export const GROUP_PADDING = 16;

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

export function nodeWidth(label: string): number {
  return Math.min(Math.max(label.length * 7.5 + 40, 140), 280);
}

export function layoutGraph(graph: WorkflowGraph, collapsed: ReadonlySet<string> = new Set()): GraphLayout {
  const members = new Map<string | null, GraphNode[]>();
  for (const node of graph.nodes) {
    const list = members.get(node.container) ?? [];
    list.push(node);
    members.set(node.container, list);
  }
  const isOpenGroup = (id: string) => !collapsed.has(id) && (members.get(id)?.length ?? 0) > 0;
  const placed = new Map<string, LaidOutNode>();

  /** Lays out the members of `containerId` and returns the size of the content. */
  const layoutMembers = (containerId: string | null): { width: number; height: number } => {
    const own = members.get(containerId) ?? [];
    const g = new dagre.graphlib.Graph({ multigraph: false });
    g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 48, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    const sizes = new Map<string, { width: number; height: number }>();
    for (const node of own) {
      let size = { width: nodeWidth(node.label), height: NODE_HEIGHT };
      if (isOpenGroup(node.id)) {
        const inner = layoutMembers(node.id);
        size = {
          width: Math.max(inner.width + 2 * GROUP_PADDING, nodeWidth(node.label) + 40),
          height: inner.height + GROUP_HEADER + 2 * GROUP_PADDING,
        };
      }
      sizes.set(node.id, size);
      g.setNode(node.id, { ...size });
    }
    for (const edge of graph.edges) {
      const tail = memberAncestor(graph, edge.source, containerId);
      const head = memberAncestor(graph, edge.target, containerId);
      if (tail && head && tail !== head) g.setEdge(tail, head);
    }
    dagre.layout(g);
    const inset =
      containerId === null ? { x: 0, y: 0 } : { x: GROUP_PADDING, y: GROUP_HEADER + GROUP_PADDING };
    for (const node of own) {
      const size = sizes.get(node.id)!;
      const centre = g.node(node.id) as { x: number; y: number };
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
    const box = g.graph() as { width?: number; height?: number };
    return { width: box.width ?? 0, height: box.height ?? 0 };
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
