// Two to four runs of one workflow side by side: their graphs (nodes that ran in some runs and not
// in others marked), node durations, end states diffed against the first run, and their state steps
// aligned by node with the first divergence highlighted.
// URL: /services/:service/compare?runs=<traceId>:<spanId>,<traceId>:<spanId>[,…]
import { useQueries } from '@tanstack/react-query';
import { useMemo, useRef } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { compactTraceQuery } from '../api/queries.ts';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { ChangeList } from '../components/workflow/ChangeList.tsx';
import { WorkflowGraph } from '../components/workflow/WorkflowGraph.tsx';
import { diffStates, formatPath } from '../lib/diff.ts';
import {
  type AlignedRow,
  alignSteps,
  compareNodes,
  differingGraphNodes,
  firstDivergence,
  type NodeComparison,
  parseRunRefs,
  stepViews,
} from '../lib/run_compare.ts';
import { isErrorSpan } from '../lib/span_facts.ts';
import { formatDuration, parseTimestampMicros } from '../lib/time.ts';
import { buildWorkflowRun, type WorkflowRun } from '../lib/workflow_run.ts';
import { paths } from '../paths.ts';

export default function CompareRunsPage() {
  const service = useParams().service!;
  const [params] = useSearchParams();
  const refs = useMemo(() => parseRunRefs(params.get('runs')) ?? [], [params]);
  const traces = useQueries({ queries: refs.map((ref) => compactTraceQuery(ref.traceId)) });
  const loading = traces.some((t) => t.isLoading);
  const failed = traces.find((t) => t.error);
  const runs = useMemo(
    () => refs.map((ref, i) => (traces[i]?.data ? buildWorkflowRun(traces[i].data, ref.spanId) : null)),
    [refs, traces],
  );

  const head = (
    <nav className="breadcrumb" aria-label="Breadcrumb">
      <Link to={paths.services()}>Services</Link>
      <span aria-hidden="true">/</span>
      <Link to={paths.workflowRuns(service)}>{service}</Link>
      <span aria-hidden="true">/</span>
      <span>Compare runs</span>
    </nav>
  );
  if (refs.length === 0) {
    return (
      <div className="page">
        {head}
        <EmptyState title="Nothing to compare">
          <p className="muted">
            Pick two to four runs of one workflow on the{' '}
            <Link to={paths.workflowRuns(service)}>runs page</Link>.
          </p>
        </EmptyState>
      </div>
    );
  }
  if (loading) return <Loading label="Loading the runs" />;
  if (failed) return <ErrorNotice error={failed.error} retry={() => void failed.refetch()} />;
  const missing = refs.filter((_, i) => !runs[i]);
  if (missing.length > 0) {
    return (
      <div className="page">
        {head}
        <EmptyState title="Run not found">
          <p className="muted">
            No workflow span {missing.map((r) => `${r.traceId}:${r.spanId}`).join(', ')} (yet).
          </p>
        </EmptyState>
      </div>
    );
  }
  return <Comparison service={service} runs={runs as WorkflowRun[]} head={head} />;
}

