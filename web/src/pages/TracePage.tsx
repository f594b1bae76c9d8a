// One trace: waterfall timeline on the left, the selected span's details on the right.
// The selected span is in the URL (?span=), so a span can be linked to directly. The waterfall is
// drawn from the compact trace's waterfall view; the selected span's attributes and events are fetched when it opens.
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { waterfallTraceQuery } from '../api/queries.ts';
import type { WaterfallSpan } from '../api/types.ts';
import { DownloadTraceButton } from '../components/DownloadTraceButton.tsx';
import { OpenedSpanDetails } from '../components/OpenedSpanDetails.tsx';
import { ReloadButton } from '../components/ReloadButton.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { Waterfall } from '../components/Waterfall.tsx';
import { buildSpanTree, type SpanNode, type SpanTree } from '../lib/span_tree.ts';
import { formatDuration } from '../lib/time.ts';
import { paths } from '../paths.ts';

export function TracePage() {
  const traceId = useParams().traceId!;
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('span');
  const spans = useQuery(waterfallTraceQuery(traceId));
  const tree = useMemo(() => buildSpanTree(spans.data ?? []), [spans.data]);
  // Once per trace, not on every selection: a pass over every span.
  const summary = useMemo(() => traceSummary(tree), [tree]);

  const select = (id: string | null) => {
    const next = new URLSearchParams(params);
    if (id) next.set('span', id);
    else next.delete('span');
    setParams(next, { replace: true });
  };

  if (spans.isLoading) return <Loading label="Loading trace" />;
  if (spans.error) {
    return (
      <div className="page">
        <ErrorNotice error={spans.error} retry={() => void spans.refetch()} />
      </div>
    );
  }
  const root = tree.roots[0];
  if (!root) {
    return (
      <div className="page">
        <EmptyState title="No spans in this trace">
          <p className="muted">
            Trace <code>{traceId}</code> has no spans (yet). Spans can take a few seconds to arrive.
          </p>
        </EmptyState>
      </div>
    );
  }
  const selected = selectedId ? tree.byId.get(selectedId) : undefined;
  const service = root.span.service_name;
  const { errorCount, workflows, services } = summary;

  return (
    <div className="page page-wide trace-page">
      <div className="page-head">
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link to={paths.services()}>Services</Link>
          <span aria-hidden="true">/</span>
          <Link to={paths.traces(service)}>{service}</Link>
          <span aria-hidden="true">/</span>
          <span>Trace</span>
        </nav>
        <div className="page-head-row">
          <h1>{root.span.name || '(unnamed span)'}</h1>
          <div className="summary">
            <span>
              <Time value={root.span.start_time} />
            </span>
            <span>{formatDuration(tree.end - tree.start)}</span>
            <span>{tree.byId.size.toLocaleString()} spans</span>
            {errorCount > 0 && <span className="badge error">{errorCount} errors</span>}
            {services.length > 1 && <span>{services.join(', ')}</span>}
            <span className="mono muted" title="Trace ID">
              {traceId}
            </span>
            <ReloadButton reload={spans.refetch} reloading={spans.isFetching} />
            <DownloadTraceButton traceId={traceId} />
          </div>
        </div>
        {workflows.length > 0 && (
          <p className="workflow-links">
            Debug:{' '}
            {workflows.slice(0, 5).map((w) => (
              <Link key={w.id} to={paths.workflow(w.span.service_name, traceId, w.id)}>
                {w.span.name}
              </Link>
            ))}
            {workflows.length > 5 && <span className="muted"> and {workflows.length - 5} more</span>}
          </p>
        )}
      </div>
      <div className={`split${selected ? ' with-panel' : ''}`}>
        <Waterfall tree={tree} selectedId={selected ? selected.id : null} onSelect={select} />
        {selected && (
          <aside className="panel" aria-label="Span details">
            <button
              type="button"
              className="ghost panel-close"
              onClick={() => select(null)}
              aria-label="Close span details"
            >
              ✕
            </button>
            <OpenedSpanDetails key={selected.id} traceId={traceId} spanId={selected.id} />
          </aside>
        )}
      </div>
    </div>
  );
}

function traceSummary(tree: SpanTree<WaterfallSpan>) {
  let errorCount = 0;
  const workflows: SpanNode<WaterfallSpan>[] = [];
  const services = new Set<string>();
  for (const node of tree.byId.values()) {
    if (node.error) errorCount++;
    if (node.span.junjo_span_type === 'workflow') workflows.push(node);
    services.add(node.span.service_name);
  }
  return { errorCount, workflows, services: [...services] };
}
