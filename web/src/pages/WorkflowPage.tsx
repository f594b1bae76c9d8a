// The workflow debugger: graph, state steps and their details for one workflow run.
// URL: /services/:service/workflows/:traceId/:spanId?step=N&tab=changes&span=<spanId>
// Keys: ← / → previous / next step, Home / End first / last, Shift+← / Shift+→ previous / next run
// of the same workflow.
import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { compactTraceQuery } from '../api/queries.ts';
import type { SpanSummary } from '../api/types.ts';
import { DownloadTraceButton } from '../components/DownloadTraceButton.tsx';
import { Icon } from '../components/Icon.tsx';
import { ReloadButton } from '../components/ReloadButton.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { isTab, StepDetails, type TabId } from '../components/workflow/StepDetails.tsx';
import { StepList } from '../components/workflow/StepList.tsx';
import { WorkflowGraph } from '../components/workflow/WorkflowGraph.tsx';
import { type NeighbourRuns, useNeighbourRuns } from '../hooks/useNeighbourRuns.ts';
import { isErrorSpan } from '../lib/span_facts.ts';
import { formatDuration, parseTimestampMicros } from '../lib/time.ts';
import { buildWorkflowRun, graphNodeOf, type WorkflowRun } from '../lib/workflow_run.ts';
import { paths } from '../paths.ts';

export default function WorkflowPage() {
  const { service, traceId, spanId } = useParams() as { service: string; traceId: string; spanId: string };
  const spans = useQuery(compactTraceQuery(traceId));
  const run = useMemo(() => (spans.data ? buildWorkflowRun(spans.data, spanId) : null), [spans.data, spanId]);

  if (spans.isLoading) return <Loading label="Loading workflow run" />;
  if (spans.error) {
    return (
      <div className="page">
        <ErrorNotice error={spans.error} retry={() => void spans.refetch()} />
      </div>
    );
  }
  if (!run) {
    return (
      <div className="page">
        <EmptyState title="Workflow run not found">
          <p className="muted">
            Trace <code>{traceId}</code> has no span <code>{spanId}</code> (yet).{' '}
            <Link to={paths.workflowRuns(service)}>Back to the workflow runs</Link>
          </p>
        </EmptyState>
      </div>
    );
  }
  // A new run (previous / next) starts a new debugger: step 1, the graph fitted again.
  return (
    <Debugger
      key={`${traceId}/${spanId}`}
      run={run}
      service={service}
      reload={spans.refetch}
      reloading={spans.isFetching}
    />
  );
}

