import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseGraph, type WorkflowGraph } from './graph.ts';
import { LARGE_GRAPH, layeredPlacement, layoutGraph } from './graph_layout.ts';

// telemetry.md §11, plus a subflow with two inner nodes.
const v1 = {
  v: 1,
  nodes: [
    { id: 'inc', type: 'IncrementNode', label: 'IncrementNode' },
    {
      id: 'rc',
      type: 'RunConcurrent',
      label: 'Concurrent Execution',
      isSubgraph: true,
      children: ['add', 'evn'],
    },
    { id: 'add', type: 'AddTenNode', label: 'AddTenNode' },
    { id: 'evn', type: 'EvenPathNode', label: 'EvenPathNode' },
    {
      id: 'sf',
      type: 'SummarySubflow',
      label: 'Summary',
      isSubflow: true,
      subflowSourceId: 's1',
      subflowSinkId: 's2',
    },
    { id: 's1', type: 'Draft', label: 'Draft' },
    { id: 's2', type: 'Polish', label: 'Polish' },
  ],
  edges: [
    { id: 'edge_inc_rc_0', source: 'inc', target: 'rc', condition: null, type: 'explicit', subflowId: null },
    {
      id: 'edge_rc_sf_1',
      source: 'rc',
      target: 'sf',
      condition: 'IsEven',
      type: 'explicit',
      subflowId: null,
    },
    {
      id: 'subflow_sf_edge_s1_s2',
      source: 's1',
      target: 's2',
      condition: null,
      type: 'subflow',
      subflowId: 'sf',
    },
  ],
};

// The same workflow in the contract-2 snapshot shape (telemetry.md §8).
const v2 = {
  v: 2,
  graphStructuralId: 'graph-1',
  nodes: [
    { nodeRuntimeId: 'inc', nodeStructuralId: 'n1', nodeType: 'IncrementNode', nodeLabel: 'IncrementNode' },
    {
      nodeRuntimeId: 'rc',
      nodeStructuralId: 'n2',
      nodeType: 'RunConcurrent',
      nodeLabel: 'Concurrent Execution',
      isConcurrentSubgraph: true,
      childNodeRuntimeIds: ['add', 'evn'],
    },
    { nodeRuntimeId: 'add', nodeStructuralId: 'n3', nodeType: 'AddTenNode', nodeLabel: 'AddTenNode' },
    { nodeRuntimeId: 'evn', nodeStructuralId: 'n4', nodeType: 'EvenPathNode', nodeLabel: 'EvenPathNode' },
    {
      nodeRuntimeId: 'sf',
      nodeStructuralId: 'n5',
      nodeType: 'SummarySubflow',
      nodeLabel: 'Summary',
      isSubflow: true,
      subflowGraphStructuralId: 'graph-2',
      subflowSourceNodeRuntimeId: 's1',
      subflowSourceNodeStructuralId: 'n6',
      subflowSinkNodeRuntimeIds: ['s2'],
      subflowSinkNodeStructuralIds: ['n7'],
    },
    { nodeRuntimeId: 's1', nodeStructuralId: 'n6', nodeType: 'Draft', nodeLabel: 'Draft' },
    { nodeRuntimeId: 's2', nodeStructuralId: 'n7', nodeType: 'Polish', nodeLabel: 'Polish' },
  ],
  edges: [
    edge2('inc', 'rc', null, 'explicit', null),
    edge2('rc', 'sf', 'IsEven', 'explicit', null),
    edge2('s1', 's2', null, 'subflow', 'sf'),
  ],
};

function edge2(tail: string, head: string, condition: string | null, scope: string, subflow: string | null) {
  return {
    edgeStructuralId: `e-${tail}-${head}`,
    tailNodeRuntimeId: tail,
    tailNodeStructuralId: `s-${tail}`,
    headNodeRuntimeId: head,
    headNodeStructuralId: `s-${head}`,
    edgeConditionLabel: condition,
    edgeScope: scope,
    parentSubflowRuntimeId: subflow,
  };
}

function graphOf(raw: unknown): WorkflowGraph {
  const result = normaliseGraph(raw);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.graph;
}

