// The workflow runs of one service, newest first, refreshed live.
import { useCallback, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { listWorkflowRuns, type Page } from '../api/endpoints.ts';
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

export function WorkflowRunsPage() {
  const service = useParams().service!;
  const [live, setLive] = useState(true);
  const fetchPage = useCallback((page: Page) => listWorkflowRuns(service, page), [service]);
  const runs = usePagedSpans(['workflow-runs', service], fetchPage, live);
  const listRef = useRef<HTMLTableSectionElement>(null);
  const first = runs.items[0];
  useScrollAnchor(listRef, first ? `${first.trace_id}:${first.span_id}` : undefined);

  return (
    <div className="page">
      <ServiceHeader service={service}>
        <LiveControls live={live} onLiveChange={setLive} updatedAt={runs.updatedAt} />
      </ServiceHeader>
      {runs.isLoading ? (
        <Loading label="Loading workflow runs" />
      ) : runs.error ? (
        <ErrorNotice error={runs.error} retry={runs.refetch} />
      ) : runs.items.length === 0 ? (
        <EmptyState title="No workflow runs yet">
          <p className="muted">
            Runs of Junjo workflows appear here once the service exports them. Other spans of this service are
            under <Link to={paths.traces(service)}>Traces</Link>.
          </p>
        </EmptyState>
      ) : (
        <>
          <table className="table live-list">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col" className="num">
                  Nodes
                </th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Trace</span>
                </th>
              </tr>
            </thead>
            <tbody ref={listRef}>
              {runs.items.map((run) => {
                const nodeCount = run.attributes_json['junjo.workflow.node.count'];
                const failed = isErrorSpan(run);
                return (
                  <tr
                    key={`${run.trace_id}:${run.span_id}`}
                    data-key={`${run.trace_id}:${run.span_id}`}
                    className={failed ? 'row-error' : undefined}
                  >
                    <th scope="row">
                      <Link to={paths.workflow(service, run.trace_id, run.span_id)} className="strong-link">
                        {run.name || '(unnamed workflow)'}
                      </Link>
                    </th>
                    <td>
                      <Time value={run.start_time} />
                    </td>
                    <td className="num">
                      {formatDuration(
                        parseTimestampMicros(run.end_time) - parseTimestampMicros(run.start_time),
                      )}
                    </td>
                    <td className="num">{typeof nodeCount === 'number' ? nodeCount : '—'}</td>
                    <td>
                      {failed ? (
                        <span className="badge error" title={run.status_message || undefined}>
                          error
                        </span>
                      ) : (
                        <span className="badge ok">ok</span>
                      )}
                    </td>
                    <td>
                      <Link to={paths.trace(run.trace_id, run.span_id)} className="muted-link">
                        trace
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <LoadOlder list={runs} noun="runs" />
        </>
      )}
    </div>
  );
}