function Debugger(props: { run: WorkflowRun; service: string; reload(): void; reloading: boolean }) {
  const { run, service } = props;
  const [params, setParams] = useSearchParams();
  const steps = run.replay.steps;
  const requested = Number.parseInt(params.get('step') ?? '1', 10);
  const current =
    steps.length === 0
      ? -1
      : Math.min(Math.max(Number.isNaN(requested) ? 1 : requested, 1), steps.length) - 1;
  const rawTab = params.get('tab');
  const tab: TabId = isTab(rawTab) ? rawTab : steps.length === 0 ? 'span' : 'changes';
  const step = current >= 0 ? steps[current] : undefined;
  const focusSpanId = params.get('span') ?? step?.event.spanId ?? run.workflow.span_id;
  const focusSpan = run.spanById.get(focusSpanId) ?? run.workflow;
  const neighbours = useNeighbourRuns(service, run.workflow);
  const navigate = useNavigate();
  const openRun = useCallback(
    (other: SpanSummary) => navigate(paths.workflow(service, other.trace_id, other.span_id)),
    [navigate, service],
  );

  // Handlers read the latest values through a ref, so they keep their identity while stepping and
  // the step list and the graph do not re-render for a new callback.
  const latest = useRef({ run, focusSpanId, tab, setParams, neighbours });
  latest.current = { run, focusSpanId, tab, setParams, neighbours };
  const update = useCallback((changes: Record<string, string | null>) => {
    latest.current.setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [key, value] of Object.entries(changes)) {
          if (value === null) next.delete(key);
          else next.set(key, value);
        }
        return next;
      },
      { replace: true },
    );
  }, []);

  // Key repeat can outpace the URL: each press moves on from the last step asked for. `pending`
  // holds requests not yet seen in the URL; any other URL change (a click, history) resets `target`.
  const stepping = useRef({ target: current, pending: [] as number[] });
  useLayoutEffect(() => {
    const { pending } = stepping.current;
    const seen = pending.indexOf(current);
    if (seen >= 0) pending.splice(0, seen + 1);
    else stepping.current = { target: current, pending: [] };
  }, [current]);

  // Moving through the steps re-focuses the span of the step.
  const goTo = useCallback(
    (index: number) => {
      const count = latest.current.run.replay.steps.length;
      if (count === 0) return;
      const next = Math.min(Math.max(index, 0), count - 1);
      stepping.current.target = next;
      stepping.current.pending.push(next);
      update({ step: String(next + 1), span: null });
    },
    [update],
  );

  // Clicking a node focuses the span that ran it and jumps to that span's first state update.
  const selectNode = useCallback(
    (nodeId: string) => {
      const { run, focusSpanId, tab } = latest.current;
      const execution = run.executions.get(nodeId)?.spans;
      if (!execution || execution.length === 0) {
        update({ span: null, tab: 'span' });
        return;
      }
      const alreadyFocused = execution.findIndex((s) => s.span_id === focusSpanId);
      // Repeated clicks on a node that ran several times cycle through its executions.
      const span = execution[(alreadyFocused + 1) % execution.length]!;
      const firstStep = run.stepsBySpan.get(span.span_id)?.[0];
      update({
        span: span.span_id,
        ...(firstStep !== undefined ? { step: String(firstStep + 1) } : {}),
        ...(firstStep === undefined && tab !== 'exceptions' ? { tab: 'span' } : {}),
      });
    },
    [update],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target;
      if (
        target instanceof Element &&
        target.closest('input, textarea, select, [contenteditable="true"], dialog')
      ) {
        return;
      }
      if (event.shiftKey) {
        const { previous, next } = latest.current.neighbours;
        const other = { ArrowLeft: previous, ArrowRight: next }[event.key as string];
        if (other === undefined) return;
        event.preventDefault();
        if (other) openRun(other);
        return;
      }
      const from = stepping.current.target;
      const moves: Record<string, number> = {
        ArrowLeft: from - 1,
        ArrowRight: from + 1,
        Home: 0,
        End: steps.length - 1,
      };
      const index = moves[event.key];
      if (index === undefined || steps.length === 0) return;
      event.preventDefault();
      goTo(index);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [steps.length, goTo, openRun]);

  const workflow = run.workflow;
  const duration = parseTimestampMicros(workflow.end_time) - parseTimestampMicros(workflow.start_time);
  const nodeCount = workflow.junjo_attributes['junjo.workflow.node.count'];
  const mismatched = [...run.replay.stores.values()].filter((s) => s.matchesEnd === false);
  const currentNode = step ? graphNodeOf(run, step.event.spanId) : null;
  const selectedNode = params.get('span') ? graphNodeOf(run, focusSpan.span_id) : null;

  return (
    <div className="page page-wide workflow-page">
      <div className="page-head">
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link to={paths.services()}>Services</Link>
          <span aria-hidden="true">/</span>
          <Link to={paths.workflowRuns(service)}>{service}</Link>
          <span aria-hidden="true">/</span>
          <span>Workflow run</span>
        </nav>
        <div className="page-head-row">
          <h1>{workflow.name || '(unnamed workflow)'}</h1>
          <div className="summary">
            {isErrorSpan(workflow) ? (
              <span className="badge error">error</span>
            ) : (
              <span className="badge ok">ok</span>
            )}
            <Time value={workflow.start_time} />
            <span>{formatDuration(duration)}</span>
            {typeof nodeCount === 'number' && <span>{nodeCount} nodes run</span>}
            <span>{steps.length} state updates</span>
            {workflow.junjo_span_type === 'workflow' && (
              <RunNavigation name={workflow.name} neighbours={neighbours} open={openRun} />
            )}
            <ReloadButton reload={props.reload} reloading={props.reloading} />
            <DownloadTraceButton traceId={workflow.trace_id} />
            <Link to={paths.trace(workflow.trace_id, workflow.span_id)}>Trace waterfall →</Link>
          </div>
        </div>
        {mismatched.length > 0 && (
          <p className="notice notice-warn">
            Replaying the patches of {mismatched.map((s) => s.info.name || s.info.id).join(', ')} does not
            reproduce the end state the workflow reported: some updates may be missing or out of order.
          </p>
        )}
      </div>

      <div className="debugger">
        <section className="graph-pane" aria-label="Workflow graph">
          {run.graph.ok ? (
            <WorkflowGraph
              graph={run.graph.graph}
              executions={run.executions}
              currentNodeId={currentNode}
              selectedNodeId={selectedNode}
              onSelectNode={selectNode}
            />
          ) : (
            <p className="muted graph-missing">{run.graph.reason}</p>
          )}
        </section>

        <section className="steps-pane" aria-label="State steps">
          <div className="stepper">
            <button type="button" onClick={() => goTo(0)} disabled={current <= 0} aria-label="First step">
              <Icon name="first" />
            </button>
            <button
              type="button"
              onClick={() => goTo(current - 1)}
              disabled={current <= 0}
              aria-label="Previous step"
            >
              <Icon name="previous" />
            </button>
            <span className="stepper-position" aria-live="polite">
              {steps.length === 0 ? 'No steps' : `Step ${current + 1} of ${steps.length}`}
            </span>
            <button
              type="button"
              onClick={() => goTo(current + 1)}
              disabled={current >= steps.length - 1}
              aria-label="Next step"
            >
              <Icon name="next" />
            </button>
            <button
              type="button"
              onClick={() => goTo(steps.length - 1)}
              disabled={current >= steps.length - 1}
              aria-label="Last step"
            >
              <Icon name="last" />
            </button>
          </div>
          <p className="muted small-text stepper-hint">
            <kbd>←</kbd> <kbd>→</kbd> to step, <kbd>Shift</kbd>+<kbd>←</kbd> <kbd>→</kbd> for the previous /
            next run
          </p>
          {steps.length === 0 ? (
            <p className="muted">This run made no state updates.</p>
          ) : (
            <StepList
              steps={steps}
              current={current}
              spanById={run.spanById}
              showStore={run.replay.stores.size > 1}
              onSelect={goTo}
            />
          )}
        </section>

        <div className="detail-pane">
          <StepDetails
            tab={tab}
            onTab={(next) => update({ tab: next })}
            step={step}
            replay={run.replay}
            store={step ? run.replay.stores.get(step.event.storeId) : undefined}
            workflow={workflow}
            focusSpan={focusSpan}
            errorSpans={run.errorSpans}
            onFocusSpan={(id) => update({ span: id })}
          />
        </div>
      </div>
    </div>
  );
}

const runButtons = {
  previous: { label: 'Previous run', key: '←', none: 'earlier', icon: 'previous' },
  next: { label: 'Next run', key: '→', none: 'later', icon: 'next' },
} as const;

/** The previous and next run of the same workflow, by start time (Shift+← / Shift+→). */
function RunNavigation(props: { name: string; neighbours: NeighbourRuns; open(run: SpanSummary): void }) {
  const { name, neighbours, open } = props;
  return (
    <span className="run-nav">
      {(['previous', 'next'] as const).map((which) => {
        const run = neighbours[which];
        const { label, key, none, icon } = runButtons[which];
        const title =
          run === undefined
            ? `Looking for the ${which} run…`
            : run === null
              ? `No ${none} run of ${name} found`
              : `${label} of ${name} (Shift+${key})`;
        return (
          <button
            key={which}
            type="button"
            className={`small run-${which}`}
            disabled={!run}
            onClick={() => run && open(run)}
            title={title}
          >
            <Icon name={icon} /> {label}
          </button>
        );
      })}
    </span>
  );
}