/** Container chain of a node, innermost first. */
function containersOf(graph: WorkflowGraph, nodeId: string): string[] {
  const chain: string[] = [];
  for (let c = graph.byId.get(nodeId)?.container; c; c = graph.byId.get(c)?.container) chain.push(c);
  return chain;
}

/** The parts of the model that must not depend on the wire version. */
function shape(graph: WorkflowGraph) {
  return {
    nodes: graph.nodes.map((n) => [
      n.id,
      n.label,
      n.type,
      n.kind,
      n.container,
      n.members,
      n.subflowSource,
      n.subflowSinks,
    ]),
    edges: graph.edges.map((e) => [e.source, e.target, e.condition, e.scope, e.subflowId]),
  };
}

test('v1 and v2 normalise to the same model', () => {
  const one = graphOf(v1);
  const two = graphOf(v2);
  assert.equal(one.version, 1);
  assert.equal(two.version, 2);
  assert.deepEqual(shape(one), shape(two));
});

test('RunConcurrent members and subflow inner nodes are placed in their container', () => {
  const graph = graphOf(v1);
  const containerOf = Object.fromEntries(graph.nodes.map((n) => [n.id, n.container]));
  assert.deepEqual(containerOf, { inc: null, rc: null, add: 'rc', evn: 'rc', sf: null, s1: 'sf', s2: 'sf' });
  assert.equal(graph.byId.get('rc')!.kind, 'concurrent');
  assert.equal(graph.byId.get('sf')!.kind, 'subflow');
  assert.equal(graph.edges[1]!.condition, 'IsEven');
});

test('the graph may arrive as the JSON string the SDK sent', () => {
  assert.deepEqual(shape(graphOf(JSON.stringify(v1, null, 2))), shape(graphOf(v1)));
});

test('serialisation failures, empty and malformed graphs give a reason instead of throwing', () => {
  const failed = normaliseGraph({ error: 'Failed to serialize graph', detail: 'boom' });
  assert.equal(failed.ok, false);
  assert.match(failed.ok ? '' : failed.reason, /Failed to serialize graph: boom/);
  assert.equal(normaliseGraph({}).ok, false);
  assert.equal(normaliseGraph('{not json').ok, false);
  assert.equal(normaliseGraph(null).ok, false);
});

test('edges to unknown nodes are dropped and containment cycles are cut', () => {
  const graph = graphOf({
    v: 1,
    nodes: [
      { id: 'a', type: 'RunConcurrent', label: 'A', isSubgraph: true, children: ['b'] },
      { id: 'b', type: 'RunConcurrent', label: 'B', isSubgraph: true, children: ['a'] },
    ],
    edges: [{ source: 'a', target: 'ghost', type: 'explicit' }],
  });
  assert.equal(graph.edges.length, 0);
  for (const node of graph.nodes) assert.ok(containersOf(graph, node.id).length < 2);
});

test('nested subflows: a subflow inside a subflow keeps its own inner nodes', () => {
  const graph = graphOf({
    v: 1,
    nodes: [
      {
        id: 'outer',
        type: 'Outer',
        label: 'Outer',
        isSubflow: true,
        subflowSourceId: 'inner',
        subflowSinkId: 'o2',
      },
      {
        id: 'inner',
        type: 'Inner',
        label: 'Inner',
        isSubflow: true,
        subflowSourceId: 'i1',
        subflowSinkId: 'i1',
      },
      { id: 'i1', type: 'Leaf', label: 'Leaf' },
      { id: 'o2', type: 'After', label: 'After' },
    ],
    edges: [{ source: 'inner', target: 'o2', type: 'subflow', subflowId: 'outer' }],
  });
  assert.deepEqual(containersOf(graph, 'i1'), ['inner', 'outer']);
});

