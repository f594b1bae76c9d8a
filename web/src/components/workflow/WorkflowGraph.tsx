// The workflow graph (React Flow): RunConcurrent groups and Subflows drawn as boxes around their
// members, executed nodes marked, the node of the current state step outlined. Clicking a node
// (or pressing Enter on it) selects the span that executed it. The layout direction and the edge
// labels can be switched; both choices are remembered in this browser.
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeHandle,
  type NodeProps,
  Panel,
  Position,
  ReactFlow,
  useReactFlow,
  useStore,
  useStoreApi,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { WorkflowGraph as Graph, GraphNode } from '../../lib/graph.ts';
import { layoutGraph } from '../../lib/graph_layout.ts';
import {
  edgeLabelsShown,
  type LayoutDirection,
  storeDirection,
  storedDirection,
  storeEdgeLabels,
} from '../../lib/graph_prefs.ts';
import type { NodeExecutions } from '../../lib/workflow_run.ts';

interface NodeData extends Record<string, unknown> {
  node: GraphNode;
  executions: NodeExecutions | undefined;
  collapsible: boolean;
  collapsed: boolean;
  direction: LayoutDirection;
  /** ran in some of the compared runs and not in others */
  differs: boolean;
}

/** Where edges enter and leave a box: ranks run down, or to the right. */
const sides = {
  TB: { target: Position.Top, source: Position.Bottom },
  LR: { target: Position.Left, source: Position.Right },
} as const;

// The collapse handler reaches the node components through context: node data stays plain.
const ToggleSubflow = createContext<(nodeId: string) => void>(() => {});

const kindLabel = { node: '', concurrent: 'RunConcurrent', subflow: 'Subflow' } as const;

function statusClass(data: NodeData): string {
  const run = data.executions;
  const status = run ? (run.failed ? 'ran failed' : 'ran') : 'not-run';
  return data.differs ? `${status} differs` : status;
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
      <Handle type="target" position={sides[data.direction].target} isConnectable={false} />
      <button
        type="button"
        className="gnode-body nodrag"
        title={`${data.node.type || data.node.label} — ${data.executions ? 'executed' : 'not executed'}${data.differs ? ' (differs between the compared runs)' : ''}`}
      >
        {data.node.kind !== 'node' && <span className="gnode-kind">{kindLabel[data.node.kind]}</span>}
        <span className="gnode-label">{data.node.label}</span>
        <RunBadge data={data} />
      </button>
      <CollapseButton data={data} />
      <Handle type="source" position={sides[data.direction].source} isConnectable={false} />
    </div>
  );
}

