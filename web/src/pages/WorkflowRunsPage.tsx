// The workflow runs of one service, newest first, refreshed live; filtered by the filter bar (its
// state is in the URL), and any two to four runs of one workflow picked for a comparison.
import { useCallback, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { listWorkflowRuns, type Page } from '../api/endpoints.ts';
import { RunFilterBar } from '../components/RunFilterBar.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { usePagedSpans } from '../hooks/usePagedSpans.ts';
import { useScrollAnchor } from '../hooks/useScrollAnchor.ts';
import { formatRunRefs, MAX_COMPARED_RUNS, type RunRef } from '../lib/run_compare.ts';
import { RUN_FILTER_KEYS, runFilterParams } from '../lib/run_filters.ts';
import { isErrorSpan } from '../lib/span_facts.ts';
import { formatDuration, parseTimestampMicros } from '../lib/time.ts';
import { paths } from '../paths.ts';
import { LiveControls } from './LiveControls.tsx';
import { LoadOlder } from './LoadOlder.tsx';
import { ServiceHeader } from './ServiceHeader.tsx';

export function WorkflowRunsPage() {
  const service = useParams().service!;
  const [search, setSearch] = useSearchParams();
  const filterText = runFilterParams(search).toString();
  const filters = useMemo(() => new URLSearchParams(filterText), [filterText]);
  const [live, setLive] = useState(true);
  const fetchPage = useCallback((page: Page) => listWorkflowRuns(service, page, filters), [service, filters]);
  const runs = usePagedSpans(['workflow-runs', service, filterText], fetchPage, live);
  const listRef = useRef<HTMLTableSectionElement>(null);
  const first = runs.items[0];
  useScrollAnchor(listRef, first ? `${first.trace_id}:${first.span_id}` : undefined);
  // Picked for comparison: run key → workflow name (only runs of one workflow compare).
  const [picked, setPicked] = useState<ReadonlyMap<string, string>>(new Map());
  const pickedNames = new Set(picked.values());
  const navigate = useNavigate();
  const toggle = (key: string, name: string) =>
    setPicked((current) => {
      const next = new Map(current);
      if (next.has(key)) next.delete(key);
      else next.set(key, name);
      return next;
    });
  const compare = () => {
    const refs: RunRef[] = [...picked.keys()].map((key) => {
      const [traceId = '', spanId = ''] = key.split(':');
      return { traceId, spanId };
    });
    navigate(paths.compareRuns(service, formatRunRefs(refs)));
  };
  const compareProblem =
    picked.size < 2
      ? 'Pick two or more runs to compare'
      : picked.size > MAX_COMPARED_RUNS
        ? `At most ${MAX_COMPARED_RUNS} runs side by side`
        : pickedNames.size > 1
          ? 'Pick runs of the same workflow'
          : null;

  return (
    <div className="page">
      <ServiceHeader service={service}>
        <button
          type="button"
          className="primary small compare-runs"
          onClick={compare}
          disabled={compareProblem !== null}
          title={compareProblem ?? `Compare the ${picked.size} picked runs`}
        >
          Compare{picked.size > 0 ? ` (${picked.size})` : ''}
        </button>
        <LiveControls live={live} onLiveChange={setLive} updatedAt={runs.updatedAt} />
      </ServiceHeader>
      <RunFilterBar
        search={filters}
        onApply={(next) =>
          setSearch((previous) => {
            const kept = new URLSearchParams(previous);
            for (const key of RUN_FILTER_KEYS) kept.delete(key);
            for (const [key, value] of next) kept.append(key, value);
            return kept;
          })
        }
      />
      {runs.isLoading ? (
        <Loading label="Loading workflow runs" />
      ) : runs.error ? (
        <ErrorNotice error={runs.error} retry={runs.refetch} />
      ) : runs.items.length === 0 && filters.size > 0 ? (
        <EmptyState title="No runs match these filters" />
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
                <th scope="col">
                  <span className="sr-only">Compare</span>
                </th>
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
                const key = `${run.trace_id}:${run.span_id}`;
                return (
                  <tr
                    key={`${run.trace_id}:${run.span_id}`}
                    data-key={`${run.trace_id}:${run.span_id}`}
                    className={failed ? 'row-error' : undefined}
                  >
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Compare ${run.name || 'run'} of ${run.start_time}`}
                        checked={picked.has(key)}
                        onChange={() => toggle(key, run.name)}
                      />
                    </td>
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
