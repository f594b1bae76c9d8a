// The trace timeline: one row per visible span, bars to scale, collapsible tree. Only the rows in
// view are in the DOM (@tanstack/react-virtual), so 10,000-span traces scroll smoothly.
// Keyboard (when the list has focus): ↑/↓ move, ←/→ collapse/expand, Home/End jump.
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, memo, useEffect, useMemo, useRef, useState } from 'react';
import type { WaterfallSpan } from '../api/types.ts';
import {
  ancestorIds,
  type SpanTree as Tree,
  type SpanNode as TreeNode,
  visibleRows,
} from '../lib/span_tree.ts';

type SpanNode = TreeNode<WaterfallSpan>;
type SpanTree = Tree<WaterfallSpan>;

import { formatDuration } from '../lib/time.ts';
import { barGeometry, timeTicks } from '../lib/waterfall.ts';

const ROW_HEIGHT = 28;
const INDENT = 14;
const MAX_INDENT_LEVELS = 40;

export function Waterfall(props: { tree: SpanTree; selectedId: string | null; onSelect(id: string): void }) {
  const { tree, selectedId, onSelect } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const rows = useMemo(() => visibleRows(tree, collapsed), [tree, collapsed]);
  const indexById = useMemo(() => new Map(rows.map((row, i) => [row.id, i])), [rows]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const ticks = useMemo(() => timeTicks(tree.end - tree.start), [tree]);

  // A newly selected span hidden inside a collapsed branch (deep link, "next error") is revealed.
  useEffect(() => {
    const node = selectedId ? tree.byId.get(selectedId) : undefined;
    if (!node) return;
    const ancestors = new Set(ancestorIds(node));
    setCollapsed((current) =>
      [...ancestors].some((id) => current.has(id))
        ? new Set([...current].filter((id) => !ancestors.has(id)))
        : current,
    );
  }, [selectedId, tree]);

  const selectedIndex = selectedId ? indexById.get(selectedId) : undefined;
  useEffect(() => {
    if (selectedIndex !== undefined) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  const toggle = (node: SpanNode, open?: boolean) => {
    if (node.children.length === 0) return;
    setCollapsed((current) => {
      const isOpen = !current.has(node.id);
      if (open === isOpen) return current;
      const next = new Set(current);
      if (isOpen) next.add(node.id);
      else next.delete(node.id);
      return next;
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (rows.length === 0) return;
    const index = selectedIndex ?? -1;
    const node = index >= 0 ? rows[index] : undefined;
    const select = (i: number) => onSelect(rows[Math.min(Math.max(i, 0), rows.length - 1)]!.id);
    switch (event.key) {
      case 'ArrowDown':
        select(index + 1);
        break;
      case 'ArrowUp':
        select(index - 1);
        break;
      case 'Home':
        select(0);
        break;
      case 'End':
        select(rows.length - 1);
        break;
      case 'ArrowRight':
        if (!node) select(0);
        else if (node.children.length > 0 && collapsed.has(node.id)) toggle(node, true);
        else if (node.children[0]) onSelect(node.children[0].id);
        break;
      case 'ArrowLeft':
        if (node && node.children.length > 0 && !collapsed.has(node.id)) toggle(node, false);
        else if (node?.parent) onSelect(node.parent.id);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const expandAll = () => setCollapsed(new Set());
  // Keeps the roots and their children in view; everything deeper folds away.
  const collapseAll = () =>
    setCollapsed(
      new Set([...tree.byId.values()].filter((n) => n.depth >= 1 && n.children.length > 0).map((n) => n.id)),
    );

  return (
    <div className="waterfall">
      <div className="waterfall-toolbar">
        <button type="button" className="small" onClick={expandAll}>
          Expand all
        </button>
        <button type="button" className="small" onClick={collapseAll}>
          Collapse all
        </button>
        <NextError tree={tree} selectedId={selectedId} onSelect={onSelect} />
        <span className="muted small-text">
          {rows.length.toLocaleString()} of {tree.byId.size.toLocaleString()} spans shown
        </span>
      </div>
      <div className="waterfall-header" aria-hidden="true">
        <div className="wf-name">Span</div>
        <div className="wf-track">
          {ticks.map((tick) => (
            <span key={tick.offsetPct} className="wf-tick" style={{ left: `${tick.offsetPct}%` }}>
              {tick.label}
            </span>
          ))}
        </div>
      </div>
      <div
        ref={scrollRef}
        className="waterfall-scroll"
        role="tree"
        aria-label="Spans of this trace"
        tabIndex={0}
        aria-activedescendant={selectedId && selectedIndex !== undefined ? `wf-row-${selectedId}` : undefined}
        onKeyDown={onKeyDown}
      >
        <div className="waterfall-rows" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const node = rows[item.index]!;
            return (
              <Row
                key={node.id}
                node={node}
                top={item.start}
                selected={node.id === selectedId}
                collapsed={collapsed.has(node.id)}
                traceStart={tree.start}
                traceEnd={tree.end}
                onSelect={onSelect}
                onToggle={toggle}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

const Row = memo(function Row(props: {
  node: SpanNode;
  top: number;
  selected: boolean;
  collapsed: boolean;
  traceStart: number;
  traceEnd: number;
  onSelect(id: string): void;
  onToggle(node: SpanNode): void;
}) {
  const { node, selected, collapsed } = props;
  const span = node.span;
  const bar = barGeometry(node.start, node.end, props.traceStart, props.traceEnd);
  const kind = node.error ? 'error' : span.junjo_span_type || (span.is_llm ? 'llm' : 'other');
  const hasChildren = node.children.length > 0;
  const labelOnRight = bar.leftPct + bar.widthPct < 75;
  return (
    // biome-ignore lint/a11y/useFocusableInteractive: focus stays on the tree (aria-activedescendant)
    // biome-ignore lint/a11y/useKeyWithClickEvents: the tree handles the keyboard for all rows
    <div
      id={`wf-row-${node.id}`}
      role="treeitem"
      aria-selected={selected}
      aria-expanded={hasChildren ? !collapsed : undefined}
      aria-level={node.depth + 1}
      className={`wf-row${selected ? ' selected' : ''}${node.error ? ' error' : ''}`}
      style={{ transform: `translateY(${props.top}px)` }}
      onClick={() => props.onSelect(node.id)}
    >
      <div className="wf-name" style={{ paddingLeft: Math.min(node.depth, MAX_INDENT_LEVELS) * INDENT + 4 }}>
        {hasChildren ? (
          <button
            type="button"
            className="wf-toggle"
            tabIndex={-1}
            aria-label={collapsed ? 'Expand' : 'Collapse'}
            onClick={(event) => {
              event.stopPropagation();
              props.onToggle(node);
            }}
          >
            {collapsed ? '▸' : '▾'}
          </button>
        ) : (
          <span className="wf-toggle" />
        )}
        <span className={`wf-dot kind-${kind}`} aria-hidden="true" />
        <span className="wf-label" title={span.name}>
          {span.name || '(unnamed)'}
        </span>
        {collapsed && (
          <span className={`wf-hidden${node.errorInSubtree ? ' error' : ''}`}>+{node.descendantCount}</span>
        )}
      </div>
      <div className="wf-track">
        <div
          className={`wf-bar kind-${kind}`}
          style={{ left: `${bar.leftPct}%`, width: `${bar.widthPct}%` }}
        />
        <span
          className="wf-duration"
          style={
            labelOnRight
              ? { left: `calc(${bar.leftPct + bar.widthPct}% + 6px)` }
              : { right: `calc(${100 - bar.leftPct}% + 6px)` }
          }
        >
          {formatDuration(node.end - node.start)}
        </span>
      </div>
    </div>
  );
});

function NextError(props: { tree: SpanTree; selectedId: string | null; onSelect(id: string): void }) {
  const errors = useMemo(() => {
    const list: SpanNode[] = [];
    const stack = [...props.tree.roots].reverse();
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.error) list.push(node);
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
    return list;
  }, [props.tree]);
  if (errors.length === 0) return null;
  const current = errors.findIndex((n) => n.id === props.selectedId);
  const next = errors[(current + 1) % errors.length]!;
  return (
    <button type="button" className="small danger-outline" onClick={() => props.onSelect(next.id)}>
      Next error ({current >= 0 ? `${current + 1}/` : ''}
      {errors.length})
    </button>
  );
}