function ContainerNode({ data }: NodeProps<Node<NodeData, 'container'>>) {
  return (
    <div className={`gcontainer kind-${data.node.kind} ${statusClass(data)}`}>
      <Handle type="target" position={sides[data.direction].target} isConnectable={false} />
      <div className="gcontainer-head">
        <button type="button" className="gnode-body nodrag">
          <span className="gnode-kind">{kindLabel[data.node.kind]}</span>
          <span className="gnode-label">{data.node.label}</span>
          <RunBadge data={data} />
        </button>
        <CollapseButton data={data} />
      </div>
      <Handle type="source" position={sides[data.direction].source} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode, container: ContainerNode };

/** The rendered size of a Handle (React Flow's 6 px dot with its 1 px border). */
const HANDLE_SIZE = 8;

/**
 * Where the one target and one source Handle of every node sit (relative to the node's top left),
 * as React Flow would measure them: centred on the middle of the entry and exit sides.
 */
function handlesOf(width: number, height: number, direction: LayoutDirection): NodeHandle[] {
  const half = HANDLE_SIZE / 2;
  const size = { width: HANDLE_SIZE, height: HANDLE_SIZE };
  const { target, source } = sides[direction];
  return direction === 'TB'
    ? [
        { type: 'target', position: target, x: width / 2 - half, y: -half, ...size },
        { type: 'source', position: source, x: width / 2 - half, y: height - half, ...size },
      ]
    : [
        { type: 'target', position: target, x: -half, y: height / 2 - half, ...size },
        { type: 'source', position: source, x: width - half, y: height / 2 - half, ...size },
      ];
}

export function WorkflowGraph(props: {
  graph: Graph;
  executions: Map<string, NodeExecutions>;
  currentNodeId: string | null;
  selectedNodeId: string | null;
  onSelectNode(nodeId: string): void;
  /** Run comparison: nodes that ran in some of the compared runs and not in others. */
  differing?: ReadonlySet<string>;
}) {
  const { graph, executions, currentNodeId, selectedNodeId, onSelectNode, differing } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [direction, setDirection] = useState(() => storedDirection(localStorage));
  const [labels, setLabels] = useState(() => edgeLabelsShown(localStorage, graph.nodes.length));
  const layout = useMemo(() => layoutGraph(graph, collapsed, direction), [graph, collapsed, direction]);

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
          width: placed.width,
          height: placed.height,
          // Sizes and handle places known up front: React Flow then neither observes nor measures
          // each node (a forced layout per node) before it draws the edges.
          measured: { width: placed.width, height: placed.height },
          handles: handlesOf(placed.width, placed.height, direction),
          draggable: false,
          selectable: false,
          focusable: false,
          data: {
            node: placed.node,
            executions: executions.get(placed.node.id),
            collapsible: placed.node.kind === 'subflow' && hasMembers,
            collapsed: collapsed.has(placed.node.id),
            direction,
            differs: differing?.has(placed.node.id) ?? false,
          },
        };
      }),
    [layout, containers, executions, collapsed, direction, differing],
  );

  const edges = useMemo<Edge[]>(
    () =>
      layout.edges.map((edge) => {
        const ran = executions.has(edge.from) && executions.has(edge.to);
        return {
          id: edge.id,
          source: edge.from,
          target: edge.to,
          ...(edge.condition && labels ? { label: edge.condition } : {}),
          className: ran ? 'gedge ran' : 'gedge',
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          focusable: false,
        };
      }),
    [layout, executions, labels],
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

  // Canvas rectangles of the nodes (layout positions are relative to the containing box).
  const rects = useMemo(() => {
    const map = new Map<string, Rect>();
    for (const placed of layout.nodes) {
      const parent = placed.parentId ? map.get(placed.parentId) : undefined;
      map.set(placed.node.id, {
        x: (parent?.x ?? 0) + placed.x,
        y: (parent?.y ?? 0) + placed.y,
        width: placed.width,
        height: placed.height,
      });
    }
    return map;
  }, [layout]);

  // A graph that fits the pane at a legible zoom opens whole (a chain of a dozen nodes does); a
  // larger one opens at the node of the current step and follows the steps.
  const paneRef = useRef<HTMLDivElement>(null);
  const [pane, setPane] = useState<{ width: number; height: number } | null>(null);
  useLayoutEffect(() => {
    const element = paneRef.current;
    if (element) setPane({ width: element.clientWidth, height: element.clientHeight });
  }, []);
  const fits =
    pane !== null && Math.min(pane.width / layout.width, pane.height / layout.height) >= MIN_FIT_ZOOM;
  const focusId = currentNodeId ?? layout.nodes[0]?.node.id;
  const focus = focusId ? rects.get(focusId) : undefined;

  return (
    <div ref={paneRef} className="graph-canvas">
      {pane && (
        <ToggleSubflow.Provider value={toggle}>
          <ReactFlow
            // a new direction is a new drawing: start over, fitted like a run that just opened
            key={direction}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodeClick={onNodeClick}
            fitView={fits}
            fitViewOptions={{ padding: 0.12, maxZoom: 1.2 }}
            defaultViewport={{ x: 0, y: 0, zoom: 0.9 }}
            onlyRenderVisibleElements
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
            <Panel position="top-right" className="graph-options">
              <button
                type="button"
                className="small"
                aria-pressed={direction === 'LR'}
                title="Lay the graph out left to right instead of top down"
                onClick={() => {
                  const next = direction === 'LR' ? 'TB' : 'LR';
                  storeDirection(localStorage, next);
                  setDirection(next);
                }}
              >
                Left to right
              </button>
              <button
                type="button"
                className="small"
                aria-pressed={labels}
                title="Show the conditions on the edges"
                onClick={() => {
                  storeEdgeLabels(localStorage, !labels);
                  setLabels(!labels);
                }}
              >
                Edge labels
              </button>
            </Panel>
            <KeepInView rect={focus} />
            <Marks current={currentNodeId} selected={selectedNodeId} />
          </ReactFlow>
        </ToggleSubflow.Provider>
      )}
    </div>
  );
}

/**
 * Outlines the node of the current step and the selected node with a style rule instead of node
 * data: stepping then leaves React Flow's nodes untouched (it re-processes every node on any change).
 */
function Marks({ current, selected }: { current: string | null; selected: string | null }) {
  const node = (id: string) => `.react-flow__node[data-id="${CSS.escape(id)}"] > :is(.gnode, .gcontainer)`;
  const rules = [
    current ? `${node(current)} { box-shadow: 0 0 0 3px var(--bg-elev), 0 0 0 5px var(--accent); }` : '',
    selected ? `${node(selected)} { outline: 2px dashed var(--accent); outline-offset: 4px; }` : '',
  ];
  return <style>{rules.join('\n')}</style>;
}

/** The smallest zoom at which a whole graph is still shown at once. */
const MIN_FIT_ZOOM = 0.3;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pans (keeping the zoom) so that `rect` is on screen whenever it is not. */
function KeepInView({ rect }: { rect: Rect | undefined }) {
  const { setCenter } = useReactFlow();
  const store = useStoreApi();
  const measured = useStore((state) => state.width > 0 && state.height > 0);
  const first = useRef(true);
  useEffect(() => {
    if (!rect || !measured) return;
    const { transform, width, height } = store.getState();
    const [tx, ty, zoom] = transform;
    const left = rect.x * zoom + tx;
    const top = rect.y * zoom + ty;
    const visible =
      left >= 0 && top >= 0 && left + rect.width * zoom <= width && top + rect.height * zoom <= height;
    if (!visible) {
      void setCenter(rect.x + rect.width / 2, rect.y + rect.height / 2, {
        zoom,
        duration: first.current ? 0 : 200,
      });
    }
    first.current = false;
  }, [rect, measured, setCenter, store]);
  return null;
}