function Comparison(props: { service: string; runs: WorkflowRun[]; head: React.ReactNode }) {
  const { service, runs } = props;
  const nodes = useMemo(() => compareNodes(runs), [runs]);
  const differing = useMemo(() => differingGraphNodes(runs, nodes), [runs, nodes]);
  const rows = useMemo(() => alignSteps(runs.map(stepViews)), [runs]);
  const divergence = firstDivergence(rows);
  const firstDivergent = useRef<HTMLTableRowElement>(null);
  const jump = () => {
    firstDivergent.current?.scrollIntoView({ block: 'center' });
    firstDivergent.current?.focus();
  };
  const columns = { gridTemplateColumns: `repeat(${runs.length}, minmax(0, 1fr))` };

  return (
    <div className="page page-wide compare-page">
      <div className="page-head">
        {props.head}
        <h1>Compare runs of {runs[0]!.workflow.name || '(unnamed workflow)'}</h1>
      </div>

      <section className="compare-columns" style={columns} aria-label="Runs">
        {runs.map((run, i) => (
          <div key={run.workflow.span_id} className="compare-run">
            <h2>
              <Link to={paths.workflow(service, run.workflow.trace_id, run.workflow.span_id)}>
                Run {i + 1}
              </Link>{' '}
              <span className={`badge ${isErrorSpan(run.workflow) ? 'error' : 'ok'}`}>
                {isErrorSpan(run.workflow) ? 'error' : 'ok'}
              </span>
            </h2>
            <p className="muted small-text">
              <Time value={run.workflow.start_time} /> ·{' '}
              {formatDuration(
                parseTimestampMicros(run.workflow.end_time) - parseTimestampMicros(run.workflow.start_time),
              )}{' '}
              · {run.replay.steps.length} state updates
            </p>
            <div className="compare-graph">
              {run.graph.ok ? (
                <WorkflowGraph
                  graph={run.graph.graph}
                  executions={run.executions}
                  currentNodeId={null}
                  selectedNodeId={null}
                  onSelectNode={() => {}}
                  differing={differing[i]!}
                />
              ) : (
                <p className="muted graph-missing">{run.graph.reason}</p>
              )}
            </div>
          </div>
        ))}
      </section>

      <section aria-labelledby="compare-nodes">
        <h2 id="compare-nodes">Nodes</h2>
        <NodeTable nodes={nodes} runCount={runs.length} />
      </section>

      <section aria-labelledby="compare-end-states">
        <h2 id="compare-end-states">End state, against run 1</h2>
        {runs.slice(1).map((run, i) => (
          <div key={run.workflow.span_id} className="compare-diff">
            <h3>Run {i + 2}</h3>
            <ChangeList
              changes={diffStates(runs[0]!.workflow.junjo_wf_state_end, run.workflow.junjo_wf_state_end)}
            />
          </div>
        ))}
      </section>

      <section aria-labelledby="compare-steps">
        <div className="compare-steps-head">
          <h2 id="compare-steps">State steps, aligned by node</h2>
          {divergence >= 0 ? (
            <button type="button" className="small jump-divergence" onClick={jump}>
              Jump to first divergence (row {divergence + 1})
            </button>
          ) : (
            <span className="muted no-divergence">Every step matches</span>
          )}
        </div>
        <table className="table compare-steps">
          <thead>
            <tr>
              <th scope="col">Node</th>
              {runs.map((run, i) => (
                <th key={run.workflow.span_id} scope="col">
                  Run {i + 1}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr
                key={`${row.node}:${row.occurrence}`}
                ref={r === divergence ? firstDivergent : undefined}
                tabIndex={r === divergence ? -1 : undefined}
                className={
                  r === divergence ? 'diverges first-divergence' : row.diverges ? 'diverges' : undefined
                }
                aria-label={r === divergence ? 'First divergence' : undefined}
              >
                <th scope="row">
                  {row.node}
                  {row.occurrence > 1 ? <span className="muted"> #{row.occurrence}</span> : null}
                </th>
                {runs.map((run, i) => (
                  <td key={run.workflow.span_id}>
                    <StepCell run={run} row={row} runIndex={i} service={service} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function NodeTable({ nodes, runCount }: { nodes: NodeComparison[]; runCount: number }) {
  if (nodes.length === 0) return <p className="muted">No nodes ran.</p>;
  return (
    <table className="table compare-nodes">
      <thead>
        <tr>
          <th scope="col">Node</th>
          {Array.from({ length: runCount }, (_, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the columns are the runs, in order
            <th key={i} scope="col" className="num">
              Run {i + 1}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {nodes.map((node) => (
          <tr key={node.name} className={node.ranInSome ? 'differs' : undefined}>
            <th scope="row">{node.name}</th>
            {node.runs.map((timing, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the columns are the runs, in order
              <td key={i} className={`num${timing?.failed ? ' failed' : ''}`}>
                {timing === null
                  ? 'not run'
                  : `${formatDuration(timing.micros)}${timing.count > 1 ? ` (${timing.count}×)` : ''}${timing.failed ? ' ✕' : ''}`}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A run's step in an aligned row: its number (a link into the debugger) and the paths it changed. */
function StepCell(props: { run: WorkflowRun; row: AlignedRow; runIndex: number; service: string }) {
  const index = props.row.steps[props.runIndex];
  if (index === null || index === undefined) return <span className="muted">—</span>;
  const step = props.run.replay.steps[index]!;
  const { trace_id, span_id } = props.run.workflow;
  const changed = [...new Set(step.ops.map((op) => op.path))];
  return (
    <span className="compare-step">
      <Link to={`${paths.workflow(props.service, trace_id, span_id)}?step=${index + 1}`}>
        step {index + 1}
      </Link>{' '}
      <code>{changed.length > 0 ? changed.join(', ') : step.noop ? 'no change' : formatPath([])}</code>
    </span>
  );
}