test('layout: parents precede children, members sit inside their container, collapsed hides them', () => {
  const graph = graphOf(v1);
  const layout = layoutGraph(graph);
  const order = layout.nodes.map((n) => n.node.id);
  for (const n of layout.nodes) {
    if (!n.parentId) continue;
    assert.ok(order.indexOf(n.parentId) < order.indexOf(n.node.id), `${n.parentId} before ${n.node.id}`);
    const parent = layout.nodes.find((p) => p.node.id === n.parentId)!;
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= parent.width && n.y + n.height <= parent.height);
  }
  const add = layout.nodes.find((n) => n.node.id === 'add')!;
  const evn = layout.nodes.find((n) => n.node.id === 'evn')!;
  assert.equal(add.y, evn.y, 'concurrent branches sit side by side');
  assert.ok(layout.nodes.find((n) => n.node.id === 'rc')!.isGroup);

  const collapsed = layoutGraph(graph, new Set(['sf']));
  assert.ok(!collapsed.nodes.some((n) => n.node.id === 's1'));
  assert.ok(!collapsed.nodes.find((n) => n.node.id === 'sf')!.isGroup);
  assert.deepEqual(
    collapsed.edges.map((e) => [e.from, e.to]),
    [
      ['inc', 'rc'],
      ['rc', 'sf'],
    ],
  );
});

test('large graphs use the linear layered layout: ranks follow edges, loops are cut, boxes never overlap', () => {
  const count = LARGE_GRAPH * 4;
  const nodes = Array.from({ length: count }, (_, i) => ({ id: `n${i}`, type: 'Step', label: `Step ${i}` }));
  const edges = nodes.slice(1).map((n, i) => ({ source: `n${i}`, target: n.id, type: 'explicit' }));
  // a loop back to the start and a branch joining later
  edges.push({ source: `n${count - 1}`, target: 'n0', type: 'explicit' });
  edges.push({ source: 'n3', target: 'n10', type: 'explicit' });
  const graph = graphOf({ v: 1, nodes, edges });
  const started = performance.now();
  const layout = layoutGraph(graph);
  assert.ok(performance.now() - started < 500, 'linear time (dagre needs about a second here)');
  const y = new Map(layout.nodes.map((n) => [n.node.id, n.y]));
  for (let i = 1; i < count; i++) assert.ok(y.get(`n${i}`)! > y.get(`n${i - 1}`)!, `n${i} below n${i - 1}`);
  const boxes = layout.nodes.map((n) => ({ ...n }));
  for (const a of boxes) {
    for (const b of boxes) {
      if (a === b) continue;
      const apart =
        a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart, `${a.node.id} and ${b.node.id} overlap`);
    }
  }
  assert.ok(layout.width > 0 && layout.height > 0);
});

test('layered placement puts siblings of one rank side by side, centred under their parent', () => {
  const sizes = new Map(['root', 'a', 'b'].map((id) => [id, { width: 100, height: 40 }]));
  const { centres, size } = layeredPlacement(sizes, [
    ['root', 'a'],
    ['root', 'b'],
  ]);
  assert.equal(centres.get('a')!.y, centres.get('b')!.y);
  assert.ok(centres.get('a')!.y > centres.get('root')!.y);
  assert.equal(centres.get('root')!.x, (centres.get('a')!.x + centres.get('b')!.x) / 2);
  assert.deepEqual(size, { width: 228, height: 128 });
});

test('left-to-right layout: ranks run along x, concurrent branches stack, members stay inside', () => {
  const layout = layoutGraph(graphOf(v1), new Set(), 'LR');
  const at = (id: string) => layout.nodes.find((n) => n.node.id === id)!;
  assert.ok(at('rc').x > at('inc').x + at('inc').width, 'the group comes right of the node before it');
  assert.ok(at('sf').x > at('rc').x + at('rc').width);
  assert.equal(at('add').x, at('evn').x, 'concurrent branches sit one above the other');
  assert.notEqual(at('add').y, at('evn').y);
  for (const n of layout.nodes.filter((n) => n.parentId)) {
    const parent = at(n.parentId!);
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= parent.width && n.y + n.height <= parent.height);
  }
  assert.ok(layout.width > layout.height, 'a chain is wider than tall');
});

test('layered placement left to right is the top-down placement turned', () => {
  const sizes = new Map(['root', 'a', 'b'].map((id) => [id, { width: 100, height: 40 }]));
  const links: Array<[string, string]> = [
    ['root', 'a'],
    ['root', 'b'],
  ];
  const { centres, size } = layeredPlacement(sizes, links, 'LR');
  assert.equal(centres.get('a')!.x, centres.get('b')!.x);
  assert.ok(centres.get('a')!.x > centres.get('root')!.x);
  assert.equal(centres.get('root')!.y, (centres.get('a')!.y + centres.get('b')!.y) / 2);
  assert.deepEqual(size, { width: 248, height: 108 });
});
