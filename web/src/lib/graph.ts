// One graph model for both shapes the Junjo SDK sends as the workflow's graph structure:
// legacy `"v": 1` (junjo.workflow.graph_structure) and contract-2 `"v": 2`
// (junjo.workflow.execution_graph_snapshot). See telemetry.md §4 and §8.

export type GraphNodeKind = 'node' | 'concurrent' | 'subflow';

export interface GraphNode {
  /** v1 `id` / v2 `nodeRuntimeId`: equals the `junjo_id` of the span that executed the node. */
  id: string;
  label: string;
  type: string;
  kind: GraphNodeKind;
  /** RunConcurrent members (v1 `children`, v2 `childNodeRuntimeIds`). */
  members: string[];
  /** Subflow entry and exits. */
  subflowSource: string | null;
  subflowSinks: string[];
  /** The RunConcurrent or Subflow that contains this node; null for the top-level graph. */
  container: string | null;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  condition: string | null;
  scope: 'explicit' | 'subflow';
  /** the Subflow whose inner graph this edge belongs to */
  subflowId: string | null;
}

export interface WorkflowGraph {
  version: 1 | 2;
  nodes: GraphNode[];
  edges: GraphEdge[];
  byId: Map<string, GraphNode>;
}

export type GraphResult = { ok: true; graph: WorkflowGraph } | { ok: false; reason: string };

type Json = Record<string, unknown>;

/** Accepts the parsed graph JSON (or the string carrying it) from a workflow or subflow span. */
export function normaliseGraph(raw: unknown): GraphResult {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, reason: 'The graph structure is not valid JSON.' };
    }
  }
  if (!isObject(value)) return { ok: false, reason: 'This span carries no graph structure.' };
  if (typeof value.error === 'string') {
    const detail = typeof value.detail === 'string' ? `: ${value.detail}` : '';
    return { ok: false, reason: `The SDK could not serialise the graph (${value.error}${detail}).` };
  }
  if (!Array.isArray(value.nodes) || !Array.isArray(value.edges)) {
    return { ok: false, reason: 'This span carries no graph structure.' };
  }
  const version = value.v === 2 || looksLikeV2(value.nodes) ? 2 : 1;
  const nodes = value.nodes.filter(isObject).map(version === 2 ? nodeFromV2 : nodeFromV1);
  const byId = new Map<string, GraphNode>();
  for (const node of nodes) if (node.id && !byId.has(node.id)) byId.set(node.id, node);
  const edges = value.edges
    .filter(isObject)
    .map(version === 2 ? edgeFromV2 : edgeFromV1)
    .filter((edge) => byId.has(edge.source) && byId.has(edge.target));
  assignContainers(byId, edges);
  return { ok: true, graph: { version, nodes: [...byId.values()], edges, byId } };
}

function looksLikeV2(nodes: unknown[]): boolean {
  const first = nodes[0];
  return isObject(first) && typeof first.nodeRuntimeId === 'string';
}

function nodeFromV1(n: Json): GraphNode {
  const isConcurrent = n.isSubgraph === true;
  const isSubflow = n.isSubflow === true;
  return {
    id: str(n.id),
    label: str(n.label) || str(n.type) || str(n.id),
    type: str(n.type),
    kind: isSubflow ? 'subflow' : isConcurrent ? 'concurrent' : 'node',
    members: isConcurrent ? strings(n.children) : [],
    subflowSource: isSubflow ? str(n.subflowSourceId) || null : null,
    subflowSinks: isSubflow && typeof n.subflowSinkId === 'string' ? [n.subflowSinkId] : [],
    container: null,
  };
}

function nodeFromV2(n: Json): GraphNode {
  const isConcurrent = n.isConcurrentSubgraph === true;
  const isSubflow = n.isSubflow === true;
  return {
    id: str(n.nodeRuntimeId),
    label: str(n.nodeLabel) || str(n.nodeType) || str(n.nodeRuntimeId),
    type: str(n.nodeType),
    kind: isSubflow ? 'subflow' : isConcurrent ? 'concurrent' : 'node',
    members: isConcurrent ? strings(n.childNodeRuntimeIds) : [],
    subflowSource: isSubflow ? str(n.subflowSourceNodeRuntimeId) || null : null,
    subflowSinks: isSubflow ? strings(n.subflowSinkNodeRuntimeIds) : [],
    container: null,
  };
}

function edgeFromV1(e: Json, index: number): GraphEdge {
  const source = str(e.source);
  const target = str(e.target);
  return {
    id: str(e.id) || `edge_${source}_${target}_${index}`,
    source,
    target,
    condition: str(e.condition) || null,
    scope: e.type === 'subflow' ? 'subflow' : 'explicit',
    subflowId: str(e.subflowId) || null,
  };
}

function edgeFromV2(e: Json, index: number): GraphEdge {
  const source = str(e.tailNodeRuntimeId);
  const target = str(e.headNodeRuntimeId);
  return {
    id: `${str(e.edgeStructuralId) || 'edge'}_${source}_${target}_${index}`,
    source,
    target,
    condition: str(e.edgeConditionLabel) || null,
    scope: e.edgeScope === 'subflow' ? 'subflow' : 'explicit',
    subflowId: str(e.parentSubflowRuntimeId) || null,
  };
}

/**
 * A node belongs to the RunConcurrent that lists it as a member, else to the Subflow whose inner
 * edges (or entry/exit) mention it, else to the top-level graph. Containment cycles in malformed
 * input are cut so that every node still has a finite chain of containers.
 */
function assignContainers(byId: Map<string, GraphNode>, edges: GraphEdge[]): void {
  const claim = (nodeId: string, container: string) => {
    const node = byId.get(nodeId);
    if (node && node.container === null && nodeId !== container && byId.has(container)) {
      node.container = container;
    }
  };
  for (const node of byId.values()) {
    for (const member of node.members) claim(member, node.id);
  }
  for (const edge of edges) {
    if (edge.scope !== 'subflow' || !edge.subflowId) continue;
    claim(edge.source, edge.subflowId);
    claim(edge.target, edge.subflowId);
  }
  for (const node of byId.values()) {
    if (node.kind !== 'subflow') continue;
    if (node.subflowSource) claim(node.subflowSource, node.id);
    for (const sink of node.subflowSinks) claim(sink, node.id);
  }
  for (const node of byId.values()) {
    const seen = new Set<string>([node.id]);
    for (let cursor = node; cursor.container; ) {
      if (seen.has(cursor.container)) {
        cursor.container = null;
        break;
      }
      seen.add(cursor.container);
      cursor = byId.get(cursor.container)!;
    }
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
