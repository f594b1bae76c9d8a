// The workflow graph (React Flow): RunConcurrent groups and Subflows drawn as boxes around their
// members, executed nodes marked, the node of the current state step outlined. Clicking a node
// (or pressing Enter on it) selects the span that executed it.
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import type { WorkflowGraph as Graph, GraphNode } from '../../lib/graph.ts';
import { layoutGraph } from '../../lib/graph_layout.ts';
import type { NodeExecutions } from '../../lib/workflow_run.ts';

interface NodeData extends Record<string, unknown> {
  node: GraphNode;
  executions: NodeExecutions | undefined;
  current: boolean;
  selected: boolean;
  collapsible: boolean;
  collapsed: boolean;
}

// The collapse handler reaches the node components through context: node data stays plain.
const ToggleSubflow = createContext<(nodeId: string) => void>(() => {});

const kindLabel = { node: '', concurrent: 'RunConcurrent', subflow: 'Subflow' } as const;

function statusClass(data: NodeData): string {
  const run = data.executions;
  return [
    run ? (run.failed ? 'ran failed' : 'ran') : 'not-run',
    data.current ? 'current' : '',
    data.selected ? 'selected' : '',
  ].join(' ');
}

function RunBadge({ data }: { data: NodeData }) {
  const count = data.executions?.spans.length ?? 0;
  if (count === 0) return null;
  return (
    <span className="gnode-runs" title={`executed ${count}×`}>
      {data.executions?.failed ? '✕' : '✓'}
      {count > 1 ? ` ${count}×` : ''}
    </span>
  );
}

function CollapseButton({ data }: { data: NodeData }) {
  const toggle = useContext(ToggleSubflow);
  if (!data.collapsible) return null;
  return (
    <button
      type="button"
      className="gnode-collapse nodrag"
      aria-label={`${data.collapsed ? 'Expand' : 'Collapse'} ${data.node.label}`}
      aria-expanded={!data.collapsed}
      onClick={(event) => {
        event.stopPropagation();
        toggle(data.node.id);
      }}
    >
      {data.collapsed ? '⊕' : '⊖'}
    </button>
  );
}

// The body is a button so a node can be reached with Tab and pressed with Enter; its click (mouse
// or keyboard) bubbles to React Flow's node wrapper, which reports it through onNodeClick.
function StepNode({ data }: NodeProps<Node<NodeData, 'step'>>) {
  return (
    <div className={`gnode kind-${data.node.kind} ${statusClass(data)}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <button
        type="button"
        className="gnode-body nodrag"
        aria-pressed={data.selected}
        title={`${data.node.type || data.node.label} — ${data.executions ? 'executed' : 'not executed'}`}
      >
        {data.node.kind !== 'node' && <span className="gnode-kind">{kindLabel[data.node.kind]}</span>}
        <span className="gnode-label">{data.node.label}</span>
        <RunBadge data={data} />
      </button>
      <CollapseButton data={data} />
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

function ContainerNode({ data }: NodeProps<Node<NodeData, 'container'>>) {
  return (
    <div className={`gcontainer kind-${data.node.kind} ${statusClass(data)}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="gcontainer-head">
        <button type="button" className="gnode-body nodrag" aria-pressed={data.selected}>
          <span className="gnode-kind">{kindLabel[data.node.kind]}</span>
          <span className="gnode-label">{data.node.label}</span>
          <RunBadge data={data} />
        </button>
        <CollapseButton data={data} />
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode, container: ContainerNode };

export function WorkflowGraph(props: {
  graph: Graph;
  executions: Map<string, NodeExecutions>;
  currentNodeId: string | null;
  selectedNodeId: string | null;
  onSelectNode(nodeId: string): void;
}) {
  const { graph, executions, currentNodeId, selectedNodeId, onSelectNode } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const layout = useMemo(() => layoutGraph(graph, collapsed), [graph, collapsed]);

  const containers = useMemo(() => new Set(graph.nodes.map((n) => n.container)), [graph]);
  const nodes = useMemo<Node<NodeData>[]>(
    () =>
      layout.nodes.map((placed) => {
        const hasMembers = containers.has(placed.node.id);
        return {
          id: placed.node.id,
          type: placed.isGroup ? 'container' : 'step',
          position: { x: placed.x, y: placed.y },
          ...(placed.parentId ? { parentId: placed.parentId } : {}),
          style: { width: placed.width, height: placed.height },
          draggable: false,
          selectable: false,
          focusable: false,
          data: {
            node: placed.node,
            executions: executions.get(placed.node.id),
            current: placed.node.id === currentNodeId,
            selected: placed.node.id === selectedNodeId,
            collapsible: placed.node.kind === 'subflow' && hasMembers,
            collapsed: collapsed.has(placed.node.id),
          },
        };
      }),
    [layout, containers, executions, currentNodeId, selectedNodeId, collapsed],
  );

  const edges = useMemo<Edge[]>(
    () =>
      layout.edges.map((edge) => {
        const ran = executions.has(edge.from) && executions.has(edge.to);
        return {
          id: edge.id,
          source: edge.from,
          target: edge.to,
          ...(edge.condition ? { label: edge.condition } : {}),
          className: ran ? 'gedge ran' : 'gedge',
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          focusable: false,
        };
      }),
    [layout, executions],
  );

  const toggle = useCallback(
    (id: string) =>
      setCollapsed((current) => {
        const next = new Set(current);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const onNodeClick = useCallback((_event: unknown, node: Node) => onSelectNode(node.id), [onSelectNode]);

  return (
    <ToggleSubflow.Provider value={toggle}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={onNodeClick}
        fitView
        fitViewOptions={{ padding: 0.12, maxZoom: 1.2 }}
        minZoom={0.1}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        disableKeyboardA11y
        aria-label="Workflow graph"
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </ToggleSubflow.Provider>
  );
}
