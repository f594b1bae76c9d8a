// The tabs under the graph: what the current state step did, and the span in focus. The run holds
// compact spans; the focused span's attributes and events are fetched for the tabs that show them.
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { spanQuery } from '../../api/queries.ts';
import type { CompactSpan } from '../../api/types.ts';
import { type Change, diffStates, toPointer } from '../../lib/diff.ts';
import { type ExceptionInfo, exceptionsOf } from '../../lib/span_facts.ts';
import type { StateReplay, StateStep, StoreReplay } from '../../lib/state.ts';
import { formatDuration, nanosToMicros, parseTimestampMicros } from '../../lib/time.ts';
import { CodeBlock } from '../CodeBlock.tsx';
import { ExceptionList } from '../ExceptionList.tsx';
import { type Highlight, JsonView } from '../JsonView.tsx';
import { OpenedSpanDetails } from '../OpenedSpanDetails.tsx';
import { Loading } from '../status.tsx';
import { ChangeList } from './ChangeList.tsx';

const TABS = [
  { id: 'changes', label: 'Changes' },
  { id: 'before', label: 'Before' },
  { id: 'after', label: 'After' },
  { id: 'patch', label: 'Patch' },
  { id: 'exceptions', label: 'Exceptions' },
  { id: 'span', label: 'Span details' },
] as const;
export type TabId = (typeof TABS)[number]['id'];

export function isTab(value: string | null): value is TabId {
  return TABS.some((t) => t.id === value);
}

export function StepDetails(props: {
  tab: TabId;
  onTab(tab: TabId): void;
  step: StateStep | undefined;
  replay: StateReplay;
  store: StoreReplay | undefined;
  workflow: CompactSpan;
  focusSpan: CompactSpan;
  errorSpans: CompactSpan[];
  onFocusSpan(spanId: string): void;
}) {
  const { tab, step, focusSpan } = props;
  const snapshot = useMemo(() => (step ? props.replay.snapshot(step.index) : null), [step, props.replay]);
  const changes = useMemo(() => (snapshot ? diffStates(snapshot.before, snapshot.after) : []), [snapshot]);
  const highlights = useMemo(
    () => ({ before: highlightOf(changes, 'before'), after: highlightOf(changes, 'after') }),
    [changes],
  );
  // Only a span with exceptions needs its events before its tab is opened, for the count.
  const focused = useQuery({
    ...spanQuery(focusSpan.trace_id, focusSpan.span_id),
    enabled: focusSpan.has_exception,
  });
  const exceptionCount = focused.data ? exceptionsOf(focused.data).length : 0;
  return (
    <section className="step-details" aria-label="Step details">
      <div className="tabs" role="tablist" aria-label="Step views">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === tab}
            aria-controls="step-panel"
            className={t.id === 'exceptions' && focusSpan.has_exception ? 'tab-alert' : undefined}
            onClick={() => props.onTab(t.id)}
          >
            {t.label}
            {t.id === 'changes' && step && !step.noop && !step.error ? ` (${changes.length})` : ''}
            {t.id === 'exceptions' && exceptionCount > 0 ? ` (${exceptionCount})` : ''}
          </button>
        ))}
      </div>
      <div id="step-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="step-panel">
        {tab === 'span' ? (
          <OpenedSpanDetails
            key={focusSpan.span_id}
            traceId={focusSpan.trace_id}
            spanId={focusSpan.span_id}
            showWorkflowLink={focusSpan.span_id !== props.workflow.span_id}
          />
        ) : tab === 'exceptions' ? (
          <ExceptionsTab
            focusSpan={focusSpan}
            exceptions={focusSpan.has_exception ? (focused.data ? exceptionsOf(focused.data) : null) : []}
            errorSpans={props.errorSpans}
            onFocusSpan={props.onFocusSpan}
          />
        ) : !step ? (
          <p className="muted">This run made no state updates, so there is no step to show.</p>
        ) : (
          <>
            <StepSummary step={step} store={props.store} workflow={props.workflow} />
            {tab === 'changes' && (step.noop || step.error ? null : <ChangeList changes={changes} />)}
            {tab === 'before' && <JsonView value={snapshot?.before} highlight={highlights.before} />}
            {tab === 'after' && <JsonView value={snapshot?.after} highlight={highlights.after} />}
            {tab === 'patch' && <PatchTab step={step} />}
          </>
        )}
      </div>
    </section>
  );
}

