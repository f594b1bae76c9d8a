// A service at a glance: for the chosen range (last hour / day / week, or absolute), each
// workflow's runs, errors and duration percentiles over time. The range and the workflow are in
// the URL. Loaded with its chart library only when opened (router.tsx).
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useMemo, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { workflowStats } from '../api/endpoints.ts';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { WorkflowCharts } from '../components/WorkflowCharts.tsx';
import {
  LAST_RANGES,
  type LastRange,
  localInputToRfc3339,
  rangeFromParams,
  rangeQuery,
  rfc3339ToLocalInput,
} from '../lib/overview.ts';
import { ServiceHeader } from './ServiceHeader.tsx';
import './overview.css';

export default function OverviewPage() {
  const service = useParams().service!;
  const [params, setParams] = useSearchParams();
  const range = rangeFromParams(params);
  const chosen = params.get('workflow') ?? '';
  const stats = useQuery({
    queryKey: ['workflow-stats', service, range],
    // A relative range ends at the moment of each fetch.
    queryFn: () => workflowStats(service, rangeQuery(range, Date.now())),
    refetchInterval: 'last' in range ? 30_000 : false,
  });
  const data = stats.data;
  const xRange = useMemo<[number, number] | null>(
    () => (data ? [Date.parse(data.from) / 1000, Date.parse(data.to) / 1000] : null),
    [data],
  );
  const shown = data?.workflows.filter((w) => chosen === '' || w.workflow === chosen) ?? [];

  const update = (change: (next: URLSearchParams) => void) => {
    const next = new URLSearchParams(params);
    change(next);
    setParams(next, { replace: true });
  };
  const setLast = (last: LastRange) =>
    update((next) => {
      next.set('last', last);
      next.delete('from');
      next.delete('to');
    });

  return (
    <div className="page">
      <ServiceHeader service={service}>
        <div className="head-controls overview-controls">
          <fieldset className="segmented" aria-label="Time range">
            {(Object.keys(LAST_RANGES) as LastRange[]).map((last) => (
              <button
                key={last}
                type="button"
                aria-pressed={'last' in range && range.last === last}
                onClick={() => setLast(last)}
              >
                Last {last}
              </button>
            ))}
          </fieldset>
          <AbsoluteRange
            key={'from' in range ? `${range.from}/${range.to}` : 'relative'}
            initial={'from' in range ? range : null}
            onApply={(from, to) =>
              update((next) => {
                next.delete('last');
                next.set('from', from);
                next.set('to', to);
              })
            }
          />
          <label>
            Workflow{' '}
            <select
              value={chosen}
              onChange={(e) =>
                update((next) =>
                  e.target.value ? next.set('workflow', e.target.value) : next.delete('workflow'),
                )
              }
            >
              <option value="">All workflows</option>
              {data?.workflows.map((w) => (
                <option key={w.workflow} value={w.workflow}>
                  {w.workflow || '(unnamed)'}
                </option>
              ))}
              {chosen !== '' && !data?.workflows.some((w) => w.workflow === chosen) && (
                <option value={chosen}>{chosen}</option>
              )}
            </select>
          </label>
        </div>
      </ServiceHeader>
      {stats.isLoading ? (
        <Loading label="Loading charts" />
      ) : stats.error ? (
        <ErrorNotice error={stats.error} retry={() => void stats.refetch()} />
      ) : shown.length === 0 || !data || !xRange ? (
        <EmptyState title="No workflow runs in this range">
          <p className="muted">Choose a longer range, or another workflow.</p>
        </EmptyState>
      ) : (
        shown.map((w) => (
          <WorkflowCharts
            key={w.workflow}
            service={service}
            workflow={w.workflow}
            buckets={w.buckets}
            bucketSeconds={data.bucket_seconds}
            range={xRange}
          />
        ))
      )}
    </div>
  );
}

/** From / to inputs in local time, applied together. */
function AbsoluteRange({
  initial,
  onApply,
}: {
  initial: { from: string; to: string } | null;
  onApply: (from: string, to: string) => void;
}) {
  const [from, setFrom] = useState(initial ? rfc3339ToLocalInput(initial.from) : '');
  const [to, setTo] = useState(initial ? rfc3339ToLocalInput(initial.to) : '');
  const fromValue = localInputToRfc3339(from);
  const toValue = localInputToRfc3339(to);
  const valid = fromValue !== null && toValue !== null && fromValue < toValue;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (valid) onApply(fromValue, toValue);
  };
  return (
    <form className="absolute-range" onSubmit={submit}>
      <label>
        From <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label>
        To <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      </label>
      <button type="submit" disabled={!valid}>
        Apply
      </button>
    </form>
  );
}
