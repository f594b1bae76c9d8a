// The traces of one service (root spans), optionally only those with an LLM call somewhere inside.
import { useCallback, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { listRootSpans, type Page } from '../api/endpoints.ts';
import { SpanTypeBadge, StatusBadge } from '../components/SpanBadges.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { usePagedSpans } from '../hooks/usePagedSpans.ts';
import { useScrollAnchor } from '../hooks/useScrollAnchor.ts';
import { isErrorSpan } from '../lib/span_facts.ts';
import { formatDuration, parseTimestampMicros } from '../lib/time.ts';
import { paths } from '../paths.ts';
import { LiveControls } from './LiveControls.tsx';
import { LoadOlder } from './LoadOlder.tsx';
import { ServiceHeader } from './ServiceHeader.tsx';

export function TracesPage() {
  const service = useParams().service!;
  const [params, setParams] = useSearchParams();
  const llmOnly = params.get('llm') === '1';
  const [live, setLive] = useState(true);
  const fetchPage = useCallback((page: Page) => listRootSpans(service, llmOnly, page), [service, llmOnly]);
  const traces = usePagedSpans(['root-spans', service, llmOnly], fetchPage, live);
  const listRef = useRef<HTMLTableSectionElement>(null);
  const first = traces.items[0];
  useScrollAnchor(listRef, first ? `${first.trace_id}:${first.span_id}` : undefined);

  const setLlmOnly = (on: boolean) => {
    const next = new URLSearchParams(params);
    if (on) next.set('llm', '1');
    else next.delete('llm');
    setParams(next, { replace: true });
  };

  return (
    <div className="page">
      <ServiceHeader service={service}>
        <div className="head-controls">
          <label className="switch">
            <input type="checkbox" checked={llmOnly} onChange={(e) => setLlmOnly(e.target.checked)} />
            Only traces with LLM spans
          </label>
          <LiveControls live={live} onLiveChange={setLive} updatedAt={traces.updatedAt} />
        </div>
      </ServiceHeader>
      {traces.isLoading ? (
        <Loading label="Loading traces" />
      ) : traces.error ? (
        <ErrorNotice error={traces.error} retry={traces.refetch} />
      ) : traces.items.length === 0 ? (
        <EmptyState title={llmOnly ? 'No traces with LLM spans' : 'No traces yet'}>
          {llmOnly && (
            <p className="muted">
              LLM spans are recognised by OpenInference (<code>openinference.span.kind = LLM</code>) or GenAI
              (<code>gen_ai.*</code>) attributes.
            </p>
          )}
        </EmptyState>
      ) : (
        <>
          <table className="table live-list">
            <thead>
              <tr>
                <th scope="col">Root span</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Trace ID</th>
              </tr>
            </thead>
            <tbody ref={listRef}>
              {traces.items.map((root) => {
                const failed = isErrorSpan(root);
                return (
                  <tr
                    key={`${root.trace_id}:${root.span_id}`}
                    data-key={`${root.trace_id}:${root.span_id}`}
                    className={failed ? 'row-error' : undefined}
                  >
                    <th scope="row">
                      <Link to={paths.trace(root.trace_id)} className="strong-link">
                        {root.name || '(unnamed span)'}
                      </Link>
                    </th>
                    <td>
                      <Time value={root.start_time} />
                    </td>
                    <td className="num">
                      {formatDuration(
                        parseTimestampMicros(root.end_time) - parseTimestampMicros(root.start_time),
                      )}
                    </td>
                    <td>
                      <SpanTypeBadge span={root} />
                    </td>
                    <td>
                      <StatusBadge failed={failed} />
                    </td>
                    <td className="mono muted">{root.trace_id.slice(0, 12)}…</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <LoadOlder list={traces} noun="traces" />
        </>
      )}
    </div>
  );
}