function StepSummary({
  step,
  store,
  workflow,
}: {
  step: StateStep;
  store: StoreReplay | undefined;
  workflow: CompactSpan;
}) {
  const offset = nanosToMicros(step.event.timeNanos) - parseTimestampMicros(workflow.start_time);
  return (
    <>
      <p className="step-summary">
        <strong>{step.event.action}</strong> on <strong>{step.event.storeName}</strong>
        {store && store.stepCount > 1 && (
          <span className="muted">
            {' '}
            (update {step.storeStep + 1} of {store.stepCount} to this store)
          </span>
        )}
        <span className="muted"> · +{formatDuration(offset)}</span>
        {step.event.sequence !== null && <span className="muted"> · sequence {step.event.sequence}</span>}
      </p>
      {step.error && (
        <p className="notice notice-error" role="alert">
          This patch could not be applied ({step.error}). The state is shown unchanged from here on for this
          store.
        </p>
      )}
      {step.noop && (
        <p className="notice">
          No change: the store was set to the values it already had (the SDK sent an empty patch).
        </p>
      )}
    </>
  );
}

function PatchTab({ step }: { step: StateStep }) {
  const raw = step.event.rawPatch;
  const pretty = typeof raw === 'string' ? prettyJson(raw) : JSON.stringify(raw, null, 2);
  return (
    <>
      {step.ops.length > 0 && (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">op</th>
              <th scope="col">path</th>
              <th scope="col">value / from</th>
            </tr>
          </thead>
          <tbody>
            {step.ops.map((op, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: operations have no identity besides their position
              <tr key={i}>
                <td>
                  <span className={`badge op-${op.op}`}>{op.op}</span>
                </td>
                <td>
                  <code>{op.path || '""'}</code>
                </td>
                <td>
                  <code>
                    {'value' in op ? JSON.stringify(op.value) : 'from' in op ? `from ${op.from}` : ''}
                  </code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>As sent (junjo.state_json_patch)</h4>
      <CodeBlock code={pretty ?? String(raw)} />
    </>
  );
}

function ExceptionsTab(props: {
  focusSpan: CompactSpan;
  /** null while the focused span's events are being fetched */
  exceptions: ExceptionInfo[] | null;
  errorSpans: CompactSpan[];
  onFocusSpan(id: string): void;
}) {
  const { exceptions } = props;
  const others = props.errorSpans.filter((s) => s.span_id !== props.focusSpan.span_id);
  return (
    <>
      <h3>{props.focusSpan.name}</h3>
      {exceptions === null ? (
        <Loading label="Loading exceptions" />
      ) : exceptions.length > 0 ? (
        <ExceptionList exceptions={exceptions} />
      ) : (
        <p className="muted">No exceptions were recorded on this span.</p>
      )}
      {others.length > 0 && (
        <>
          <h4>Other failed spans in this run</h4>
          <ul className="plain-list">
            {others.map((span) => (
              <li key={span.span_id}>
                <button type="button" className="link" onClick={() => props.onFocusSpan(span.span_id)}>
                  {span.name}
                </button>
                {span.status_message && <span className="muted"> — {span.status_message}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function highlightOf(changes: Change[], side: 'before' | 'after'): Highlight {
  const map = new Map<string, Change['kind']>();
  for (const change of changes) {
    if (side === 'before' && change.kind === 'added') continue;
    if (side === 'after' && (change.kind === 'removed' || change.kind === 'moved')) continue;
    map.set(toPointer(change.path), change.kind);
  }
  return map;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
