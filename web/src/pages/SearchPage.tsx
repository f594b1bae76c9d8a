// Trace search: spans of a service by name, type, status, duration, time range, attribute filters
// and free text. The whole search lives in the URL (lib/search_url.ts), so it can be bookmarked and
// shared; each result links to its trace with the span selected.
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useCallback, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { listServices, type Page, searchSpans } from '../api/endpoints.ts';
import type { SearchResult } from '../api/types.ts';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { usePagedSpans } from '../hooks/usePagedSpans.ts';
import {
  attrsFromLines,
  formFromParams,
  LAST_RANGES,
  localInputToRfc3339,
  paramsFromForm,
  rfc3339ToLocalInput,
  type SearchForm,
  searchApiQuery,
} from '../lib/search_url.ts';
import { isErrorSpan } from '../lib/span_facts.ts';
import { formatDuration, parseTimestampMicros } from '../lib/time.ts';
import { paths } from '../paths.ts';
import { LoadOlder } from './LoadOlder.tsx';

const SPAN_TYPES = ['workflow', 'subflow', 'node', 'run_concurrent', 'agent'];
const LAST_LABELS: Record<(typeof LAST_RANGES)[number], string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
};

const duration = (start: string, end: string) =>
  formatDuration(parseTimestampMicros(end) - parseTimestampMicros(start));

export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const form = formFromParams(params);
  const apiQuery = useMemo(() => searchApiQuery(params), [params]);
  const services = useQuery({ queryKey: ['services'], queryFn: listServices });
  // The URL's service is an option from the start, so the selection survives the list's arrival.
  const serviceNames = [
    ...new Set([form.service, ...(services.data ?? []).map((s) => s.service_name)].filter(Boolean)),
  ].sort();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '');
    const range = text('range');
    const next: SearchForm = {
      service: text('service'),
      name: text('name'),
      type: text('type'),
      errorsOnly: data.get('errors') === 'on',
      minMs: text('min_ms'),
      maxMs: text('max_ms'),
      range:
        range === 'custom'
          ? { from: localInputToRfc3339(text('from')), to: localInputToRfc3339(text('to')) }
          : { last: LAST_RANGES.find((last) => last === range) ?? '24h' },
      attrs: attrsFromLines(text('attrs')),
      q: text('q'),
    };
    setParams(paramsFromForm(next));
  };

  // The form is keyed by the URL so that back/forward and shared links refill it.
  const formKey = params.toString();
  return (
    <div className="page">
      <div className="page-head">
        <div className="page-head-row">
          <h1>Search</h1>
        </div>
      </div>
      <form key={formKey} className="search-form" onSubmit={submit} aria-label="Trace search">
        <label>
          Service
          <select name="service" defaultValue={form.service} required>
            <option value="">Choose a service</option>
            {serviceNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Span name
          <input name="name" type="text" defaultValue={form.name} placeholder="exact name" />
        </label>
        <label>
          Span type
          <select name="type" defaultValue={form.type}>
            <option value="">Any</option>
            {SPAN_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Min ms
          <input name="min_ms" type="number" min="0" step="any" defaultValue={form.minMs} />
        </label>
        <label>
          Max ms
          <input name="max_ms" type="number" min="0" step="any" defaultValue={form.maxMs} />
        </label>
        <label>
          Time range
          <select name="range" defaultValue={'last' in form.range ? form.range.last : 'custom'}>
            {LAST_RANGES.map((last) => (
              <option key={last} value={last}>
                {LAST_LABELS[last]}
              </option>
            ))}
            <option value="custom">From / to</option>
          </select>
        </label>
        <label>
          From
          <input
            name="from"
            type="datetime-local"
            defaultValue={'from' in form.range ? rfc3339ToLocalInput(form.range.from) : ''}
          />
        </label>
        <label>
          To
          <input
            name="to"
            type="datetime-local"
            defaultValue={'to' in form.range ? rfc3339ToLocalInput(form.range.to) : ''}
          />
        </label>
        <label className="switch">
          <input name="errors" type="checkbox" defaultChecked={form.errorsOnly} />
          Errors only
        </label>
        <label className="search-wide">
          Attribute filters, one per line
          <textarea
            name="attrs"
            rows={3}
            defaultValue={form.attrs.join('\n')}
            placeholder={'llm.model_name = gpt-4o\nllm.token_count.total > 1000\nuser.id exists'}
          />
        </label>
        <label className="search-wide">
          Text in names and attribute values
          <input name="q" type="search" defaultValue={form.q} />
        </label>
        <div className="search-wide">
          <button type="submit" className="primary">
            Search
          </button>{' '}
          <span className="muted small-text">
            Operators: <code>=</code> <code>!=</code> <code>exists</code> <code>&lt;</code> <code>&gt;</code>{' '}
            <code>between a and b</code> <code>contains</code>
          </span>
        </div>
      </form>
      {form.service ? <SearchResults query={apiQuery} /> : <EmptyState title="Choose a service to search" />}
    </div>
  );
}

function SearchResults({ query }: { query: URLSearchParams }) {
  const key = query.toString();
  const fetchPage = useCallback((page: Page) => searchSpans(new URLSearchParams(key), page), [key]);
  const results = usePagedSpans<SearchResult>(['search', key], fetchPage, false);
  if (results.isLoading) return <Loading label="Searching" />;
  if (results.error) return <ErrorNotice error={results.error} retry={results.refetch} />;
  if (results.items.length === 0) {
    return (
      <EmptyState title="No matching spans">
        <p className="muted">Widen the time range or remove a filter.</p>
      </EmptyState>
    );
  }
  return (
    <>
      <table className="table search-results">
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Trace</th>
            <th scope="col">Started</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {results.items.map((span) => {
            const failed = isErrorSpan(span);
            const root = span.trace_root;
            return (
              <tr key={`${span.trace_id}:${span.span_id}`} className={failed ? 'row-error' : undefined}>
                <th scope="row">
                  <Link to={paths.trace(span.trace_id, span.span_id)} className="strong-link">
                    {span.name || '(unnamed span)'}
                  </Link>
                </th>
                <td>
                  <Link to={paths.trace(span.trace_id)}>
                    {root ? (
                      root.name || '(unnamed root)'
                    ) : (
                      <span className="mono">{span.trace_id.slice(0, 12)}…</span>
                    )}
                  </Link>
                  {root && (
                    <span className="muted small-text">
                      {' '}
                      {root.service_name} · {duration(root.start_time, root.end_time)}
                    </span>
                  )}
                </td>
                <td>
                  <Time value={span.start_time} />
                </td>
                <td className="num">{duration(span.start_time, span.end_time)}</td>
                <td>
                  {span.junjo_span_type ? (
                    <span className={`badge type-${span.junjo_span_type}`}>{span.junjo_span_type}</span>
                  ) : (
                    <span className="muted">{span.kind.toLowerCase()}</span>
                  )}
                </td>
                <td>
                  {failed ? <span className="badge error">error</span> : <span className="badge ok">ok</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <LoadOlder list={results} noun="spans" />
    </>
  );
}
