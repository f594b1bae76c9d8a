// Everything about one span: facts, LLM call, exceptions, events, log records, attributes.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { spanLogsQuery } from '../api/queries.ts';
import type { LogRecord, Span } from '../api/types.ts';
import { exceptionsOf, isErrorSpan, type LlmPayload, llmInfoOf } from '../lib/span_facts.ts';
import { formatDuration, nanosToMicros, parseNanos, parseTimestampMicros } from '../lib/time.ts';
import { paths } from '../paths.ts';
import { ExceptionList } from './ExceptionList.tsx';
import { JsonScalar, JsonView } from './JsonView.tsx';
import { OpenInPlayground } from './OpenInPlayground.tsx';
import { StatusBadge } from './SpanBadges.tsx';
import { Time } from './Time.tsx';

export function SpanDetails({ span, showWorkflowLink = true }: { span: Span; showWorkflowLink?: boolean }) {
  const start = parseTimestampMicros(span.start_time);
  const duration = parseTimestampMicros(span.end_time) - start;
  const exceptions = exceptionsOf(span);
  const llm = llmInfoOf(span);
  const isWorkflow = span.junjo_span_type === 'workflow' || span.junjo_span_type === 'subflow';
  // An agent has a store too: the debugger steps through its state (it has no graph).
  const debuggable = isWorkflow || span.junjo_span_type === 'agent';
  const logRecords = useQuery(spanLogsQuery(span.trace_id, span.span_id)).data ?? [];
  return (
    <article className="span-details" aria-label={`Span ${span.name}`}>
      <header className="span-details-head">
        <h2>{span.name || '(unnamed span)'}</h2>
        <div className="badges">
          {span.junjo_span_type && (
            <span className={`badge type-${span.junjo_span_type}`}>{span.junjo_span_type}</span>
          )}
          {llm && <span className="badge llm">LLM</span>}
          <StatusBadge failed={isErrorSpan(span)} />
        </div>
      </header>
      {debuggable && showWorkflowLink && (
        <p>
          <Link to={paths.workflow(span.service_name, span.trace_id, span.span_id)}>
            Open in the debugger →
          </Link>
        </p>
      )}
      <OpenInPlayground span={span} />
      {isErrorSpan(span) && span.status_message && (
        <p className="notice notice-error">{span.status_message}</p>
      )}
      <dl className="facts">
        <dt>Duration</dt>
        <dd>{formatDuration(duration)}</dd>
        <dt>Start</dt>
        <dd>
          <Time value={span.start_time} />
        </dd>
        <dt>Service</dt>
        <dd>{span.service_name}</dd>
        <dt>Kind</dt>
        <dd>{span.kind}</dd>
        <dt>Span ID</dt>
        <dd className="mono">{span.span_id}</dd>
        <dt>Parent</dt>
        <dd className="mono">{span.parent_span_id ?? '— (root)'}</dd>
        <dt>Trace</dt>
        <dd className="mono">
          <Link to={paths.trace(span.trace_id, span.span_id)}>{span.trace_id}</Link>
        </dd>
        {span.junjo_id && (
          <>
            <dt>Junjo ID</dt>
            <dd className="mono">{span.junjo_id}</dd>
          </>
        )}
        {span.junjo_wf_store_id && (
          <>
            <dt>Store ID</dt>
            <dd className="mono">{span.junjo_wf_store_id}</dd>
          </>
        )}
      </dl>

      {llm && (
        <section>
          <h3>LLM call</h3>
          <dl className="facts">
            {llm.provider && (
              <>
                <dt>Provider</dt>
                <dd>{llm.provider}</dd>
              </>
            )}
            {llm.model && (
              <>
                <dt>Model</dt>
                <dd>{llm.model}</dd>
              </>
            )}
            {llm.tokens && (
              <>
                <dt>Tokens</dt>
                <dd>
                  <span title="prompt / input">{llm.tokens.prompt ?? '?'} in</span> ·{' '}
                  <span title="completion / output">{llm.tokens.completion ?? '?'} out</span> ·{' '}
                  <strong>{llm.tokens.total ?? '?'} total</strong>
                </dd>
              </>
            )}
          </dl>
          <LlmBlock title="Input" payload={llm.input} />
          <LlmBlock title="Output" payload={llm.output} />
          {llm.invocationParameters !== undefined && (
            <>
              <h4>Invocation parameters</h4>
              <JsonView value={llm.invocationParameters} toolbar={false} />
            </>
          )}
        </section>
      )}

      {exceptions.length > 0 && (
        <section>
          <h3>Exceptions</h3>
          <ExceptionList exceptions={exceptions} />
        </section>
      )}

      <section>
        <h3>Attributes</h3>
        {Object.keys(span.attributes_json).length === 0 ? (
          <p className="muted">No attributes.</p>
        ) : (
          <JsonView value={span.attributes_json} initialDepth={1} />
        )}
      </section>

      {span.events_json.length > 0 && (
        <section>
          <h3>Events ({span.events_json.length})</h3>
          <ol className="events">
            {span.events_json.map((event, i) => {
              const nanos = parseNanos(event.timeUnixNano);
              const offset = nanos === null ? null : nanosToMicros(nanos) - start;
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: span events have no identity besides their position
                <li key={i}>
                  <details>
                    <summary>
                      <span className="event-name">{event.name}</span>
                      {offset !== null && <span className="muted"> +{formatDuration(offset)}</span>}
                    </summary>
                    <JsonView value={event.attributes} initialDepth={1} toolbar={false} />
                  </details>
                </li>
              );
            })}
          </ol>
        </section>
      )}

      {logRecords.length > 0 && <LogRecords records={logRecords} spanStart={start} />}

      {isWorkflow && (
        <section>
          <h3>Workflow state</h3>
          <details>
            <summary>State at start</summary>
            <JsonView value={span.junjo_wf_state_start} />
          </details>
          <details>
            <summary>State at end</summary>
            <JsonView value={span.junjo_wf_state_end} />
          </details>
        </section>
      )}

      {span.links_json.length > 0 && (
        <section>
          <h3>Links</h3>
          <JsonView value={span.links_json} initialDepth={1} toolbar={false} />
        </section>
      )}
    </article>
  );
}

/** OTLP log records exported with the span's ids, e.g. the GenAI prompt and completion events. */
function LogRecords({ records, spanStart }: { records: LogRecord[]; spanStart: number }) {
  return (
    <section aria-label="Log records">
      <h3>Log records ({records.length})</h3>
      <ol className="events">
        {records.map((record, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed and ordered by time
          <li key={i}>
            <details open={records.length <= 5}>
              <summary>
                <span className="event-name">
                  {record.event_name || record.severity_text || '(log record)'}
                </span>
                <span className="muted">
                  {' '}
                  +{formatDuration(parseTimestampMicros(record.time) - spanStart)}
                </span>
              </summary>
              <JsonView value={record.body} initialDepth={2} toolbar={false} />
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}

function LlmBlock({ title, payload }: { title: string; payload: LlmPayload | null }) {
  if (!payload) return null;
  return (
    <div className="llm-block">
      <h4>{title}</h4>
      {payload.json ? (
        <JsonView value={payload.value} initialDepth={3} />
      ) : typeof payload.value === 'string' ? (
        <pre className="llm-text">{payload.value}</pre>
      ) : (
        <JsonScalar value={payload.value} />
      )}
    </div>
  );
}
